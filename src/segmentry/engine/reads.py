"""Reads: everything answered from the kept memberships and the stored rows."""

from __future__ import annotations

from enum import Enum
from itertools import islice
from typing import Any

from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine import webhooks
from segmentry.engine.segments import get
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.types import (
    Cause,
    Change,
    Entity,
    Event,
    HistoryPoint,
    Member,
    Membership,
    Page,
    Segment,
    SegmentType,
    Status,
    Use,
    UseType,
    Version,
)
from segmentry.errors import NotFoundError, ValidationError
from segmentry.model.nesting import custom_keys
from segmentry.model.schema import Kind
from segmentry.model.temporal import from_micros
from segmentry.model.values import check_id
from segmentry.rules.printer import format_rule
from segmentry.store import entities as entity_store
from segmentry.store import events as event_store
from segmentry.store import history as history_store
from segmentry.store import members as member_store
from segmentry.store import segments as segment_store
from segmentry.store import uses as use_store
from segmentry.store.codec import chunk_of
from segmentry.store.entities import EntityRow

MAX_PAGE = 1_000


def page_size(limit: int) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE:,}", field="limit")
    return limit


def cursor_value(cursor: str | None, what: str = "cursor") -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValidationError(f"{what} {cursor!r} is not a cursor this list gave out", field=what)
    return int(cursor)


def segment_view(state: TenantState, segment: SegmentDef) -> Segment:
    row = segment.row
    return Segment(
        code=row.code,
        name=row.name,
        description=row.description,
        kind=Kind(row.kind),
        type=SegmentType(row.type),
        status=Status(row.status),
        rule_text=format_rule(segment.tree) if segment.tree is not None else None,
        rule_json=row.rule,
        version=row.version,
        member_count=len(state.members.get(row.seg_id, BitMap())),
        created_at=from_micros(row.created_at),
        updated_at=from_micros(row.updated_at),
    )


def list_segments(
    state: TenantState,
    kind: Kind | None = None,
    type_: SegmentType | None = None,
    status: Status | None = None,
) -> list[Segment]:
    chosen = [
        s
        for s in state.segments.values()
        if (kind is None or s.kind is kind)
        and (type_ is None or s.row.type == type_)
        and (status is None or s.row.status == status)
    ]
    return [segment_view(state, s) for s in sorted(chosen, key=lambda s: s.seg_id)]


def entity(conn: Connection, state: TenantState, kind: Kind, entity_id: str) -> Entity:
    return entity_of(state, kind, entity_id, _alive(conn, state, kind, entity_id).doc or {})


def entity_of(state: TenantState, kind: Kind, entity_id: str, doc: dict[str, Any]) -> Entity:
    """An entity as handed out, knowing which of its attributes are custom ones."""
    return Entity(kind, entity_id, doc, custom_keys(state.schemas[kind]))


def _alive(conn: Connection, state: TenantState, kind: Kind, entity_id: str) -> EntityRow:
    check_id(entity_id)
    rows = entity_store.rows_by_ids(conn, tenant_id=state.tenant_id, kind=kind, ids=[entity_id])
    row = rows.get(entity_id)
    if row is None or not row.alive:
        raise NotFoundError(f"{kind} {entity_id!r} does not exist")
    return row


def entities_by_ids(
    conn: Connection, state: TenantState, kind: Kind, entity_ids: list[str]
) -> list[Entity]:
    """The living entities among ``entity_ids``, in the order asked (each once)."""
    if len(entity_ids) > MAX_PAGE:
        raise ValidationError(f"at most {MAX_PAGE:,} ids at a time", field="ids")
    wanted = list(dict.fromkeys(check_id(i) for i in entity_ids))
    rows = entity_store.rows_by_ids(conn, tenant_id=state.tenant_id, kind=kind, ids=wanted)
    alive = [rows[i] for i in wanted if i in rows and rows[i].alive]
    return [entity_of(state, kind, row.id, row.doc or {}) for row in alive]


def segments_of(
    conn: Connection, state: TenantState, kind: Kind, entity_id: str
) -> list[Membership]:
    seq = _alive(conn, state, kind, entity_id).seq
    holding = [s for s in state.of_kind(kind) if seq in state.members.get(s.seg_id, BitMap())]
    keys = [(s.seg_id, chunk_of(seq)) for s in holding]
    chunks = member_store.read_chunks(conn, tenant_id=state.tenant_id, keys=keys)
    out = []
    for segment in sorted(holding, key=lambda s: s.code):
        since = chunks[(segment.seg_id, chunk_of(seq))].since_of(seq)
        assert since is not None
        out.append(Membership(segment.code, from_micros(since)))
    return out


def member_since(conn: Connection, state: TenantState, code: str, entity_id: str) -> Member | None:
    """The membership of one entity, or ``None`` when it is not a member."""
    segment = get(state, code)
    check_id(entity_id)
    rows = entity_store.rows_by_ids(
        conn, tenant_id=state.tenant_id, kind=segment.kind, ids=[entity_id]
    )
    row = rows.get(entity_id)
    if row is None or row.seq not in state.members.get(segment.seg_id, BitMap()):
        return None
    chunk = member_store.read_chunks(
        conn, tenant_id=state.tenant_id, keys=[(segment.seg_id, chunk_of(row.seq))]
    )
    since = chunk[(segment.seg_id, chunk_of(row.seq))].since_of(row.seq)
    assert since is not None
    return Member(entity_id, from_micros(since))


class Kept(Enum):
    STALE = "stale"
    """The kept state cannot answer: a write of this process is half-way through it."""


def kept_member(
    conn: Connection, state: TenantState, code: str, entity_id: str
) -> Member | Kept | None:
    """The membership of one entity read from the state kept in memory, which the
    caller found at the database's revision; ``Kept.STALE`` when a write of this
    process changed the state in the meantime. No lock is taken: a write counts its
    changes before making them, so a count unchanged from before to after the lookup,
    and equal to the count at the last commit, means nothing uncommitted was seen."""
    mark = state.mutations
    if mark != state.committed:
        return Kept.STALE
    segment = state.by_code(code)
    kept = state.members.get(segment.seg_id) if segment is not None else None
    if state.mutations != mark:
        return Kept.STALE
    if segment is None or kept is None:
        get(state, code)  # the segment's own 404
        return Kept.STALE  # pragma: no cover - get() refused it
    seq = _seq_of(conn, state, segment.kind, check_id(entity_id))
    is_member = seq is not None and seq in kept
    if state.mutations != mark:
        return Kept.STALE
    if seq is None or not is_member:
        return None
    since = member_store.since_of(
        conn, tenant_id=state.tenant_id, seg_id=segment.seg_id, seq=seq, logged=state.logged > 0
    )
    if since is None:  # it left since (a later write, of this process or another)
        return Kept.STALE
    return Member(entity_id, from_micros(since))


KEPT_SEQS = 100_000
"""Ids whose seq a tenant's state keeps per kind (then it forgets them all at once)."""


def _seq_of(conn: Connection, state: TenantState, kind: Kind, entity_id: str) -> int | None:
    known = state.seqs[kind]
    seq = known.get(entity_id)
    if seq is None:
        seq = entity_store.seq_of(conn, tenant_id=state.tenant_id, kind=kind, entity_id=entity_id)
        if seq is not None:
            if len(known) >= KEPT_SEQS:
                known.clear()
            known[entity_id] = seq
    return seq


def members(
    conn: Connection, state: TenantState, code: str, limit: int, cursor: str | None
) -> Page[Member]:
    segment = get(state, code)
    kept = state.members.get(segment.seg_id, BitMap())
    seqs = list(islice(kept.iter_equal_or_larger(cursor_value(cursor) + 1), page_size(limit) + 1))
    more = len(seqs) > limit
    seqs = seqs[:limit]
    ids = entity_store.ids_by_seqs(conn, tenant_id=state.tenant_id, kind=segment.kind, seqs=seqs)
    keys = {(segment.seg_id, chunk_of(s)) for s in seqs}
    chunks = member_store.read_chunks(conn, tenant_id=state.tenant_id, keys=keys)
    items = []
    for seq in seqs:
        since = chunks[(segment.seg_id, chunk_of(seq))].since_of(seq)
        assert since is not None
        items.append(Member(ids[seq], from_micros(since)))
    return Page(items, str(seqs[-1]) if more else None)


def events(
    conn: Connection, state: TenantState, after: str | None, limit: int, code: str | None = None
) -> Page[Event]:
    """The feed after a cursor (an event id), for one segment or all of them."""
    start, size = cursor_value(after, "after"), page_size(limit)
    seg_id = get(state, code).seg_id if code is not None else None
    picked: list[tuple[event_store.Block, int, int]] = []  # (block, event id, seq)
    for block in event_store.blocks_after(
        conn, tenant_id=state.tenant_id, after=start, seg_id=seg_id
    ):
        skip = max(0, start - block.first_id + 1)
        for rank, seq in enumerate(islice(block.members, skip, None), start=skip):
            picked.append((block, block.first_id + rank, seq))
            if len(picked) > size:
                break
        if len(picked) > size:
            break
    more = len(picked) > size
    picked = picked[:size]
    return Page(_named_events(conn, state, picked), str(picked[-1][1]) if more else None)


def _named_events(
    conn: Connection, state: TenantState, picked: list[tuple[event_store.Block, int, int]]
) -> list[Event]:
    by_kind: dict[str, set[int]] = {}
    for block, _, seq in picked:
        by_kind.setdefault(block.kind, set()).add(seq)
    ids = {
        kind: entity_store.ids_by_seqs(conn, tenant_id=state.tenant_id, kind=Kind(kind), seqs=seqs)
        for kind, seqs in by_kind.items()
    }
    return [
        Event(
            event_id,
            block.segment_code,
            Kind(block.kind),
            ids[block.kind][seq],
            Change(block.change),
            Cause(block.cause),
            from_micros(block.at),
        )
        for block, event_id, seq in picked
    ]


def history(conn: Connection, state: TenantState, code: str) -> list[HistoryPoint]:
    segment = get(state, code)
    points = history_store.points(conn, tenant_id=state.tenant_id, seg_id=segment.seg_id)
    return [HistoryPoint(from_micros(at), count) for at, count in points]


def versions(conn: Connection, state: TenantState, code: str) -> list[Version]:
    segment = get(state, code)
    rows = segment_store.versions(conn, tenant_id=state.tenant_id, seg_id=segment.seg_id)
    return [Version(v.version, from_micros(v.at), v.by_key, v.definition) for v in rows]


def uses(conn: Connection, state: TenantState, code: str) -> list[Use]:
    segment = get(state, code)
    rows = use_store.list_uses(conn, tenant_id=state.tenant_id, seg_id=segment.seg_id)
    found = [Use(u.use_id, UseType(u.type), u.name, u.url) for u in rows]
    hooks = webhooks.segment_users(conn, tenant_id=state.tenant_id, seg_id=segment.seg_id)
    return found + [
        Use(str(h["id"]), UseType.WEBHOOK, str(h["name"]), str(h["url"])) for h in hooks
    ]
