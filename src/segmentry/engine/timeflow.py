"""Time passing: keeping segments that speak of time exact without a write.

Every bound a relative time or a day word puts on a date attribute moves with
the clock. Between two sweeps at ``before`` and ``now``, a condition can only
change its answer for an entity whose value lies between the bound at
``before`` and the bound at ``now`` (for an anniversary: whose month-day it let
in at one moment and not the other, see :func:`_anniversaries_moved`): so a
sweep finds exactly those entities, re-checks them, and then re-checks them in
the segments that refer to the ones that changed. Nothing is kept per entity,
and a sweep after a long pause (or a clock jumped forward in a test) is as
exact as one a minute later.

The entities are found in the columnar snapshot, a vectorised range test over the
attribute's column, not in the database: its records are JSON that no index
covers, so each moved bound there was a scan of every entity's record, made
while holding the tenant's write lock (docs/architecture.md, Time). Segments with
the same bound share one test.
"""

from __future__ import annotations

import numpy as np
from pyroaring import BitMap

from segmentry.engine import evaluation
from segmentry.engine.state import SegmentDef
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.match.columnar import ColumnarTable, TimeColumn
from segmentry.match.eval_columnar import anniversary_mask
from segmentry.match.lowering import Anniversary, Range, lower
from segmentry.model.bitmaps import ascending_bitmap
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext, from_micros
from segmentry.store import entities as entity_store
from segmentry.store import history as history_store


def sweep(tx: Transaction, swept_at: int) -> int:
    """Bring every time-dependent segment from ``swept_at`` to ``tx.now``; returns
    how many memberships changed."""
    if tx.now_us <= swept_at:
        return 0
    before = EvalContext(from_micros(swept_at), tx.state.tz)
    changed: dict[int, BitMap] = {}
    spans: dict[Span, BitMap] = {}
    for segment in tx.state.in_dependency_order():
        if not (segment.dynamic and segment.active):
            continue
        candidates = _moved(tx, segment, before, spans)
        for code in segment.refs:
            ref = tx.state.by_code(code)
            if ref is not None:
                candidates |= changed.get(ref.seg_id, BitMap())
        if candidates:
            changed[segment.seg_id] = _recheck(tx, segment, candidates)
    tx.counters["swept_at"] = tx.now_us
    history_store.thin(tx.conn, tenant_id=tx.tenant_id, now=tx.now_us)
    return sum(len(c) for c in changed.values())


Span = tuple[Kind, str, float, float]
"""An attribute's values from one bound to the other, inclusive."""


def _moved(
    tx: Transaction, segment: SegmentDef, before: EvalContext, spans: dict[Span, BitMap]
) -> BitMap:
    """Entities whose value lies where a time-bound of the segment moved; ``spans``
    keeps the entities of each span found in this sweep."""
    schema, table = tx.state.schemas[segment.kind], tx.state.tables[segment.kind]
    moved = BitMap()
    for cond in segment.time_conditions:
        old, new = lower(cond, schema, before).test, lower(cond, schema, tx.ctx).test
        if isinstance(old, Anniversary) and isinstance(new, Anniversary):
            moved |= _anniversaries_moved(table, cond.attr, old, new)
            continue
        assert isinstance(old, Range)
        assert isinstance(new, Range)
        for a, b in ((old.low, new.low), (old.high, new.high)):
            if a is not None and b is not None and a != b:
                span = (segment.kind, cond.attr, min(a, b), max(a, b))
                if span not in spans:
                    spans[span] = table.rows_between(cond.attr, span[2], span[3])
                moved |= spans[span]
    return moved


def _anniversaries_moved(
    table: ColumnarTable, key: str, old: Anniversary, new: Anniversary
) -> BitMap:
    """Entities whose anniversary entered or left the condition's days: their month-day
    is one of the old test's or the new one's, not both. Both are worked out for their
    own moment, so a sweep after days of pause is as exact as a daily one."""
    changed = old.days ^ new.days
    if not changed:
        return BitMap()
    column = table.columns[key]
    assert isinstance(column, TimeColumn), key
    rows = anniversary_mask(column.values[: table.size], Anniversary(changed, new.tz))
    return ascending_bitmap(np.flatnonzero(rows & table.alive[: table.size]))


def _recheck(tx: Transaction, segment: SegmentDef, seqs: BitMap) -> BitMap:
    test = evaluation.predicate(tx.state, segment, tx.ctx)
    flipped = BitMap()
    for row in entity_store.rows_by_seqs(
        tx.conn, tenant_id=tx.tenant_id, kind=segment.kind, seqs=seqs
    ):
        if row.record is not None and tx.set_member(
            segment, row.seq, test(row.record, row.seq), Cause.TIME_PASSED
        ):
            flipped.add(row.seq)
    return flipped


SWEEP_INTERVAL = 30.0
"""Seconds between sweeps: a change of truth is applied well within a minute."""
