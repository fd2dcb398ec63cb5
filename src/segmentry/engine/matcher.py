"""Which segments an entity belongs to after a write, found without evaluating them all.

One ``Matcher`` per kind holds the active dynamic segments compiled into a
:class:`~segmentry.rules.rule_index.RuleIndex`. For a changed entity it asks
the index which segments the change can flip and re-checks only those with
their Python predicates; when that would be more work than evaluating every
segment in one vectorised pass (a new entity, or a change that could flip most
segments), it does the pass instead. Segments with ``IN SEGMENT`` are left out
of the index and checked afterwards, referred segments first, so they see the
entity's new memberships.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from segmentry.engine.model import Cause
from segmentry.engine.state import SegmentDef, TenantState
from segmentry.engine.transaction import Transaction
from segmentry.rules.eval_python import Predicate, compile_predicate
from segmentry.rules.rule_index import RuleIndex
from segmentry.rules.schema import Kind
from segmentry.rules.temporal import EvalContext

Record = Mapping[str, Any]


class Matcher:
    """The active dynamic segments of one kind, ready to match changed entities."""

    def __init__(self, state: TenantState, kind: Kind, ctx: EvalContext) -> None:
        segments = state.evaluated(kind)
        self.indexed = [s for s in segments if not s.refs]
        self.nested = [s for s in segments if s.refs]
        self.index = RuleIndex(
            {s.seg_id: s.tree for s in self.indexed if s.tree}, state.schemas[kind], ctx
        )
        # Re-checking a candidate costs a few microseconds; the vectorised pass costs
        # about as much as re-checking a tenth of all segments.
        self.limit = max(32, len(self.indexed) // 10)

    def update(
        self, tx: Transaction, seq: int, old: Record | None, new: Record, cause: Cause
    ) -> None:
        """Set the memberships of one written entity."""
        self.index.ctx = tx.ctx
        candidates = None if old is None else self.index.flips(old, new)
        if candidates is None or len(candidates) > self.limit:
            holds = self.index.holds(new, lambda code: seq in tx.state.member_set(code))
            for segment, member in zip(self.indexed, holds.tolist(), strict=True):
                tx.set_member(segment, seq, member, cause)
        else:
            for position in candidates.tolist():
                segment = self.indexed[position]
                tx.set_member(segment, seq, self._predicate(tx, segment)(new, seq), cause)
        for segment in self.nested:
            tx.set_member(segment, seq, self._predicate(tx, segment)(new, seq), cause)

    def _predicate(self, tx: Transaction, segment: SegmentDef) -> Predicate:
        assert segment.tree is not None
        return compile_predicate(
            segment.tree, tx.state.schemas[segment.kind], tx.ctx, tx.state.member_set
        )


def matcher(tx: Transaction, kind: Kind) -> Matcher:
    """The tenant's matcher for ``kind``, rebuilt when segments or schemas changed."""
    state = tx.state
    cached = state.matchers.get(kind)
    if cached is None or cached[0] != state.definitions:
        cached = (state.definitions, Matcher(state, kind, tx.ctx))
        state.matchers[kind] = cached
    return cached[1]
