"""Many rules over some rows: which rules hold for each row, and which a change can flip.

A :class:`RuleIndex` compiles a set of checked rules (of one kind) into one
flat program. Its leaves are the rules' conditions, grouped by attribute and
test so that each group is evaluated with a few numpy operations for every row
and every rule at once; its inner nodes (``AND``, ``OR``, ``NOT``) are
evaluated level by level with ``reduceat`` (:mod:`segmentry.match.rule_pass`).
:meth:`RuleIndex.holds` reads the rows' values straight from a
:class:`ColumnarTable` and answers a rows x rules matrix: one vectorised pass
for a whole batch.

For one entity changing from an old to a new record, :meth:`RuleIndex.candidates`
finds the rules whose answer can differ without evaluating the others: sorted
bounds for ranges (only bounds between the old and the new value matter),
value maps for equality and list items, and an exact re-test of the few string
conditions of the changed attributes. :meth:`RuleIndex.recheck` then answers
those candidates for the new record from the record itself
(:mod:`segmentry.match.one_record`): first each one's *guard*, a condition of
its top-level ``AND`` it cannot hold without (``country = 'DE'``), then every
condition of the conjunctions whose guard held, all at once; rules of other
shapes whose guard held are left to their predicates.

Conditions with relative times or day words move with the clock. They are
grouped by their literal: at each new moment every distinct literal is
lowered once and its bounds stand for all the conditions that share it.

``IN SEGMENT`` and behaviour functions read no attribute of the entity (they are
answered from memberships and the tenant's orders): a change never names a rule on
their account, and a rule with one, once named and its guard holding, is left to
its predicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentry.match.columnar import ColumnarTable, TimeColumn
from segmentry.match.eval_columnar import Rows
from segmentry.match.eval_columnar import no_segments as no_member_rows
from segmentry.match.eval_python import Terms, Windows, compare_records, primitive_test
from segmentry.match.index_parts import (
    KeyIndex,
    Ranges,
    Timed,
    Yearly,
    moves_with_time,
    safe_test,
)
from segmentry.match.lowering import (
    Anniversary,
    Compare,
    Items,
    ListCount,
    ListHas,
    ListHasAll,
    ListHasAny,
    OneOf,
    Present,
    Range,
    lower,
)
from segmentry.match.one_record import CODE, LeafTests, Reading, all_of, spans
from segmentry.match.purchases import OrderView
from segmentry.match.rule_pass import behaviour_held, compared_rows, fill, levelise, run_levels
from segmentry.model.schema import AttrType, Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or

Record = Mapping[str, Any]
MemberRows = Callable[[str], np.ndarray]
"""For ``IN SEGMENT``: a boolean per row, whether it is a member of the code."""
INT_TYPES = (AttrType.DATE, AttrType.DATETIME)
VALUE_TESTS = (OneOf, ListHas, ListHasAny, ListHasAll)

# What answering one changed row costs, in nanoseconds as measured in bench/'s update
# loop (M = 10,000 and 100,000, both schemas: the constants whose choices came closest
# to the faster way for every event; only their ratios matter). The vectorised pass
# streams through its arrays: a fixed part, a part per leaf and one per inner node. A
# re-check reads the record (a part per code of the flag table), then gathers at
# random: a part per candidate (its guard's flag), per literal of the conjunctions
# among them, a Python call per condition answered one by one and per rule of another
# shape. A change whose re-check would cost more than the pass takes the pass.
PASS_FIXED, PASS_LEAF, PASS_NODE = 40_000, 8, 45
RECHECK_FIXED, RECHECK_CODE, RECHECK_CANDIDATE, RECHECK_LITERAL = 60_000, 6, 20, 10
ONE_BY_ONE_CALL, PREDICATE_CALL = 1_000, 2_500


@dataclass(frozen=True, slots=True)
class Recheck:
    """What one change needs: the candidates ``answered`` with their answers ``holds``
    for the new record, and the candidates ``others`` (rules of other shapes whose
    guard held) to re-check with their predicates."""

    answered: np.ndarray
    holds: np.ndarray
    others: np.ndarray


class RuleIndex:
    """A set of checked rules of one kind, compiled together. Rules are addressed
    by their position in the mapping given. ``ctx`` may move to later (or earlier)
    moments; its time zone stays the one the index was built with (a tenant's)."""

    def __init__(self, rules: Mapping[int, Node], schema: Schema, ctx: EvalContext) -> None:
        self.schema = schema
        self.ctx = ctx
        self.shared: tuple[Windows, Terms] | None = None
        """Behaviour windows and values shared with the segments' predicates, for the
        few rows a pass answers one by one (``eval_python.Terms``)."""
        self.since: EvalContext | None = None
        """The moment the kept answers of time-moving rules were last brought to (the
        last sweep): a change also names the rules whose bounds passed the old value
        since then, as their kept answer may be the one from before."""
        self.rule_ids = list(rules)
        self.keys: dict[str, KeyIndex] = {}
        self.segments: list[tuple[int, str]] = []
        self.behaviours: list[tuple[int, Behaviour]] = []
        self.pairs: list[tuple[int, str, Compare]] = []  # leaf, key, comparison
        self.yearly: dict[str, list[tuple[int, Yearly]]] = {}  # anniversaries by attribute
        self.leaf_rule: list[int] = []
        self.leaf_sign: list[bool | None] = []  # negated in its conjunction; None: not in one
        self.ops: list[tuple[str, list[int]]] = []
        self.tests = LeafTests()
        count = len(self.rule_ids)
        self.guard = np.full(count, -1, dtype=np.int64)  # a leaf the rule needs, or -1
        self.guard_rank = np.full(count, len(GUARD_RANKS), dtype=np.int64)
        self.moving = np.zeros(count, dtype=np.bool_)
        roots = [self._emit(tree, position, False) for position, tree in enumerate(rules.values())]
        self._freeze(roots)

    def _freeze(self, provisional: list[int]) -> None:
        self.leaf_count = len(self.leaf_rule)
        self.leaf_owner = np.array(self.leaf_rule, dtype=np.int64)
        for index in self.keys.values():
            index.freeze()
            index.timed.own(self.leaf_owner)
        self.tests.freeze(self.leaf_count)
        ops = [(kind, [self._real(c) for c in children]) for kind, children in self.ops]
        self.levels = levelise(ops, self.leaf_count)
        self.roots = np.array([self._real(r) for r in provisional], dtype=np.int64)
        rules = len(self.rule_ids)
        # A rule's leaves are numbered consecutively: [first_leaf, first_leaf + leaves).
        self.leaves = np.bincount(self.leaf_owner, minlength=rules).astype(np.int64)
        self.first_leaf = np.cumsum(self.leaves) - self.leaves
        negated = np.array([bool(s) for s in self.leaf_sign], dtype=np.bool_)
        # A literal's code: its leaf's, or the complement of it for a negated one.
        self.literal_code = self.tests.code + np.where(negated, self.tests.total, 0)
        apart = [leaf for leaf, sign in enumerate(self.leaf_sign) if sign is None]
        self.conjunctive = np.ones(rules, dtype=np.bool_)
        self.conjunctive[self.leaf_owner[apart]] = False
        self._freeze_guards()
        self.pass_cost = PASS_FIXED + PASS_LEAF * self.leaf_count + PASS_NODE * len(self.ops)
        self.read_cost = RECHECK_FIXED + RECHECK_CODE * self.tests.total
        # A condition is found at most twice (both bounds of a range crossed): past this
        # many, the candidates alone would cost more than the pass.
        self.candidate_limit = 2 * max(0, self.pass_cost - self.read_cost) // RECHECK_CANDIDATE

    def _freeze_guards(self) -> None:
        guarded = self.guard >= 0
        # A guard's answer is one flag of a reading (unguarded rules read "always"),
        # unless it is answered one by one (CONTAINS ALL of several items).
        self.guard_code = np.ones(len(self.rule_ids), dtype=np.int64)
        self.guard_code[guarded] = self.tests.code[self.guard[guarded]]
        self.guard_tested = np.zeros(len(self.rule_ids), dtype=np.bool_)
        self.guard_tested[guarded] = self.tests.kind[self.guard[guarded]] != CODE
        # How a rule whose guard holds is answered: by the guard alone (a conjunction of
        # that one condition), literal by literal (other conjunctions), or by a predicate.
        by_guard = self.conjunctive & (self.leaves == 1) & guarded
        self.by_literals = self.conjunctive & ~by_guard
        self.by_predicate = ~self.conjunctive
        self.predicates = bool(self.by_predicate.any())
        # What re-checking each rule may cost (if its guard holds).
        self.weight = (
            RECHECK_CANDIDATE
            + ONE_BY_ONE_CALL * self.guard_tested
            + RECHECK_LITERAL * self.leaves * self.by_literals
            + PREDICATE_CALL * self.by_predicate
        )

    def _real(self, node: int) -> int:
        """Provisional inner ids -1, -2, ... are numbered after the leaves."""
        return self.leaf_count - node - 1 if node < 0 else node

    def __len__(self) -> int:
        return len(self.rule_ids)

    # -- compiling ------------------------------------------------------------------------

    def _emit(self, node: Node, rule: int, negated: bool | None) -> int:
        """Compile ``node``; ``negated`` is its parity of ``NOT`` while every node above it
        keeps the rule a conjunction of conditions (``None`` once one does not)."""
        if isinstance(node, Condition | InSegment | Behaviour):
            return self._leaf(node, rule, negated)
        if isinstance(node, Not):
            return self._op("not", [self._emit(node.item, rule, _flip(negated))])
        assert isinstance(node, And | Or)
        # AND keeps a conjunction; so does a negated OR (NOT (a OR b) = NOT a AND NOT b).
        inner = negated if (negated is True) is isinstance(node, Or) else None
        return self._op(
            "and" if isinstance(node, And) else "or",
            [self._emit(i, rule, inner) for i in node.items],
        )

    def _op(self, kind: str, children: list[int]) -> int:
        self.ops.append((kind, children))
        return -len(self.ops)

    def _key(self, key: str) -> KeyIndex:
        if key not in self.keys:
            integer = self.schema.by_key[key].type in INT_TYPES
            self.keys[key] = KeyIndex(key, Ranges(integer), Timed(key, integer))
        return self.keys[key]

    def _leaf(
        self, node: Condition | InSegment | Behaviour, rule: int, negated: bool | None
    ) -> int:
        leaf = len(self.leaf_rule)
        self.leaf_rule.append(rule)
        if isinstance(node, InSegment | Behaviour):
            if isinstance(node, InSegment):
                self.segments.append((leaf, node.code))
            else:
                self.behaviours.append((leaf, node))
            self.leaf_sign.append(None)  # answered from outside the record
            return leaf
        lowered = lower(node, self.schema, self.ctx)
        index = self._key(lowered.key)
        if isinstance(lowered.test, Compare):
            # Either attribute's change can flip it: both name it.
            index.paired.append(leaf)
            self._key(lowered.test.other).paired.append(leaf)
            self.pairs.append((leaf, lowered.key, lowered.test))
            self.tests.whole(leaf, compare_records(lowered.key, lowered.test))
        elif isinstance(lowered.test, Anniversary):
            self._anniversary(leaf, index.key, node)
            self.moving[rule] = True
        elif moves_with_time(node):
            index.timed.add(leaf, node)
            group = list(index.timed.groups).index((node.op.value, node.value))
            self.tests.timed_group(leaf, index.key, index.timed, group)
            self.moving[rule] = True
        else:
            self._index(index, leaf, lowered.test)
        sign = None if negated is None else negated is not lowered.negated
        self.leaf_sign.append(sign)
        if sign is False:
            self._consider_guard(rule, leaf, lowered.test)
        return self._op("not", [leaf]) if lowered.negated else leaf

    def _anniversary(self, leaf: int, key: str, node: Condition) -> None:
        """An anniversary: answered one by one at the index's moment, not by value (its
        answer for a value changes with the day)."""
        yearly = Yearly(node, self.schema)
        self.yearly.setdefault(key, []).append((leaf, yearly))
        self.tests.test(leaf, key, lambda value: yearly.holds(self.ctx, value))

    def _consider_guard(self, rule: int, leaf: int, test: Any) -> None:
        """A condition of the rule's conjunction, not negated: the rule cannot hold
        without it. Keep the one most likely to fail (values named over ranges)."""
        rank = _guard_rank(type(test))
        if rank is not None and rank < self.guard_rank[rule]:
            self.guard[rule], self.guard_rank[rule] = leaf, rank

    def _index(self, index: KeyIndex, leaf: int, test: Any) -> None:
        key = index.key
        if isinstance(test, Range):
            index.ranges.add(leaf, test)
            self.tests.range(leaf, key, index.ranges.integer, test)
        elif isinstance(test, OneOf):
            for value in test.values:
                index.equal[value].append(leaf)
            self.tests.values(leaf, key, test.values, 1, primitive_test(test))
        elif isinstance(test, ListHas | ListHasAny | ListHasAll):
            items = {test.item} if isinstance(test, ListHas) else set(test.items)
            for item in items:
                index.items[item].append(leaf)
            index.need[leaf] = len(items) if isinstance(test, ListHasAll) else 1
            self.tests.values(leaf, key, items, index.need[leaf], primitive_test(test))
        elif isinstance(test, Items):
            index.item_tests.append((leaf, test))
            index.tested.append((leaf, primitive_test(test)))  # names it when items move
            self.tests.test(leaf, key, index.tested[-1][1])
        elif isinstance(test, ListCount):
            index.counts.add(leaf, test.range)
            self.tests.test(leaf, key, primitive_test(test))
        elif isinstance(test, Present):
            index.present.append(leaf)
            self.tests.present(leaf, key)
        else:
            index.tested.append((leaf, primitive_test(test)))
            self.tests.test(leaf, key, index.tested[-1][1])

    def _moment(self, timed: Timed) -> Ranges:
        """A :class:`Timed`'s bounds at ``self.ctx``."""
        return timed.at(self.schema, self.ctx)

    # -- all rules, many rows -----------------------------------------------------------------

    def holds(
        self,
        table: ColumnarTable,
        rows: np.ndarray,
        member_rows: MemberRows,
        *,
        orders: OrderView | None = None,
        members: Rows = no_member_rows,
    ) -> np.ndarray:
        """A rows x rules boolean matrix: which rules hold for each of the distinct
        ``rows`` of ``table`` (a view of a rules x rows one: each rule's answers for the
        rows are contiguous). Behaviour functions read ``orders``, and the ``IN SEGMENT``
        inside their conditions ``members`` (the member seqs of a code of any kind)."""
        truth = np.zeros((self.leaf_count + len(self.ops), len(rows)), dtype=np.bool_)
        for index in self.keys.values():
            timed = self._moment(index.timed) if index.timed.groups else None
            fill(truth, index, table, rows, timed)
        for leaf, key, test in self.pairs:
            truth[leaf] = compared_rows(table, rows, key, test)
        for key, yearly in self.yearly.items():
            column = table.columns[key]
            assert isinstance(column, TimeColumn)
            for leaf, condition in yearly:
                truth[leaf] = condition.rows(self.ctx, column.values[rows])
        for leaf, code in self.segments:
            truth[leaf] = member_rows(code)
        for leaf, node in self.behaviours:
            truth[leaf] = behaviour_held(
                node, self.schema, self.ctx, table, rows, members=members, orders=orders,
                shared=self.shared,
            )  # fmt: skip
        run_levels(truth, self.levels)
        result: np.ndarray = truth[self.roots].T
        return result

    # -- one row, changing --------------------------------------------------------------------

    def candidates(self, old: Record, new: Record, limit: int | None = None) -> np.ndarray | None:
        """Positions of the rules a change from ``old`` to ``new`` can flip; ``None``
        when more than ``limit`` conditions could (do the vectorised pass instead)."""
        leaves: list[np.ndarray] = []
        owners: list[np.ndarray] = []  # time groups know their rules
        total = 0
        for key, index in self.keys.items():
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            total += self._candidate_leaves(index, before, after, leaves, owners)
            if limit is not None and total > limit:
                return None
        if leaves:
            owners.append(self.leaf_owner[np.concatenate(leaves)])
        found = np.concatenate(owners) if owners else np.empty(0, dtype=np.int64)
        if len(found) * 16 < len(self.rule_ids):  # sorting a few beats a mask of them all
            return np.unique(found)
        mask = np.zeros(len(self.rule_ids), dtype=np.bool_)
        mask[found] = True
        return np.flatnonzero(mask)

    def recheck(self, old: Record | None, new: Record) -> Recheck | None:
        """For one changed entity: the rules its change can flip (all of them for a new
        entity, ``old`` is ``None``), answered for ``new`` where the record alone can
        answer them; ``None`` when one vectorised pass over the row is cheaper."""
        if old is None:
            candidates: np.ndarray | None = np.arange(len(self.rule_ids))
        else:
            candidates = self.candidates(old, new, self.candidate_limit)
        if candidates is None:
            return None
        if not len(candidates):
            return Recheck(candidates, np.zeros(0, dtype=np.bool_), candidates)
        if self.read_cost + self.weight[candidates].sum() > self.pass_cost:
            return None
        reading = self.tests.read(new, self._moment)
        possible = self._guards_hold(candidates, reading)
        whole = possible & self.by_literals[candidates]
        possible[whole] = self._all_hold(candidates[whole], reading)
        if not self.predicates:
            return Recheck(candidates, possible, candidates[:0])
        other = self.by_predicate[candidates] & possible
        answered = ~other
        return Recheck(candidates[answered], possible[answered], candidates[other])

    def answers(self, rules: np.ndarray, record: Record) -> np.ndarray:
        """Whether each of ``rules`` holds for ``record``, all at once: conjunctions only
        (see ``conjunctive``); for other rules the answer is exact only where it is
        ``False`` (their guard fails)."""
        reading = self.tests.read(record, self._moment)
        out = self._guards_hold(rules, reading)
        whole = out & self.by_literals[rules]
        out[whole] = self._all_hold(rules[whole], reading)
        return out

    def triage(self, candidates: np.ndarray, new: Record) -> tuple[np.ndarray, np.ndarray]:
        """Split candidate rules into those to re-check and those that cannot hold for
        ``new`` (their guard fails: they hold for nobody with its value)."""
        reading = self.tests.read(new, self._moment)
        holds = self._guards_hold(candidates, reading)
        return candidates[holds], candidates[~holds]

    def _guards_hold(
        self, rules: np.ndarray, reading: Reading, tested: np.ndarray | None = None
    ) -> np.ndarray:
        """Per rule: whether its guard holds (rules without one may always hold);
        ``tested``: the positions whose guard is not one flag, if known. Guards are
        never negated: the rule needs the condition to hold."""
        out: np.ndarray = reading.flags[self.guard_code[rules]]
        if tested is None:
            tested = np.flatnonzero(self.guard_tested[rules])
        if len(tested):
            out[tested] = self.tests.truth(self.guard[rules[tested]], reading)
        return out

    def _all_hold(self, rules: np.ndarray, reading: Reading) -> np.ndarray:
        """Whether every literal of each of ``rules`` (conjunctions) holds."""
        counts = self.leaves[rules]
        leaves = spans(self.first_leaf[rules], counts)
        literals: np.ndarray = reading.flags[self.literal_code[leaves]]
        if self.tests.one_by_one:
            self.tests.answer_one_by_one(literals, leaves, reading)
        return literals if len(leaves) == len(rules) else all_of(literals, counts)

    def _candidate_leaves(
        self,
        index: KeyIndex,
        before: Any,
        after: Any,
        leaves: list[np.ndarray],
        owners: list[np.ndarray],
    ) -> int:
        """Add the leaves of one attribute a move from ``before`` to ``after`` can flip
        (the rules of time groups as rules); returns how many were added."""
        added = len(leaves), len(owners)
        if index.ranges.leaves:
            leaves.append(_found(index.ranges, before, after))
        if index.timed.groups:
            owners.extend(index.timed.owners[g] for g in self._timed_groups(index, before, after))
        if index.counts.leaves:
            leaves.append(_found(index.counts, len(before or ()), len(after or ())))
        if index.paired:
            leaves.append(np.array(index.paired, dtype=np.int64))
        listed = isinstance(before, tuple | list) or isinstance(after, tuple | list)
        named = set(before or ()) ^ set(after or ()) if listed else (before, after)
        leaves.extend(found for v in named if (found := index.leaves_of(v)) is not None)
        if (before is None) != (after is None) and index.present:
            leaves.append(np.array(index.present, dtype=np.int64))
        if index.tested:
            moved = [n for n, t in index.tested if safe_test(t, before) != safe_test(t, after)]
            leaves.append(np.array(moved, dtype=np.int64))
        if index.key in self.yearly:
            leaves.append(self._yearly_leaves(index.key, before, after))
        return sum(len(a) for a in leaves[added[0] :]) + sum(len(a) for a in owners[added[1] :])

    def _yearly_leaves(self, key: str, before: Any, after: Any) -> np.ndarray:
        """The anniversaries a move can flip now, and those whose answer for the old value
        changed since ``since`` (its kept answer may be the one from before)."""
        now, since = self.ctx, self.since
        return np.array(
            [
                leaf
                for leaf, yearly in self.yearly[key]
                if yearly.holds(now, before) != yearly.holds(now, after)
                or (since is not None and yearly.holds(since, before) != yearly.holds(now, before))
            ],
            dtype=np.int64,
        )

    def _timed_groups(self, index: KeyIndex, before: Any, after: Any) -> list[int]:
        """The time groups of one attribute a move can flip now, and those whose bounds
        passed the old value since ``since``: their kept answer may be stale, and once
        the value has moved the next sweep would not look at it."""
        now = self._moment(index.timed)
        groups: list[int] = _found(now, before, after).tolist()
        if self.since is not None and before is not None:
            then = index.timed.at(self.schema, self.since)
            groups.extend(Timed.passed(then, now, before).tolist())
        return groups


def _found(ranges: Ranges, before: Any, after: Any) -> np.ndarray:
    """The conditions (or time groups) of ``ranges`` a move can flip."""
    if before is not None and after is not None:
        return ranges.crossed(before, after)
    value = np.array([after if before is None else before], dtype=ranges.frozen[1].dtype)
    found: np.ndarray = ranges.frozen[0][ranges.holding(value)[:, 0]]
    return found


GUARD_RANKS: tuple[tuple[type, ...], ...] = (VALUE_TESTS, (Range,))
"""Conditions that can guard a rule, best first: values named fail for most records."""


def _guard_rank(kind: type) -> int | None:
    """A test's place in :data:`GUARD_RANKS` by its type (asked for every condition)."""
    if kind not in _RANKS:
        _RANKS[kind] = next((r for r, ks in enumerate(GUARD_RANKS) if issubclass(kind, ks)), None)
    return _RANKS[kind]


_RANKS: dict[type, int | None] = {}


def _flip(negated: bool | None) -> bool | None:
    return None if negated is None else not negated
