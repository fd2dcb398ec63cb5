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

Behaviour functions move with time through their windows: an end that moved
passed exactly the counted orders placed between its two positions
(``Purchases.placed_between``), whose customers (or products, for
``units_sold`` and ``revenue``) are re-checked; a moving bound inside a
function's condition passed orders, products or customers found as above, and
the entities linked to them by orders are re-checked. The re-checks and what
they flip pass through ``engine/behaviour.py``'s one pass over the segments in
dependency order, across kinds.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pyroaring import BitMap

from segmentry.engine import behaviour
from segmentry.engine.state import SegmentDef
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import TimeColumn
from segmentry.match.eval_columnar import anniversary_mask
from segmentry.match.index_parts import moves_with_time
from segmentry.match.lowering import Anniversary, Range, lower
from segmentry.model.bitmaps import ascending_bitmap
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext, from_micros, window
from segmentry.rules.ast import Condition, behaviours, conditions
from segmentry.rules.operators import BY_ACT
from segmentry.store import history as history_store


def sweep(tx: Transaction, swept_at: int) -> int:
    """Bring every time-dependent segment from ``swept_at`` to ``tx.now``; returns
    how many memberships changed."""
    if tx.now_us <= swept_at:
        return 0
    before = EvalContext(from_micros(swept_at), tx.state.tz)
    spans: dict[Span, BitMap] = {}
    passed: dict[tuple[int, int], BitMap] = {}  # the orders a window end passed
    seeds: dict[int, BitMap] = {}
    for step in behaviour.plan(tx.state).everything:
        segment = step.segment
        table = tx.state.tables[segment.kind]
        moments = (before, tx.ctx)
        candidates = _moved(segment.time_conditions, segment.kind, table, moments, spans)
        if step.behavioural:
            candidates |= _behaviour_moved(tx, segment, moments, spans, passed)
        if candidates:
            seeds[segment.seg_id] = candidates
    changed = behaviour.cascade(tx, Cause.TIME_PASSED, recheck=seeds, every_segment=True)
    tx.counters["swept_at"] = tx.now_us
    history_store.thin(tx.conn, tenant_id=tx.tenant_id, now=tx.now_us)
    return sum(len(c) for c in changed.values())


Span = tuple[Kind, str, float, float]
"""An attribute's values from one bound to the other, inclusive."""


def _moved(
    conds: Iterable[Condition],
    kind: Kind,
    table: ColumnarTable,
    moments: tuple[EvalContext, EvalContext],
    spans: dict[Span, BitMap],
) -> BitMap:
    """Rows of ``table`` whose value lies where a time-bound of ``conds`` moved between
    the two ``moments``; ``spans`` keeps the rows of each span found in this sweep."""
    moved, schema = BitMap(), table.schema
    before, now = moments
    for cond in conds:
        old, new = lower(cond, schema, before).test, lower(cond, schema, now).test
        if isinstance(old, Anniversary) and isinstance(new, Anniversary):
            moved |= _anniversaries_moved(table, cond.attr, old, new)
            continue
        assert isinstance(old, Range)
        assert isinstance(new, Range)
        for a, b in ((old.low, new.low), (old.high, new.high)):
            if a is not None and b is not None and a != b:
                span = (kind, cond.attr, min(a, b), max(a, b))
                if span not in spans:
                    spans[span] = table.rows_between(cond.attr, span[2], span[3])
                moved |= spans[span]
    return moved


def _behaviour_moved(
    tx: Transaction,
    segment: SegmentDef,
    moments: tuple[EvalContext, EvalContext],
    spans: dict[Span, BitMap],
    passed: dict[tuple[int, int], BitMap],
) -> BitMap:
    """Entities whose behaviour values can have moved since ``before``: those of the
    counted orders a window end passed (``Purchases.placed_between``, from the end's
    two positions, so a long pause is as exact as a minute), and those linked by
    orders to the orders or entities a moving bound inside a condition passed."""
    assert segment.tree is not None
    purchases, state = tx.state.purchases, tx.state
    orders, linked = BitMap(), BitMap()
    for function in behaviours(segment.tree):
        was = window(function.since, function.until, moments[0])
        now = window(function.since, function.until, moments[1])
        for a, b in zip(was, now, strict=True):
            if a is not None and b is not None and a != b:
                low, high = min(a, b) - 1, max(a, b)
                if (low, high) not in passed:  # segments with the same window share it
                    passed[low, high] = BitMap(purchases.placed_between(low, high).tolist())
                orders |= passed[low, high]
        if function.where is None:
            continue
        over = Kind(BY_ACT[function.act].condition_kind)
        conds = [c for c in conditions(function.where) if moves_with_time(c)]
        if not conds:
            continue
        if over is Kind.ORDER:
            orders |= _moved(conds, over, purchases.orders, moments, spans)
        else:
            via = _moved(conds, over, state.tables[over], moments, spans)
            linked |= behaviour.across(purchases, over, via)
    customers, products = behaviour.touched_by(purchases, orders)
    return linked | (customers if segment.kind is Kind.CUSTOMER else products)


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


SWEEP_INTERVAL = 30.0
"""Seconds between sweeps: a change of truth is applied well within a minute."""
