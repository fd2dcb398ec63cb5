"""Reading the event feed for a reader that filters it: a webhook's batch, or the
NATS publisher's next events.

The feed's ids are taken under the tenant's write lock and committed in
order, so every event up to the highest id a reader sees is visible to it:
a position moved past events that did not match skips nothing.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from segmentry.model.schema import Kind
from segmentry.model.temporal import from_micros
from segmentry.store import entities as entity_store
from segmentry.store import events as event_store

SCAN_LIMIT = 20_000
"""Events looked at per read: a webhook whose segments are quiet in a busy feed moves
its position this far at a time instead of reading the whole feed at once."""


@dataclass(frozen=True, slots=True)
class Filter:
    seg_ids: frozenset[int] | None  # None: every segment
    kinds: frozenset[str]
    changes: frozenset[str]

    def matches(self, block: event_store.Block) -> bool:
        return (
            (self.seg_ids is None or block.seg_id in self.seg_ids)
            and block.kind in self.kinds
            and block.change in self.changes
        )


EVERYTHING = Filter(None, frozenset(k.value for k in Kind), frozenset({"entered", "exited"}))


@dataclass(slots=True)
class Batch:
    """Matching events after a position, and how far the feed was read (``through``:
    the position to store once the events are delivered); ``more``: the read stopped
    at its limit, not at the end of the feed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    through: int = 0
    more: bool = False
    _body: bytes | None = None

    def body(self) -> bytes:
        """The POST body ``{"events": [...]}``, serialised once however many send it."""
        if self._body is None:
            self._body = orjson.dumps({"events": self.events})
        return self._body


def read(
    conn: Connection,
    *,
    tenant_id: int,
    after: int,
    wanted: Filter,
    limit: int,
    upto: int | None = None,
) -> Batch:
    """The batch after ``after``; with ``upto``, events past it are left for a later read
    (it must be an id committed before ``conn``'s snapshot was taken)."""
    batch = Batch(through=after)
    picked: list[tuple[event_store.Block, int, int]] = []  # (block, event id, seq)
    scanned = 0
    last = upto if upto is not None else math.inf
    for block in event_store.blocks_after(conn, tenant_id=tenant_id, after=after):
        if block.first_id > last or after >= last:
            break
        skip = max(0, after - block.first_id + 1)
        end = int(min(len(block.members), last - block.first_id + 1))
        if not wanted.matches(block):
            batch.through = block.first_id + end - 1
            scanned += end - skip
        else:
            for rank in range(skip, end):
                picked.append((block, block.first_id + rank, block.members[rank]))
                batch.through = block.first_id + rank
                if len(picked) == limit:
                    break
        if len(picked) == limit or scanned >= SCAN_LIMIT:
            batch.more = True
            break
    batch.events = _named(conn, tenant_id, picked)
    return batch


def _named(
    conn: Connection, tenant_id: int, picked: Collection[tuple[event_store.Block, int, int]]
) -> list[dict[str, Any]]:
    """The events in the feed's own shape (``GET /v1/events``)."""
    by_kind: dict[str, set[int]] = {}
    for block, _, seq in picked:
        by_kind.setdefault(block.kind, set()).add(seq)
    ids = {
        kind: entity_store.ids_by_seqs(conn, tenant_id=tenant_id, kind=Kind(kind), seqs=seqs)
        for kind, seqs in by_kind.items()
    }
    return [
        {
            "id": event_id,
            "segment": block.segment_code,
            "kind": block.kind,
            "entity_id": ids[block.kind][seq],
            "change": block.change,
            "cause": block.cause,
            "at": iso(block.at),
        }
        for block, event_id, seq in picked
    ]


def iso(micros: int) -> str:
    """A moment as the API writes it (RFC 3339, UTC as ``Z``)."""
    return from_micros(micros).isoformat().replace("+00:00", "Z")
