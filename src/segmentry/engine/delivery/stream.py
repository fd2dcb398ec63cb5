"""Publishing every event of the feed to NATS JetStream.

Subject ``<prefix>.<tenant>.<kind>.<segment code>.<entered|exited>`` in stream
``SEGMENTRY`` (created if missing, subjects ``<prefix>.>``), one message per
event with ``Nats-Msg-Id`` = ``<tenant>:<event id>``. Each tenant's position (the
last event JetStream acknowledged) is stored in the database every
``checkpoint`` events: after a crash or an outage of NATS the publisher starts
again from there, and JetStream drops the few messages sent twice as
duplicates of their ids (within the stream's duplicate window, two minutes by
default). Events are published one at a time, each acknowledged before the
next, so the stream holds each subject's events in feed order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.js.client import JetStreamContext
from sqlalchemy.engine import Engine

from segmentry.engine.delivery import feed
from segmentry.engine.delivery.loop import Service, now_us, pause
from segmentry.store import webhooks as store
from segmentry.store.database import read_transaction, write_transaction

log = logging.getLogger("segmentry.delivery")
STREAM = "SEGMENTRY"
PREFIX = "segmentry"


@dataclass(frozen=True, slots=True)
class StreamSettings:
    url: str
    stream: str = STREAM
    prefix: str = PREFIX
    batch: int = 1_000
    checkpoint: int = 100
    poll_interval: float = 0.2
    reconnect_after: float = 1.0


def subject(prefix: str, tenant_id: int, event: dict[str, object]) -> str:
    return f"{prefix}.{tenant_id}.{event['kind']}.{event['segment']}.{event['change']}"


def message_id(tenant_id: int, event_id: object) -> str:
    return f"{tenant_id}:{event_id}"


class StreamPublisher(Service):
    """Publishes every tenant's events of one database to JetStream until stopped."""

    name = "segmentry-nats"

    def __init__(self, database: Engine, settings: StreamSettings) -> None:
        super().__init__()
        self.database = database
        self.settings = settings
        self.published = 0

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self._connected(stopping)
            except (OSError, TimeoutError, nats.errors.Error, nats.js.errors.Error) as exc:
                log.warning("NATS at %s: %s; trying again", self.settings.url, exc)
                await pause(stopping, self.settings.reconnect_after)

    async def _connected(self, stopping: asyncio.Event) -> None:
        client = await nats.connect(
            self.settings.url, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=0
        )
        try:
            stream = client.jetstream()
            await self._ensure_stream(stream)
            while not stopping.is_set():
                if not await self._round(stream):
                    await pause(stopping, self.settings.poll_interval)
        finally:
            await client.close()

    async def _ensure_stream(self, stream: JetStreamContext) -> None:
        try:
            await stream.stream_info(self.settings.stream)
        except nats.js.errors.NotFoundError:
            await stream.add_stream(
                name=self.settings.stream, subjects=[f"{self.settings.prefix}.>"]
            )

    async def _round(self, stream: JetStreamContext) -> bool:
        """Publish what each tenant has past its position; True if anything was."""
        behind = await asyncio.to_thread(self._behind)
        for tenant_id, position in behind.items():
            await self._publish_after(stream, tenant_id, position)
        return bool(behind)

    def _behind(self) -> dict[int, int]:
        with read_transaction(self.database) as conn:
            last = store.last_event_ids(conn)
            positions = {
                t: store.nats_position(conn, tenant_id=t, stream=self.settings.stream) for t in last
            }
        return {t: positions[t] for t in last if last[t] > positions[t]}

    async def _publish_after(self, stream: JetStreamContext, tenant_id: int, after: int) -> None:
        batch = await asyncio.to_thread(self._read, tenant_id, after)
        done = after
        for rank, event in enumerate(batch.events, start=1):
            await stream.publish(
                subject(self.settings.prefix, tenant_id, event),
                orjson.dumps({"tenant": tenant_id, **event}),
                stream=self.settings.stream,
                headers={"Nats-Msg-Id": message_id(tenant_id, event["id"])},
            )
            self.published += 1
            done = int(str(event["id"]))
            if rank % self.settings.checkpoint == 0:
                await asyncio.to_thread(self._store, tenant_id, done)
        await asyncio.to_thread(self._store, tenant_id, max(done, batch.through))

    def _read(self, tenant_id: int, after: int) -> feed.Batch:
        with read_transaction(self.database) as conn:
            return feed.read(
                conn,
                tenant_id=tenant_id,
                after=after,
                wanted=feed.EVERYTHING,
                limit=self.settings.batch,
            )

    def _store(self, tenant_id: int, position: int) -> None:
        with write_transaction(self.database) as conn:
            store.set_nats_position(
                conn,
                tenant_id=tenant_id,
                stream=self.settings.stream,
                position=position,
                now=now_us(),
            )
