"""Many rules over one record: which can flip when the record changes, and all of
them at once.

A :class:`RuleIndex` compiles a set of checked rules into one flat program.
Its leaves are the rules' conditions, grouped by attribute and test so that
each group is evaluated with one numpy operation across every rule; its inner
nodes (``AND``, ``OR``, ``NOT``) are evaluated level by level with
``reduceat``. That answers "which rules hold for this record" for all rules in
one vectorised pass.

For a change from an old to a new record, :meth:`RuleIndex.flips` finds the
conditions whose answer can differ without evaluating the others: sorted
bounds for ranges (only bounds between the old and the new value matter),
value maps for equality and list items, and an exact re-test of the few
string and time conditions of the changed attributes. Only the rules that own
those conditions can change membership.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmentry.rules import temporal
from segmentry.rules.ast import And, Condition, InSegment, Node, Not, Or
from segmentry.rules.eval_python import primitive_test
from segmentry.rules.lowering import (
    ListHas,
    ListHasAll,
    ListHasAny,
    Lowered,
    OneOf,
    Present,
    Range,
    lower,
)
from segmentry.rules.schema import AttrType, Schema
from segmentry.rules.temporal import EvalContext

Record = Mapping[str, Any]
IsMember = Callable[[str], bool]
INT_TYPES = (AttrType.DATE, AttrType.DATETIME)


def _moves_with_time(cond: Condition) -> bool:
    values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    for value in values:
        if isinstance(value, str):
            try:
                parsed = temporal.read_temporal(value)
            except temporal.TemporalError:
                continue
            if isinstance(parsed, temporal.Relative | temporal.DayWord):
                return True
    return False


@dataclass
class _RangeGroup:
    """Range conditions on one attribute: bounds as arrays, for all of them at once."""

    leaves: list[int] = field(default_factory=list)
    low: list[Any] = field(default_factory=list)
    low_inclusive: list[bool] = field(default_factory=list)
    high: list[Any] = field(default_factory=list)
    high_inclusive: list[bool] = field(default_factory=list)
    arrays: tuple[np.ndarray, ...] = ()
    bounds: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0, dtype=np.int64))

    def add(self, leaf: int, test: Range, integer: bool) -> None:
        lowest, highest = (
            (np.iinfo(np.int64).min, np.iinfo(np.int64).max) if integer else (-np.inf, np.inf)
        )
        self.leaves.append(leaf)
        self.low.append(lowest if test.low is None else test.low)
        self.low_inclusive.append(test.low_inclusive or test.low is None)
        self.high.append(highest if test.high is None else test.high)
        self.high_inclusive.append(test.high_inclusive or test.high is None)

    def freeze(self, integer: bool) -> None:
        dtype = np.int64 if integer else np.float64
        self.arrays = (
            np.array(self.leaves, dtype=np.int64),
            np.array(self.low, dtype=dtype),
            np.array(self.low_inclusive),
            np.array(self.high, dtype=dtype),
            np.array(self.high_inclusive),
        )
        values = np.concatenate([self.arrays[1], self.arrays[3]])
        owners = np.concatenate([self.arrays[0], self.arrays[0]])
        order = np.argsort(values, kind="stable")
        self.bounds = (values[order], owners[order])

    def holds(self, value: Any) -> np.ndarray:
        """Which of the group's conditions hold for ``value`` (one vectorised test)."""
        _, low, low_inc, high, high_inc = self.arrays
        above = np.where(low_inc, value >= low, value > low)
        below = np.where(high_inc, value <= high, value < high)
        result: np.ndarray = above & below
        return result

    def crossed(self, a: Any, b: Any) -> np.ndarray:
        """Conditions with a bound between ``a`` and ``b``: the only ones a move can flip."""
        values, owners = self.bounds
        lo, hi = (a, b) if a <= b else (b, a)
        result: np.ndarray = owners[
            np.searchsorted(values, lo, "left") : np.searchsorted(values, hi, "right")
        ]
        return result


@dataclass
class _KeyIndex:
    """Everything indexed under one attribute."""

    ranges: _RangeGroup = field(default_factory=_RangeGroup)
    equal: dict[Any, list[int]] = field(default_factory=lambda: defaultdict(list))
    items: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    need_all: dict[int, int] = field(default_factory=dict)
    present: list[int] = field(default_factory=list)
    tested: list[tuple[int, Callable[[Any], bool]]] = field(default_factory=list)
    timed: list[tuple[int, Condition]] = field(default_factory=list)


class RuleIndex:
    """A set of checked rules of one kind, compiled together."""

    def __init__(self, rules: Mapping[int, Node], schema: Schema, ctx: EvalContext) -> None:
        self.schema = schema
        self.ctx = ctx
        self.rule_ids = np.array(list(rules), dtype=np.int64)
        self.keys: dict[str, _KeyIndex] = defaultdict(_KeyIndex)
        self.segments: list[tuple[int, str]] = []
        self.leaf_rule: list[int] = []
        self._ops: list[tuple[str, list[int]]] = []  # inner nodes: ("and"|"or"|"not", children)
        roots = [self._emit(tree, position) for position, tree in enumerate(rules.values())]
        self.leaf_count = len(self.leaf_rule)
        self.roots = np.array(roots, dtype=np.int64)
        self.leaf_owner = np.array(self.leaf_rule, dtype=np.int64)
        self._freeze()

    # -- compiling --------------------------------------------------------------------

    def _emit(self, node: Node, rule: int) -> int:
        """Emit ``node``; returns its id (leaves first, inner nodes numbered after them)."""
        if isinstance(node, Condition | InSegment):
            return self._leaf(node, rule)
        if isinstance(node, Not):
            return self._op("not", [self._emit(node.item, rule)])
        assert isinstance(node, And | Or)
        return self._op(
            "and" if isinstance(node, And) else "or", [self._emit(i, rule) for i in node.items]
        )

    def _op(self, kind: str, children: list[int]) -> int:
        self._ops.append((kind, children))
        return -len(self._ops)  # provisional: inner ids are fixed once all leaves are known

    def _leaf(self, node: Condition | InSegment, rule: int) -> int:
        leaf = len(self.leaf_rule)
        self.leaf_rule.append(rule)
        if isinstance(node, InSegment):
            self.segments.append((leaf, node.code))
            return leaf
        lowered = lower(node, self.schema, self.ctx)
        index = self.keys[lowered.key]
        if _moves_with_time(node):
            index.timed.append((leaf, node))
        else:
            self._index(index, leaf, lowered)
        return self._op("not", [leaf]) if lowered.negated else leaf

    def _index(self, index: _KeyIndex, leaf: int, lowered: Lowered) -> None:
        test = lowered.test
        if isinstance(test, Range):
            index.ranges.add(leaf, test, lowered.type in INT_TYPES)
        elif isinstance(test, OneOf):
            for value in test.values:
                index.equal[value].append(leaf)
        elif isinstance(test, ListHas | ListHasAny):
            for item in (test.item,) if isinstance(test, ListHas) else test.items:
                index.items[item].append(leaf)
        elif isinstance(test, ListHasAll):
            for item in test.items:
                index.items[item].append(leaf)
            index.need_all[leaf] = len(test.items)
        elif isinstance(test, Present):
            index.present.append(leaf)
        else:
            index.tested.append((leaf, primitive_test(test)))

    def _freeze(self) -> None:
        for key, index in self.keys.items():
            attribute = self.schema.by_key[key]
            index.ranges.freeze(attribute.type in INT_TYPES)
        self._levels = self._levelise()

    def _levelise(self) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """Inner nodes grouped by height: (kind, node ids, children, segment starts)."""
        ids = {-(n + 1): self.leaf_count + n for n in range(len(self._ops))}
        height: dict[int, int] = {}
        resolved = [(kind, [ids.get(c, c) for c in children]) for kind, children in self._ops]
        for n, (_, children) in enumerate(resolved):
            height[n] = 1 + max(
                (height.get(c - self.leaf_count, 0) if c >= self.leaf_count else 0)
                for c in children
            )
        self.roots = np.array([ids.get(int(r), int(r)) for r in self.roots], dtype=np.int64)
        levels = []
        for h in sorted(set(height.values())):
            for kind in ("and", "or", "not"):
                nodes = [n for n, (k, _) in enumerate(resolved) if k == kind and height[n] == h]
                if nodes:
                    kids = [resolved[n][1] for n in nodes]
                    starts = np.cumsum([0] + [len(k) for k in kids[:-1]])
                    levels.append(
                        (
                            kind,
                            np.array(nodes, dtype=np.int64) + self.leaf_count,
                            np.array([c for k in kids for c in k], dtype=np.int64),
                            starts,
                        )
                    )
        return levels

    # -- evaluating ---------------------------------------------------------------------

    def leaves(
        self, record: Record, is_member: IsMember, keys: Iterable[str] | None = None
    ) -> np.ndarray:
        """The truth of every leaf for ``record`` (only leaves of ``keys`` if given)."""
        truth = np.zeros(self.leaf_count + len(self._ops), dtype=np.bool_)
        for key in self.keys if keys is None else keys:
            index = self.keys.get(key)
            if index is not None:
                self._fill(truth, index, key, record.get(key))
        for leaf, code in self.segments:
            truth[leaf] = is_member(code)
        return truth

    def _fill(self, truth: np.ndarray, index: _KeyIndex, key: str, value: Any) -> None:
        for leaf, test in self._timed_tests(index):
            truth[leaf] = value is not None and test(value)
        if value is None:
            return
        if index.ranges.leaves:
            truth[index.ranges.arrays[0]] = index.ranges.holds(value)
        if isinstance(value, tuple | list):
            self._fill_list(truth, index, tuple(value))
        else:
            truth[index.equal.get(value, [])] = True
        truth[index.present] = True
        for leaf, test in index.tested:
            truth[leaf] = test(value)

    def _fill_list(self, truth: np.ndarray, index: _KeyIndex, items: tuple[str, ...]) -> None:
        hits: dict[int, int] = defaultdict(int)
        for item in items:
            for leaf in index.items.get(item, ()):
                hits[leaf] += 1
        for leaf, count in hits.items():
            truth[leaf] = count >= index.need_all.get(leaf, 1)

    def _timed_tests(self, index: _KeyIndex) -> list[tuple[int, Callable[[Any], bool]]]:
        """The positive tests of time-moving conditions at ``self.ctx`` (a NOT above the
        leaf applies a negative operator, as for every other leaf)."""
        return [
            (leaf, primitive_test(lower(cond, self.schema, self.ctx).test))
            for leaf, cond in index.timed
        ]

    def holds(self, record: Record, is_member: IsMember) -> np.ndarray:
        """Which rules hold for ``record``, in the order they were given (one pass)."""
        truth = self.leaves(record, is_member)
        for kind, nodes, children, starts in self._levels:
            values = truth[children]
            if kind == "and":
                truth[nodes] = np.logical_and.reduceat(values, starts)
            elif kind == "or":
                truth[nodes] = np.logical_or.reduceat(values, starts)
            else:
                truth[nodes] = ~values
        result: np.ndarray = truth[self.roots]
        return result

    def flips(self, old: Record, new: Record) -> np.ndarray:
        """Positions of the rules a change from ``old`` to ``new`` can flip."""
        flipped: list[np.ndarray] = []
        for key in set(old) | set(new):
            before, after = old.get(key), new.get(key)
            index = self.keys.get(key)
            if index is None or before == after:
                continue
            flipped.append(self._flipped(index, before, after))
        if not flipped:
            return np.empty(0, dtype=np.int64)
        result: np.ndarray = np.unique(self.leaf_owner[np.concatenate(flipped)])
        return result

    def _flipped(self, index: _KeyIndex, before: Any, after: Any) -> np.ndarray:
        out: list[Any] = []
        ranges = index.ranges
        if ranges.leaves:
            if before is not None and after is not None:
                out.append(ranges.crossed(before, after))
            else:
                present = after if before is None else before
                out.append(ranges.arrays[0][ranges.holds(present)])
        for value in (before, after):
            if isinstance(value, tuple | list):
                continue
            out.append(np.array(index.equal.get(value, []), dtype=np.int64))
        changed_items = (
            set(before or ()) ^ set(after or ())
            if isinstance(before or after, tuple | list)
            else set()
        )
        out.extend(np.array(index.items.get(item, []), dtype=np.int64) for item in changed_items)
        if (before is None) != (after is None):
            out.append(np.array(index.present, dtype=np.int64))
        tests = index.tested + self._timed_tests(index)
        out.append(
            np.array(
                [leaf for leaf, t in tests if _safe(t, before) != _safe(t, after)], dtype=np.int64
            )
        )
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _safe(test: Callable[[Any], bool], value: Any) -> bool:
    return value is not None and bool(test(value))
