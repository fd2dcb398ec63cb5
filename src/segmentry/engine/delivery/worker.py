"""The delivery worker: claims due webhooks, posts their batches, records each attempt.

It runs an asyncio loop in a thread of its own (inside ``segmentry serve``, or
alone in ``segmentry deliver``). Database work runs in worker threads, the
HTTP exchanges on the loop; at most ``concurrency`` webhooks are served at
once, each by one task holding the webhook's lease, so one webhook has one
delivery in flight in all the processes that share the database. A write
never waits for any of this: the worker only reads the feed.

A webhook's position moves only after its receiver answered 2xx, so a crash
sends again at most the batch that was in flight.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine

from segmentry.engine.delivery import feed, sender, settling, signing
from segmentry.engine.delivery.feed import Filter
from segmentry.engine.delivery.loop import Service, now_us, pause
from segmentry.engine.delivery.recent import RecentBatches, TickHeads
from segmentry.engine.delivery.sender import Outcome
from segmentry.engine.delivery.settling import Settlement
from segmentry.store import webhooks as store
from segmentry.store.database import read_transaction, single_reads, write_transaction
from segmentry.store.webhooks import DeliveryRow, WebhookRow

log = logging.getLogger("segmentry.delivery")
SETTLE_GATHER_S = 0.005
Key = tuple[int, str]


class Step(enum.Enum):
    MORE = "the feed was read as far as one batch goes: more may be waiting"
    SENT = "a batch was delivered"
    IDLE = "nothing to send"
    STOP = "a failure, or the webhook is no longer ours to send"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How deliveries run; the defaults are the contract (SPEC §9), tests shorten them."""

    allow_private: bool = False
    concurrency: int = 64
    poll_interval: float = 0.4  # also the tick that spaces the batches of a webhook
    hold: float = 1.0  # a webhook with nothing to send keeps its lease this long
    timeout: float = 10.0
    retry_base: float = 5.0  # the first retry's delay, doubled at each failure
    retry_cap: float = 3_600.0
    retry_window: float = 24 * 3_600.0  # failing this long disables the webhook
    lease: float = 60.0
    batch_size: int = 100
    batches_per_claim: int = 50  # then the lease is given back, for fairness
    body_cap: int = 4_096


def wanted(row: WebhookRow) -> Filter:
    return Filter(
        frozenset(row.segments) if row.segments is not None else None,
        frozenset(row.kinds),
        frozenset(row.changes),
    )


def signing_secrets(row: WebhookRow, now: int) -> list[str]:
    live = [row.secret]
    if row.previous_secret and row.previous_until and row.previous_until > now:
        live.append(row.previous_secret)
    return live


class WebhookWorker(Service):
    """Delivers every enabled webhook of every tenant of one database."""

    name = "segmentry-webhooks"

    def __init__(self, database: Engine, settings: DeliverySettings | None = None) -> None:
        super().__init__()
        self.database = database
        self.settings = settings or DeliverySettings()
        self.owner = "w_" + secrets.token_hex(8)
        self.sent: Callable[[WebhookRow, list[dict[str, object]], Outcome], None] | None = None
        self._settling: list[tuple[Settlement, asyncio.Future[bool]]] = []
        self._recent = RecentBatches()
        self._heads = TickHeads(database, self.settings.poll_interval)
        self._settler: asyncio.Task[None] | None = None
        self._posting: set[Key] = set()  # webhooks whose batch is being sent or recorded
        self._winding_down = False

    async def run(self, stopping: asyncio.Event) -> None:
        active: dict[Key, asyncio.Task[None]] = {}
        wake = asyncio.Event()
        tls = sender.tls_context()
        while not stopping.is_set():
            free = self.settings.concurrency - len(active)
            if free > 0:
                for row in await self._claim(free, set(active)):
                    key = (row.tenant_id, row.webhook_id)
                    task = asyncio.create_task(self._serve(tls, row))
                    active[key] = task
                    task.add_done_callback(self._forget(active, key, wake))
            wake.clear()
            await pause(stopping, self.settings.poll_interval, wake)
        await self._wind_down(dict(active))

    async def _wind_down(self, active: dict[Key, asyncio.Task[None]]) -> None:
        """Stop serving: a delivery in flight is let finish (within its timeout) and is
        recorded, since its receiver may already have it; the others stop at once."""
        self._winding_down = True
        for key, task in active.items():
            if key not in self._posting:
                task.cancel()
        if active:
            await asyncio.wait(active.values(), timeout=self.settings.timeout + 1)
        for task in active.values():
            task.cancel()
        await asyncio.gather(*active.values(), return_exceptions=True)

    @staticmethod
    def _forget(
        active: dict[Key, asyncio.Task[None]], key: Key, wake: asyncio.Event
    ) -> Callable[[asyncio.Task[None]], None]:
        def done(_task: asyncio.Task[None]) -> None:
            active.pop(key, None)
            wake.set()  # a slot is free: claim again without waiting for the tick

        return done

    async def _claim(self, limit: int, skip: set[Key]) -> list[WebhookRow]:
        def claim() -> list[WebhookRow]:
            now = now_us()
            # Most ticks find nothing due: finding that out takes no write lock.
            with read_transaction(self.database) as conn:
                if not store.due(conn, now=now, limit=limit, skip=skip):
                    return []
            with write_transaction(self.database) as conn:
                return store.claim(
                    conn,
                    owner=self.owner,
                    now=now,
                    until=now + int(self.settings.lease * 1e6),
                    limit=limit,
                    skip=skip,
                )

        try:
            return await asyncio.to_thread(claim)
        except Exception:  # the database is away: try again at the next tick
            log.exception("claiming webhooks failed")
            return []

    async def _serve(self, tls: ssl.SSLContext, row: WebhookRow) -> None:
        """Deliver while there is something to send; a webhook that has nothing keeps its
        lease a moment (``hold``), so a steady trickle of events is not a claim and a
        release, two more write transactions, per batch."""
        try:
            async with sender.client(self.settings.timeout, tls) as http:
                await self._deliver_while_held(http, row)
        except asyncio.CancelledError:
            raise
        except Exception:  # one webhook's failure must not stop the others
            log.exception("delivering webhook %s failed", row.webhook_id)
        finally:
            # What was delivered is recorded before the lease goes back, also when the
            # worker is stopping: else the position stays behind and the batch is sent
            # again by the next holder.
            if self._settler is not None:
                await asyncio.wait([self._settler])
            await asyncio.shield(asyncio.to_thread(self._release, row))

    async def _deliver_while_held(self, http: httpx.AsyncClient, row: WebhookRow) -> None:
        lease_until = time.monotonic() + self.settings.lease
        sent, idle_since = 0, time.monotonic()
        while sent < self.settings.batches_per_claim:
            step = await self._deliver_one(http, row)
            now = time.monotonic()
            if step is Step.STOP or self._winding_down:
                break
            if step is not Step.IDLE:
                sent, idle_since, lease_until = sent + 1, now, now + self.settings.lease
                if step is Step.MORE:
                    continue
            elif now - idle_since >= self.settings.hold:
                break
            elif lease_until - now < self.settings.lease / 2:
                if not await asyncio.to_thread(self._renew, row):
                    break
                lease_until = now + self.settings.lease
            await asyncio.sleep(self._until_tick())

    def _until_tick(self) -> float:
        """Seconds to the next tick of a clock all webhooks share. A webhook that sent
        what there was waits for it rather than reading again at once: the events of
        the writes meanwhile go out together, one batch instead of many, and webhooks
        at the same position read and serialise it once (``RecentBatches``)."""
        interval = self.settings.poll_interval
        return interval - time.monotonic() % interval

    def _renew(self, row: WebhookRow) -> bool:
        with write_transaction(self.database) as conn:
            return store.renew(
                conn,
                tenant_id=row.tenant_id,
                webhook_id=row.webhook_id,
                owner=self.owner,
                until=now_us() + int(self.settings.lease * 1e6),
            )

    def _release(self, row: WebhookRow) -> None:
        # Old attempts are pruned here, once a lease (at most ``batches_per_claim``
        # attempts), rather than by another statement in every attempt's transaction.
        with write_transaction(self.database) as conn:
            store.release(
                conn, tenant_id=row.tenant_id, webhook_id=row.webhook_id, owner=self.owner
            )
            store.prune_deliveries(
                conn, tenant_id=row.tenant_id, webhook_id=row.webhook_id, now=now_us()
            )

    async def _deliver_one(self, http: httpx.AsyncClient, claimed: WebhookRow) -> Step:
        """Send the next batch, if there is one."""
        found = await asyncio.to_thread(self._next_batch, claimed)
        if found is None:
            return Step.STOP
        row, batch = found
        if not batch.events:
            if batch.through > row.position:
                await asyncio.to_thread(self._settle_skipped, row, batch.through)
            return Step.MORE if batch.more else Step.IDLE
        body = batch.body()
        first, last = batch.events[0]["id"], batch.events[-1]["id"]
        message_id = f"msg_{row.webhook_id}_{first}_{last}"
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "segmentry-webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signing.signature_header(
                signing_secrets(row, now_us()), message_id, stamp, body
            ),
        }
        key = (row.tenant_id, row.webhook_id)
        self._posting.add(key)
        try:
            return await self._post(http, row, batch, body, headers)
        finally:
            self._posting.discard(key)

    async def _post(
        self,
        http: httpx.AsyncClient,
        row: WebhookRow,
        batch: feed.Batch,
        body: bytes,
        headers: dict[str, str],
    ) -> Step:
        """Send the batch and record the attempt."""
        first, last = batch.events[0]["id"], batch.events[-1]["id"]
        started = now_us()
        outcome = await sender.post(
            http,
            row.url,
            body,
            headers,
            timeout=self.settings.timeout,
            body_cap=self.settings.body_cap,
            allow_private=self.settings.allow_private,
        )
        attempt = DeliveryRow(
            "d_" + secrets.token_hex(10),
            started,
            headers["webhook-id"],
            int(str(first)),
            int(str(last)),
            len(batch.events),
            outcome.status,
            outcome.duration_us,
            outcome.error,
        )
        kept = await self._settle(Settlement(row, batch.through, attempt, outcome))
        if self.sent is not None:
            self.sent(row, batch.events, outcome)
        if not (kept and outcome.ok):
            return Step.STOP
        return Step.MORE if batch.more else Step.SENT

    def _next_batch(self, claimed: WebhookRow) -> tuple[WebhookRow, feed.Batch] | None:
        """The webhook's row as it is now, and the batch after its position. The two need
        no common snapshot: the read stops at the tick's head, and the feed up to a
        committed head never changes; so the row is one read of its own, and the feed,
        most often already read for another webhook at this position, is read in a
        transaction only when it is not."""
        head = self._heads.head(claimed.tenant_id)
        with single_reads(self.database) as conn:
            row = store.get(conn, tenant_id=claimed.tenant_id, webhook_id=claimed.webhook_id)
        if row is None or not row.enabled or row.lease_owner != self.owner:
            return None
        key = (row.tenant_id, row.position, wanted(row), head)

        def read() -> feed.Batch:
            with read_transaction(self.database) as conn:
                return feed.read(
                    conn,
                    tenant_id=row.tenant_id,
                    after=row.position,
                    wanted=key[2],
                    limit=self.settings.batch_size,
                    upto=head,
                )

        return row, self._recent.read_once(key, read)

    def _settle_skipped(self, row: WebhookRow, through: int) -> None:
        if through > row.position:
            with write_transaction(self.database) as conn:
                store.settle(
                    conn,
                    tenant_id=row.tenant_id,
                    webhook_id=row.webhook_id,
                    owner=self.owner,
                    generation=row.generation,
                    position=through,
                )

    async def _settle(self, settlement: Settlement) -> bool:
        """Record an attempt and its consequence; False if the lease was lost meanwhile.

        Attempts that end while another group is being written are written together,
        in one transaction: twenty webhooks told of the same write would otherwise take
        the database's write lock twenty times, beside the shop's own writes."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._settling.append((settlement, done))
        if self._settler is None:
            self._settler = asyncio.create_task(self._settle_waiting())
        return await done

    async def _settle_waiting(self) -> None:
        try:
            # The webhooks of one tick post to their receivers at once and finish within
            # moments of each other: a short wait writes them in one transaction.
            await asyncio.sleep(SETTLE_GATHER_S)
            while self._settling:
                group, self._settling = self._settling, []
                try:
                    kept = await asyncio.to_thread(self._settle_group, [s for s, _ in group])
                except Exception as exc:  # noqa: BLE001 - handed to each waiting delivery
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for (_, done), result in zip(group, kept, strict=True):
                    if not done.done():
                        done.set_result(result)
        finally:
            self._settler = None

    def _settle_group(self, group: list[Settlement]) -> list[bool]:
        with write_transaction(self.database) as conn:
            return settling.write(
                conn, group, owner=self.owner, settings=self.settings, now=now_us()
            )
