"""Which segments entities belong to after a write, found without evaluating them all.

One ``Matcher`` per kind holds the active dynamic segments compiled into a
:class:`~segmentry.match.rule_index.RuleIndex`. For one changed entity it asks
the index which segments the change can flip; the index answers those that are
conjunctions from the record all at once, and the matcher re-checks the others
with their Python predicates. When that would be more work than evaluating
every segment in one vectorised pass (a change that could flip most segments),
it runs the pass instead. A batch runs one pass over all its rows.
Segments with ``IN SEGMENT`` are left out of the index and checked afterwards,
referred segments first, so they see the entities' new memberships. A behaviour
function is answered from the tenant's orders; what moves it without a write of
the entity (an order, a product bought, time) is re-checked by
``engine/behaviour.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.engine import evaluation
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Cause
from segmentry.match.eval_python import Predicate
from segmentry.match.index_parts import rows_in
from segmentry.match.rule_index import Recheck, RuleIndex
from segmentry.model.bitmaps import ascending_bitmap, bitmap_of
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import behaviours

Record = Mapping[str, Any]


class Matcher:
    """The active dynamic segments of one kind, ready to match changed entities."""

    def __init__(self, state: TenantState, kind: Kind, ctx: EvalContext) -> None:
        segments = state.evaluated(kind)
        self.kind = kind
        self.indexed = [s for s in segments if not s.refs]
        self.nested = [s for s in segments if s.refs]
        self.seg_ids = [s.seg_id for s in self.indexed]
        self.plain = [p for p, s in enumerate(self.indexed) if not _behavioural(s)]
        """Positions of the indexed segments whose rules have no behaviour function."""
        self.index = RuleIndex(
            {s.seg_id: s.tree for s in self.indexed if s.tree}, state.schemas[kind], ctx
        )

    def update(
        self, tx: Transaction, seq: int, old: Record | None, new: Record, cause: Cause
    ) -> None:
        """Set the memberships of one written entity."""
        self.index.ctx = tx.ctx
        self.index.since = tx.swept
        found = self.index.recheck(old, new)
        if found is None:
            rows = np.array([seq], dtype=np.int64)
            self.update_many(tx, rows, [(seq, new)], cause, fresh=old is None)
            return
        tx.set_one(seq, self.indexed, *self._changed(found, old), cause)
        for position in found.others.tolist():
            segment = self.indexed[position]
            tx.set_member(segment, seq, self.predicate(tx, segment)(new, seq), cause)
        self._nested(tx, [(seq, new)], cause)

    def _changed(self, found: Recheck, old: Record | None) -> tuple[list[int], list[bool]]:
        """The answered candidates whose membership may differ from the kept one, and
        their answers.

        The kept memberships of rules that do not move with time equal their answer
        for the old record (they are kept exact on every write), so of the
        conjunctions only those whose answer changed are touched; rules that move
        with time, and rules of other shapes (answered only because they cannot hold
        now), are compared with the kept membership. A new entity (or one written
        again after a delete) is in no dynamic segment yet."""
        answered, holds = found.answered, found.holds
        if old is None:
            touch = holds
        else:
            simple = self.index.conjunctive[answered]
            before = ~holds  # "changed" for the rules compared with the kept membership
            before[simple] = self.index.answers(answered[simple], old)
            touch = (before != holds) | self.index.moving[answered]
        return answered[touch].tolist(), holds[touch].tolist()

    def update_many(
        self,
        tx: Transaction,
        seqs: np.ndarray,
        records: list[tuple[int, Record]],
        cause: Cause,
        *,
        fresh: bool = False,
        behaviour: bool = True,
    ) -> None:
        """Set the memberships of written entities with one vectorised pass over their
        rows; ``fresh``: none of them is in any dynamic segment yet (new entities), so
        only the segments some of them enter are touched. ``behaviour=False``: the
        segments whose rules have behaviour functions are left alone, for a caller
        that re-checks the same entities in them right after (a batch of orders: see
        ``derived_patches``)."""
        self.index.ctx = tx.ctx
        self.index.shared = evaluation.predicates(tx.state).shared(tx.state, tx.ctx)
        table = tx.state.tables[self.kind]
        holds = self.index.holds(
            table,
            seqs,
            lambda code: rows_in(seqs, tx.state.member_set(code)),
            orders=tx.state.order_view(),
            members=tx.state.member_set,
            behaviour=behaviour,
        )
        by_rule = holds.T  # each rule's answers for the rows, contiguous
        if not behaviour:
            self._many(tx, seqs, by_rule, cause, fresh=fresh, positions=self.plain)
        elif len(seqs) == 1 and not fresh:
            self._one(tx, int(seqs[0]), by_rule[:, 0].tolist(), cause)
        else:
            self._many(tx, seqs, by_rule, cause, fresh=fresh)
        self._nested(tx, records, cause, behaviour=behaviour)

    def _one(self, tx: Transaction, seq: int, holds: list[bool], cause: Cause) -> None:
        """One row's answers: only the segments whose kept membership differs change
        (a lookup per segment instead of bitmap operations per segment)."""
        kept = tx.state.members.get
        empty = BitMap()
        held = [seq in kept(seg_id, empty) for seg_id in self.seg_ids]
        if held != holds:
            for position in np.flatnonzero(np.array(held) != np.array(holds)).tolist():
                tx.set_member(self.indexed[position], seq, holds[position], cause)

    def _many(
        self,
        tx: Transaction,
        seqs: np.ndarray,
        by_rule: np.ndarray,
        cause: Cause,
        *,
        fresh: bool,
        positions: list[int] | None = None,
    ) -> None:
        """The rows' answers set in the segments at ``positions`` (all: ``None``)."""
        members_of = _bitmaps_of(seqs)
        if fresh:
            entering = np.flatnonzero(by_rule.any(axis=1))
            if positions is not None:
                entering = np.intersect1d(entering, positions)
            for position in entering.tolist():
                tx.enter(self.indexed[position], members_of(by_rule[position]), cause)
            return
        batch = bitmap_of(seqs)
        for position in range(len(self.indexed)) if positions is None else positions:
            segment = self.indexed[position]
            tx.set_members(segment, batch, members_of(by_rule[position]), cause)

    def _nested(
        self,
        tx: Transaction,
        records: list[tuple[int, Record]],
        cause: Cause,
        *,
        behaviour: bool = True,
    ) -> None:
        for segment in self.nested:
            if not behaviour and _behavioural(segment):
                continue
            test = self.predicate(tx, segment)
            for seq, record in records:
                tx.set_member(segment, seq, test(record, seq), cause)

    def predicate(self, tx: Transaction, segment: SegmentDef) -> Predicate:
        """A segment's Python predicate at the write's moment (kept compiled by the
        tenant's state)."""
        return evaluation.predicate(tx.state, segment, tx.ctx)


def _behavioural(segment: SegmentDef) -> bool:
    return segment.tree is not None and bool(behaviours(segment.tree))


def _bitmaps_of(seqs: np.ndarray) -> Callable[[np.ndarray], BitMap]:
    """How to turn a mask over ``seqs`` into a bitmap of the seqs it selects. A batch of
    new entities has consecutive seqs: the positions are the seqs, shifted."""
    if not len(seqs) or not (seqs[1:] > seqs[:-1]).all():
        return lambda mask: bitmap_of(seqs[mask])
    first = int(seqs[0])
    if int(seqs[-1]) - first == len(seqs) - 1:
        return lambda mask: ascending_bitmap(np.flatnonzero(mask) + first)
    return lambda mask: ascending_bitmap(seqs[mask])


def matcher_for(tx: Transaction, kind: Kind) -> Matcher:
    """The tenant's matcher for ``kind``, rebuilt when segments or schemas changed."""
    state = tx.state
    cached = state.matchers.get(kind)
    if cached is None or cached[0] != state.definitions:
        cached = (state.definitions, Matcher(state, kind, tx.ctx))
        state.matchers[kind] = cached
    matched: Matcher = cached[1]
    return matched
