"""Time passing: keeping segments that speak of time exact without a write.

Every bound a relative time or a day word puts on a date attribute moves with
the clock. Between two sweeps at ``before`` and ``now``, a condition can only
change its answer for an entity whose value lies between the bound at
``before`` and the bound at ``now``: so a sweep asks the database for exactly
those entities, re-checks them, and then re-checks them in the segments that
refer to the ones that changed. Nothing is kept per entity, and a sweep after
a long pause (or a clock jumped forward in a test) is as exact as one a minute
later.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyroaring import BitMap

from segmentry.engine import evaluation
from segmentry.engine.model import Cause
from segmentry.engine.state import SegmentDef
from segmentry.engine.transaction import Transaction
from segmentry.rules.lowering import Range, lower
from segmentry.rules.sql_dialects import JsonInteger
from segmentry.rules.temporal import EvalContext, from_micros
from segmentry.store import entities as entity_store
from segmentry.store import history as history_store
from segmentry.store import tenants as tenant_store
from segmentry.store.tables import entities


def sweep(tx: Transaction, swept_at: int) -> int:
    """Bring every time-dependent segment from ``swept_at`` to ``tx.now``; returns
    how many memberships changed."""
    if tx.now_us <= swept_at:
        return 0
    before = EvalContext(from_micros(swept_at), tx.state.tz)
    changed: dict[int, BitMap] = {}
    for segment in tx.state.in_dependency_order():
        if not (segment.dynamic and segment.active):
            continue
        candidates = _moved(tx, segment, before)
        for code in segment.refs:
            ref = tx.state.by_code(code)
            if ref is not None:
                candidates |= changed.get(ref.seg_id, BitMap())
        if candidates:
            changed[segment.seg_id] = _recheck(tx, segment, candidates)
    tenant_store.update_tenant(tx.conn, tenant_id=tx.tenant_id, swept_at=tx.now_us)
    history_store.thin(tx.conn, tenant_id=tx.tenant_id, now=tx.now_us)
    return sum(len(c) for c in changed.values())


def _moved(tx: Transaction, segment: SegmentDef, before: EvalContext) -> BitMap:
    """Entities whose value lies where a time-bound of the segment moved."""
    schema = tx.state.schemas[segment.kind]
    spans: list[sa.ColumnElement[bool]] = []
    for cond in segment.time_conditions:
        old, new = lower(cond, schema, before).test, lower(cond, schema, tx.ctx).test
        assert isinstance(old, Range)
        assert isinstance(new, Range)
        value = JsonInteger(entities.c.record, sa.literal(cond.attr, sa.Text))
        for a, b in ((old.low, new.low), (old.high, new.high)):
            if a is not None and b is not None and a != b:
                spans.append(value.between(min(a, b), max(a, b)))
    if not spans:
        return BitMap()
    where = sa.or_(*spans)
    return BitMap(
        entity_store.select_seqs(tx.conn, tenant_id=tx.tenant_id, kind=segment.kind, where=where)
    )


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
