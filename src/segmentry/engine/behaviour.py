"""Behaviour segments kept exact in real time (docs/behaviour.md, "Real time").

A segment whose rule counts orders can change its answer for an entity that
was not written: when one of the entity's orders is written, changed or
deleted; when a product it bought (or a buyer of the product) changes in what
the function's condition reads, or enters or leaves a segment the condition
names; and when time moves a window's end (``engine/timeflow.py``).

Each of these names the entities to re-check and where; :func:`cascade`
re-checks them in one pass over the segments in dependency order, across
kinds: a product segment settles before the customer segments whose
conditions name it (and the other way round for ``units_sold`` and
``revenue``), so each flip it makes is passed on, through the orders'
indexes (buyers of a product, products of a customer), to the segments that
read it. The checker refuses loops, so the order exists. The Transaction
collects the net changes as for any write.

The work is that of the entities concerned: an order's customer and products,
a product's buyers, a customer's products; nothing scans the shop, except when
those entities are so many (a batch of orders, a long pause's sweep) that one
columnar evaluation of a segment costs less than re-checking them one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.engine import evaluation
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import NO_SEQ, Purchases
from segmentry.model.bitmaps import array_of, bitmap_of
from segmentry.model.schema import Kind
from segmentry.rules.ast import attributes_of, behaviours, conditions, segment_refs
from segmentry.rules.operators import BY_ACT
from segmentry.store import entities as entity_store

Record = Mapping[str, Any]
Keys = frozenset[str] | None
"""The attributes of an entity that changed; ``None``: it appeared or went."""


@dataclass(frozen=True, slots=True)
class Reach:
    """What one behaviour function of a segment reads of the other kind: the
    attributes its condition tests and the segments it names."""

    over: Kind
    reads: frozenset[str]
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """One active dynamic segment in the pass: what it refers to, of its own kind and
    through its behaviour conditions."""

    segment: SegmentDef
    refs: tuple[str, ...]
    reaches: tuple[Reach, ...]
    behavioural: bool


@dataclass(slots=True)
class Plan:
    """The tenant's segments as the real-time pass needs them, built once per change
    of definitions."""

    everything: list[Step]
    """Every active dynamic segment, in dependency order (the sweep's pass)."""
    linked: list[Step]
    """Those with behaviour functions or references: the only ones a write's pass
    can reach."""
    behavioural: dict[Kind, list[SegmentDef]] = field(default_factory=dict)
    watched: dict[Kind, frozenset[int]] = field(default_factory=dict)
    """Segments of a kind that a behaviour condition of the other kind names."""
    reads: dict[Kind, frozenset[str]] = field(default_factory=dict)
    """Attributes of a kind that a behaviour condition of the other kind reads."""


def plan(state: TenantState) -> Plan:
    cached = state.behaviour_plan
    if cached is None or cached[0] != state.definitions:
        cached = (state.definitions, _plan(state))
        state.behaviour_plan = cached
    found: Plan = cached[1]
    return found


def _plan(state: TenantState) -> Plan:
    everything = [
        _step(s) for s in state.in_dependency_order() if s.dynamic and s.active and s.tree
    ]
    out = Plan(everything, [s for s in everything if s.refs or s.behavioural])
    watched: dict[Kind, set[int]] = {kind: set() for kind in Kind}
    reads: dict[Kind, set[str]] = {kind: set() for kind in Kind}
    for step in everything:
        if step.behavioural:
            out.behavioural.setdefault(step.segment.kind, []).append(step.segment)
        for reach in step.reaches:
            reads[reach.over] |= reach.reads
            for code in reach.codes:
                named = state.by_code(code)
                if named is not None:
                    watched[reach.over].add(named.seg_id)
    out.watched = {kind: frozenset(seg_ids) for kind, seg_ids in watched.items()}
    out.reads = {kind: frozenset(keys) for kind, keys in reads.items()}
    return out


def _step(segment: SegmentDef) -> Step:
    assert segment.tree is not None
    found = behaviours(segment.tree)
    reaches = []
    for function in found:
        over = Kind(BY_ACT[function.act].condition_kind)
        if function.where is None or over is Kind.ORDER:
            continue  # orders are not entities: their changes are seeded by the order write
        keys = {key for c in conditions(function.where) for key in attributes_of(c)}
        codes = tuple(dict.fromkeys(r.code for r in segment_refs(function.where)))
        reaches.append(Reach(over, frozenset(keys), codes))
    return Step(segment, segment.refs, tuple(reaches), bool(found))


# -- the pass ---------------------------------------------------------------------------------


def cascade(
    tx: Transaction,
    cause: Cause,
    *,
    recheck: Mapping[int, BitMap] | None = None,
    moved: Mapping[Kind, Mapping[int, Keys]] | None = None,
    flipped: Mapping[int, BitMap] | None = None,
    every_segment: bool = False,
) -> dict[int, BitMap]:
    """Re-check, segment by segment in dependency order: the entities ``recheck``
    names for it; those whose membership of a segment it refers to ``flipped`` (given,
    or in this pass); and, for a behaviour condition over the other kind, the buyers
    (or products) of the entities that ``moved`` in what it reads or flipped in a
    segment it names. Returns the memberships that changed, by segment."""
    found = plan(tx.state)
    steps = found.everything if every_segment else found.linked
    changed: dict[int, BitMap] = {s: BitMap(seqs) for s, seqs in (flipped or {}).items()}
    purchases, records = tx.state.purchases, Records(tx)
    for step in steps:
        segment = step.segment
        candidates = BitMap((recheck or {}).get(segment.seg_id, ()))
        candidates |= _flipped_in(tx.state, step.refs, changed)
        for reach in step.reaches:
            via = _flipped_in(tx.state, reach.codes, changed)
            for seq, keys in (moved or {}).get(reach.over, {}).items():
                if keys is None or not keys.isdisjoint(reach.reads):
                    via.add(seq)
            if via:
                candidates |= across(purchases, reach.over, via)
        if candidates:
            flips = recheck_in(tx, segment, candidates, cause, records)
            if flips:
                changed.setdefault(segment.seg_id, BitMap()).update(flips)
    return changed


def _flipped_in(state: TenantState, codes: Iterable[str], changed: Mapping[int, BitMap]) -> BitMap:
    out = BitMap()
    for code in codes:
        named = state.by_code(code)
        if named is not None and named.seg_id in changed:
            out |= changed[named.seg_id]
    return out


def across(purchases: Purchases, kind: Kind, seqs: BitMap) -> BitMap:
    """The entities of the other kind linked to ``seqs`` (of ``kind``) by orders: the
    buyers of products, the products of customers."""
    return purchases.buyers_of(seqs) if kind is Kind.PRODUCT else purchases.products_of(seqs)


class Records:
    """The stored records of the entities one pass re-checks, each read once (an order's
    customer is re-checked in every segment that counts orders), and the orders as the
    pass's columnar evaluations read them, each behaviour function's values counted once
    (the pass changes no order, record or moment; many segments count the same thing)."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.held: dict[Kind, dict[int, Record | None]] = {kind: {} for kind in Kind}
        self.orders = OrderView(tx.state.purchases, tx.state.tables, counted={})

    def of(self, kind: Kind, seqs: BitMap) -> list[tuple[int, Record]]:
        """The living ones among ``seqs``, in seq order."""
        held = self.held[kind]
        missing = [seq for seq in seqs if seq not in held]
        if missing:
            held.update(dict.fromkeys(missing))
            tx = self.tx
            for row in entity_store.rows_by_seqs(
                tx.conn, tenant_id=tx.tenant_id, kind=kind, seqs=missing
            ):
                held[row.seq] = row.record
        return [(seq, record) for seq in seqs if (record := held[seq]) is not None]


def recheck_in(
    tx: Transaction, segment: SegmentDef, seqs: BitMap, cause: Cause, records: Records
) -> BitMap:
    """Re-check living entities ``seqs`` in one segment; returns those that flipped.

    One at a time with the segment's Python predicate, or, when they are so many that
    one columnar evaluation of the rule over the kind and the orders costs less (a
    batch of orders, a long pause's sweep), with that evaluation."""
    rows = tx.state.tables[segment.kind].size + tx.state.purchases.lines
    if len(seqs) >= AT_ONCE_LEAST and len(seqs) * PER_ENTITY >= rows:
        return _recheck_at_once(tx, segment, seqs, cause, records.orders)
    test = evaluation.predicate(tx.state, segment, tx.ctx)
    flipped = BitMap()
    for seq, record in records.of(segment.kind, seqs):
        if tx.set_member(segment, seq, test(record, seq), cause):
            flipped.add(seq)
    return flipped


AT_ONCE_LEAST = 64
"""Entities below which they are re-checked one at a time whatever the shop's size."""
PER_ENTITY = 500
"""About how many rows (entities and order lines) a columnar evaluation reads in the
time one entity is re-checked with a predicate."""


def _recheck_at_once(
    tx: Transaction, segment: SegmentDef, seqs: BitMap, cause: Cause, orders: OrderView
) -> BitMap:
    assert segment.tree is not None
    table = tx.state.tables[segment.kind]
    wanted = array_of(seqs)
    wanted = wanted[wanted < table.size]
    living = bitmap_of(wanted[table.alive[wanted]])
    target = evaluation.members_of_rule(tx.state, segment.kind, segment.tree, tx.ctx, orders)
    target &= living
    before = tx.state.members.get(segment.seg_id, BitMap()) & living
    tx.set_members(segment, living, target, cause)
    flipped: BitMap = before ^ target
    return flipped


# -- writes of entities -----------------------------------------------------------------------


class Watch:
    """Around a write of entities of one kind: their memberships, before, of the
    segments that behaviour conditions of the other kind name, so that :meth:`settle`
    passes on what the write moved across kinds."""

    def __init__(self, tx: Transaction, kind: Kind, seqs: Iterable[int]) -> None:
        found = plan(tx.state)
        self.kind = kind
        self.reads = found.reads.get(kind, frozenset())
        watched = found.watched.get(kind, frozenset())
        self.active = bool(self.reads or watched)
        self.seqs = BitMap(seqs) if self.active else BitMap()
        members = tx.state.members
        self.before = {s: members.get(s, BitMap()) & self.seqs for s in watched}

    def settle(
        self,
        tx: Transaction,
        changes: Iterable[tuple[int, Record | None, Record | None]],
        cause: Cause,
    ) -> None:
        """After the write: ``changes`` are each entity's seq, record before and after
        (``None``: absent)."""
        if not self.active:
            return
        members = tx.state.members
        flipped = {}
        for seg_id, before in self.before.items():
            moved_here = before ^ (members.get(seg_id, BitMap()) & self.seqs)
            if moved_here:
                flipped[seg_id] = moved_here
        moved: dict[int, Keys] = {}
        if self.reads:
            for seq, old, new in changes:
                keys = changed_keys(old, new)
                if keys is None or not keys.isdisjoint(self.reads):
                    moved[seq] = keys
        if flipped or moved:
            cascade(tx, cause, moved={self.kind: moved}, flipped=flipped)


def watch(tx: Transaction, kind: Kind, seqs: Iterable[int]) -> Watch:
    return Watch(tx, kind, seqs)


def changed_keys(old: Record | None, new: Record | None) -> Keys:
    if old is None or new is None:
        return None if (old is None) != (new is None) else frozenset()
    return frozenset(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


# -- writes of orders ---------------------------------------------------------------------------


def orders_changed(tx: Transaction, customers: BitMap, products: BitMap) -> None:
    """After orders were written or deleted (and ``purchases`` holds them): their
    customers and products, old and new, re-checked in the segments that count orders,
    and what flips passed on. Cause ``order_changed``."""
    found = plan(tx.state)
    recheck: dict[int, BitMap] = {}
    for kind, seqs in ((Kind.CUSTOMER, customers), (Kind.PRODUCT, products)):
        if seqs:
            for segment in found.behavioural.get(kind, ()):
                recheck[segment.seg_id] = seqs
    if recheck:
        cascade(tx, Cause.ORDER_CHANGED, recheck=recheck)


def touched_by(purchases: Purchases, order_seqs: Iterable[int]) -> tuple[BitMap, BitMap]:
    """The customers and existing products the held orders ``order_seqs`` name."""
    wanted = np.fromiter(order_seqs, dtype=np.int64)
    wanted = wanted[wanted < purchases.size]
    wanted = wanted[purchases.orders.alive[wanted]]
    customers = purchases.customer[wanted]
    if len(wanted) > MANY_ORDERS:  # a long pause's sweep: one pass over the lines
        size = purchases.lines
        rows = np.flatnonzero(
            purchases.line_alive[:size] & np.isin(purchases.line_order[:size], wanted)
        )
    else:
        ranges = [purchases.line_rows(int(seq)) for seq in wanted]
        rows = np.fromiter((r for span in ranges for r in span), dtype=np.int64)
    products = purchases.line_product[rows]
    return _bitmap(customers), _bitmap(products)


MANY_ORDERS = 2_000
"""Orders above which their lines are found in one pass over all lines."""


def _bitmap(seqs: np.ndarray) -> BitMap:
    return BitMap(np.unique(seqs[seqs != NO_SEQ]).tolist())


def propagate(tx: Transaction, sources: Iterable[int], seqs: BitMap, cause: Cause) -> None:
    """Re-check ``seqs`` in every segment that refers, directly or not, of their kind or
    through a behaviour condition, to ``sources`` (whose members ``seqs`` changed)."""
    if seqs:
        cascade(tx, cause, flipped=dict.fromkeys(sources, seqs))
