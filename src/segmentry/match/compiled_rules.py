"""A set of checked rules compiled to one flat program: the build of a
:class:`~segmentry.match.rule_index.RuleIndex`.

Each rule's conditions are lowered (:mod:`segmentry.match.lowering`) to leaves,
grouped per attribute (:mod:`segmentry.match.index_parts`: sorted ranges, value maps,
time groups, anniversaries) and per test for the one-record reading
(:mod:`segmentry.match.one_record`); the inner nodes (``AND``, ``OR``, ``NOT``) are
numbered after the leaves and put in levels (:mod:`segmentry.match.rule_pass`). The
pass fills one row per distinct condition (rules share most of theirs), indexed
under keys of its own (``pass_keys``); every leaf reads its condition's row
(``row_of``), and the levels read rows. Each rule keeps a *guard* (a condition of
its top-level ``AND`` it cannot hold without) and what re-checking it costs against
one vectorised pass. The queries live in
:mod:`segmentry.match.rule_index`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segmentry.match.eval_python import Terms, Windows, compare_records, primitive_test
from segmentry.match.index_parts import KeyIndex, Ranges, Timed, Yearly, moves_with_time
from segmentry.match.lowering import (
    Anniversary,
    Compare,
    Items,
    ListCount,
    ListHas,
    ListHasAll,
    ListHasAny,
    Lowered,
    OneOf,
    Present,
    Range,
    lower,
)
from segmentry.match.one_record import CODE, LeafTests
from segmentry.match.rule_pass import levelise
from segmentry.model.schema import AttrType, Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or

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
MAX_WIDTH = 8
"""The most conditions of a conjunction answered by its row of literal codes."""


class CompiledRules:
    """A set of checked rules of one kind, compiled together. Rules are addressed
    by their position in the mapping given. ``ctx`` may move to later (or earlier)
    moments; its time zone stays the one the rules were compiled with (a tenant's)."""

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
        self.row_of: list[int] = []  # each leaf's row in the pass (rules share conditions)
        self.pass_keys: dict[str, KeyIndex] = {}  # the distinct conditions, by attribute
        self.row_count = 0
        self._rows: dict[int, int] = {}  # by the id of a distinct condition's lowering
        self.leaf_sign: list[bool | None] = []  # negated in its conjunction; None: not in one
        self.ops: list[tuple[str, list[int]]] = []
        self.tests = LeafTests()
        count = len(self.rule_ids)
        self.guard = np.full(count, -1, dtype=np.int64)  # a leaf the rule needs, or -1
        self.guard_rank = np.full(count, len(GUARD_RANKS), dtype=np.int64)
        self.moving = np.zeros(count, dtype=np.bool_)
        # Rules share many conditions (a thousand rules hold about 600 distinct ones of
        # 2,000): each is lowered once for the build.
        self._lowered: dict[Condition, Lowered] = {}
        roots = [self._emit(tree, position, False) for position, tree in enumerate(rules.values())]
        del self._lowered
        self._freeze(roots)

    def _freeze(self, provisional: list[int]) -> None:
        self.leaf_count = len(self.leaf_rule)
        self.leaf_owner = np.array(self.leaf_rule, dtype=np.int64)
        for index in self.keys.values():
            index.freeze()
            index.timed.own(self.leaf_owner)
        for index in self.pass_keys.values():
            index.freeze()
        self.tests.freeze(self.leaf_count)
        # The pass's matrix: a row per distinct condition (and per other leaf), then the
        # inner nodes; its levels read a leaf's row where the rules read the leaf.
        del self._rows
        ops = [(kind, [self._row(c) for c in children]) for kind, children in self.ops]
        self.levels = levelise(ops, self.row_count)
        self.roots = np.array([self._row(r) for r in provisional], dtype=np.int64)
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
        # Up to this many candidates, the re-check costs less than the pass whichever
        # they are: their weights need not be summed.
        heaviest = int(self.weight.max()) if len(self.weight) else 1
        self.surely_cheaper = max(0, self.pass_cost - self.read_cost) // heaviest

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
        self._freeze_rows()

    def _freeze_rows(self) -> None:
        """Each rule's literal codes as one row of a rules x width matrix, so that one
        gather of rows and one of flags answer any set of them (its leaves' spans and
        per-leaf gathers cost several numpy calls a set). *Plain* rules (conjunctions
        of at most ``MAX_WIDTH`` conditions, each one code) hold their literals, padded
        with "always"; the row of any other rule holds its guard's code (or "always"),
        so that the row answers whether its guard holds, and the rest is left to the
        slower way. The width is 1, 2, 4 or 8 flags: a row of them reads as one integer.
        Codes are kept in 16 bits where they fit: the rows of many candidates are read
        from all over the matrix, and a smaller one stays in the cache."""
        kind = self.tests.kind
        rules = len(self.rule_ids)
        odd = np.bincount(self.leaf_owner[kind != CODE], minlength=rules) > 0
        self.plain = self.conjunctive & ~odd & (self.leaves <= MAX_WIDTH)
        self.all_plain = bool(self.plain.all())
        longest = int(self.leaves[self.plain].max()) if self.plain.any() else 1
        width = next(w for w in (1, 2, 4, MAX_WIDTH) if w >= longest)
        self.row_word = np.dtype(f"u{width}")
        self.row_all = int.from_bytes(b"\x01" * width, "little")
        rows = np.ones((rules, width), dtype=np.int32)
        leaf_plain = self.plain[self.leaf_owner]
        owners = self.leaf_owner[leaf_plain]
        column = np.arange(self.leaf_count, dtype=np.int64)[leaf_plain] - self.first_leaf[owners]
        rows[owners, column] = self.literal_code[leaf_plain]
        apart = ~self.plain
        rows[apart, 0] = np.where(self.guard_tested[apart], 1, self.guard_code[apart])
        small = 2 * self.tests.total <= np.iinfo(np.uint16).max
        self.literal_rows = rows.astype(np.uint16) if small else rows

    def _row(self, node: int) -> int:
        """A node's row in the pass: a leaf's own (shared by equal conditions); provisional
        inner ids -1, -2, ... are numbered after the leaves' rows."""
        return self.row_count - node - 1 if node < 0 else self.row_of[node]

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

    def _key(self, key: str, pass_keys: bool = False) -> KeyIndex:
        keys = self.pass_keys if pass_keys else self.keys
        if key not in keys:
            integer = self.schema.by_key[key].type in INT_TYPES
            keys[key] = KeyIndex(key, Ranges(integer), Timed(key, integer))
        return keys[key]

    def _new_row(self) -> int:
        self.row_count += 1
        return self.row_count - 1

    def _pass_row(self, node: Condition, lowered: Lowered, timed: bool) -> int:
        """The pass's row of a condition answered by attribute (the first leaf of an
        equal condition makes it, indexed under the pass's own keys). Equal conditions
        share one lowering (kept for the build), told apart by its id."""
        row = self._rows.get(id(lowered))
        if row is None:
            row = self._rows[id(lowered)] = self._new_row()
            index = self._key(lowered.key, pass_keys=True)
            if timed:
                index.timed.add(row, node)
            else:
                index_test(index, row, lowered.test)
        return row

    def _leaf(
        self, node: Condition | InSegment | Behaviour, rule: int, negated: bool | None
    ) -> int:
        leaf = len(self.leaf_rule)
        self.leaf_rule.append(rule)
        self.row_of.append(-1)
        if isinstance(node, InSegment | Behaviour):
            self.row_of[leaf] = self._new_row()
            if isinstance(node, InSegment):
                self.segments.append((leaf, node.code))
            else:
                self.behaviours.append((leaf, node))
            self.leaf_sign.append(None)  # answered from outside the record
            return leaf
        lowered = self._lowered.get(node)
        if lowered is None:
            lowered = self._lowered[node] = lower(node, self.schema, self.ctx)
        index = self._key(lowered.key)
        if isinstance(lowered.test, Compare):
            # Either attribute's change can flip it: both name it.
            index.paired.append(leaf)
            self._key(lowered.test.other).paired.append(leaf)
            self.pairs.append((leaf, lowered.key, lowered.test))
            self.tests.whole(leaf, compare_records(lowered.key, lowered.test))
            self.row_of[leaf] = self._new_row()
        elif isinstance(lowered.test, Anniversary):
            self._anniversary(leaf, index.key, node)
            self.moving[rule] = True
            self.row_of[leaf] = self._new_row()
        elif moves_with_time(node):
            index.timed.add(leaf, node)
            group = list(index.timed.groups).index((node.op.value, node.value))
            self.tests.timed_group(leaf, index.key, index.timed, group)
            self.moving[rule] = True
            self.row_of[leaf] = self._pass_row(node, lowered, True)
        else:
            self._index(index, leaf, lowered.test)
            self.row_of[leaf] = self._pass_row(node, lowered, False)
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
        """Index a leaf under its attribute, and give the one-record reading its test."""
        key = index.key
        tested = index_test(index, leaf, test)
        if isinstance(test, Range):
            self.tests.range(leaf, key, index.ranges.integer, test)
        elif isinstance(test, OneOf):
            self.tests.values(leaf, key, test.values, 1, primitive_test(test))
        elif isinstance(test, ListHas | ListHasAny | ListHasAll):
            items = {test.item} if isinstance(test, ListHas) else set(test.items)
            self.tests.values(leaf, key, items, index.need[leaf], primitive_test(test))
        elif isinstance(test, Present):
            self.tests.present(leaf, key)
        else:
            self.tests.test(leaf, key, tested or primitive_test(test))


def index_test(index: KeyIndex, leaf: int, test: Any) -> Any:
    """Index a leaf's test under its attribute (for the pass, and for the changes that
    can flip it); returns the Python test kept in ``index.tested``, if one is."""
    if isinstance(test, Range):
        index.ranges.add(leaf, test)
    elif isinstance(test, OneOf):
        for value in test.values:
            index.equal[value].append(leaf)
    elif isinstance(test, ListHas | ListHasAny | ListHasAll):
        items = {test.item} if isinstance(test, ListHas) else set(test.items)
        for item in items:
            index.items[item].append(leaf)
        index.need[leaf] = len(items) if isinstance(test, ListHasAll) else 1
    elif isinstance(test, Items):
        index.item_tests.append((leaf, test))
        index.tested.append((leaf, primitive_test(test)))  # names it when items move
        return index.tested[-1][1]
    elif isinstance(test, ListCount):
        index.counts.add(leaf, test.range)
    elif isinstance(test, Present):
        index.present.append(leaf)
    else:
        index.tested.append((leaf, primitive_test(test)))
        return index.tested[-1][1]
    return None


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
