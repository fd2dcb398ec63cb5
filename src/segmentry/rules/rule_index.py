"""Many rules over some rows: which rules hold for each row, and which a change can flip.

A :class:`RuleIndex` compiles a set of checked rules (of one kind) into one
flat program. Its leaves are the rules' conditions, grouped by attribute and
test so that each group is evaluated with a few numpy operations for every row
and every rule at once; its inner nodes (``AND``, ``OR``, ``NOT``) are
evaluated level by level with ``reduceat``. :meth:`RuleIndex.holds` reads the
rows' values straight from a :class:`ColumnarTable` and answers a rows x rules
matrix: one vectorised pass for a whole batch.

For one entity changing from an old to a new record, :meth:`RuleIndex.flips`
finds the rules whose answer can differ without evaluating the others: sorted
bounds for ranges (only bounds between the old and the new value matter),
value maps for equality and list items, and an exact re-test of the few string
conditions of the changed attributes.

Conditions with relative times or day words move with the clock. They are
grouped by their literal: at each new moment every distinct literal is
lowered once and its bounds copied to all the conditions that share it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.rules import temporal
from segmentry.rules.ast import And, Condition, InSegment, Node, Not, Op, Or
from segmentry.rules.columnar import MISSING_TIME, BoolColumn, ColumnarTable, ListColumn, TextColumn
from segmentry.rules.eval_python import primitive_test
from segmentry.rules.lowering import ListHas, ListHasAll, ListHasAny, OneOf, Present, Range, lower
from segmentry.rules.schema import AttrType, Schema
from segmentry.rules.temporal import EvalContext

Record = Mapping[str, Any]
MemberRows = Callable[[str], np.ndarray]
"""For ``IN SEGMENT``: a boolean per row, whether it is a member of the code."""
INT_TYPES = (AttrType.DATE, AttrType.DATETIME)
Leaves = np.ndarray


def moves_with_time(cond: Condition) -> bool:
    """Whether a condition's answer can change as the clock moves."""
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


class _Ranges:
    """Range conditions on one attribute as arrays: tested for all of them at once."""

    def __init__(self, integer: bool) -> None:
        self.integer = integer
        self.leaves: list[int] = []
        self.bounds: list[tuple[Any, bool, Any, bool]] = []
        self.frozen: tuple[np.ndarray, ...] = ()
        self.sorted: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0, dtype=np.int64))

    def add(self, leaf: int, test: Range) -> None:
        lowest, highest = (
            (np.iinfo(np.int64).min + 1, np.iinfo(np.int64).max)
            if self.integer
            else (-np.inf, np.inf)
        )
        self.leaves.append(leaf)
        self.bounds.append(
            (
                lowest if test.low is None else test.low,
                test.low_inclusive or test.low is None,
                highest if test.high is None else test.high,
                test.high_inclusive or test.high is None,
            )
        )

    def freeze(self) -> None:
        dtype = np.int64 if self.integer else np.float64
        low, low_inc, high, high_inc = (
            zip(*self.bounds, strict=True) if self.bounds else ((), (), (), ())
        )
        leaves = np.array(self.leaves, dtype=np.int64)
        self.frozen = (
            leaves,
            np.array(low, dtype=dtype),
            np.array(low_inc, dtype=np.bool_),
            np.array(high, dtype=dtype),
            np.array(high_inc, dtype=np.bool_),
        )
        values = np.concatenate([self.frozen[1], self.frozen[3]])
        order = np.argsort(values, kind="stable")
        self.sorted = (values[order], np.concatenate([leaves, leaves])[order])

    def holds(self, values: np.ndarray) -> np.ndarray:
        """A rows x conditions matrix for a vector of values (missing values fail)."""
        _, low, low_inc, high, high_inc = self.frozen
        v = values[:, None]
        above = np.where(low_inc, v >= low, v > low)
        below = np.where(high_inc, v <= high, v < high)
        return above & below

    def crossed(self, a: Any, b: Any) -> np.ndarray:
        """Conditions with a bound between ``a`` and ``b``: the only ones a move can flip."""
        values, owners = self.sorted
        lo, hi = (a, b) if a <= b else (b, a)
        found: np.ndarray = owners[
            np.searchsorted(values, lo, "left") : np.searchsorted(values, hi, "right")
        ]
        return found


@dataclass(frozen=True)
class _ListLeaves:
    """The list conditions of one attribute as arrays: their leaves, the hits each
    needs (1, or all its items), and for each item the positions of its leaves."""

    leaves: np.ndarray
    need: np.ndarray
    positions: dict[str, np.ndarray]

    @classmethod
    def of(cls, items: Mapping[str, list[int]], need: Mapping[int, int]) -> _ListLeaves:
        leaves = sorted(need)
        position = {leaf: k for k, leaf in enumerate(leaves)}
        return cls(
            np.array(leaves, dtype=np.int64),
            np.array([need[leaf] for leaf in leaves], dtype=np.int32),
            {
                i: np.array([position[leaf] for leaf in ls], dtype=np.int64)
                for i, ls in items.items()
            },
        )


@dataclass
class _KeyIndex:
    """Everything indexed under one attribute."""

    key: str
    ranges: _Ranges
    equal: dict[Any, list[int]] = field(default_factory=lambda: defaultdict(list))
    items: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    need: dict[int, int] = field(default_factory=dict)  # CONTAINS ALL: items a leaf needs
    present: list[int] = field(default_factory=list)
    tested: list[tuple[int, Callable[[Any], bool]]] = field(default_factory=list)
    timed: dict[tuple[str, Any], list[int]] = field(default_factory=lambda: defaultdict(list))
    moving: _Ranges | None = None  # the timed conditions' ranges at ``moved_at``
    lists: _ListLeaves = field(default_factory=lambda: _ListLeaves.of({}, {}))
    moved_at: EvalContext | None = None


class RuleIndex:
    """A set of checked rules of one kind, compiled together. Rules are addressed
    by their position in the mapping given."""

    def __init__(self, rules: Mapping[int, Node], schema: Schema, ctx: EvalContext) -> None:
        self.schema = schema
        self.ctx = ctx
        self.rule_ids = list(rules)
        self.keys: dict[str, _KeyIndex] = {}
        self.segments: list[tuple[int, str]] = []
        self.leaf_rule: list[int] = []
        self.ops: list[tuple[str, list[int]]] = []
        self.guards: dict[str, dict[Any, list[int]]] = defaultdict(lambda: defaultdict(list))
        self.unguarded = np.ones(len(self.rule_ids), dtype=np.bool_)
        provisional = []
        for position, tree in enumerate(rules.values()):
            provisional.append(self._emit(tree, position))
            self._guard(tree, position)
        self.guarded = {
            key: {value: np.array(rules, dtype=np.int64) for value, rules in by_value.items()}
            for key, by_value in self.guards.items()
        }
        self.leaf_count = len(self.leaf_rule)
        self.leaf_owner = np.array(self.leaf_rule, dtype=np.int64)
        for index in self.keys.values():
            index.ranges.freeze()
            index.lists = _ListLeaves.of(index.items, index.need)
        self.roots, self.levels = self._levelise(provisional)
        # Re-checking one candidate with its Python predicate costs about 2 µs; one
        # vectorised pass over one row costs about 40 ns a rule (bench/, M = 10,000 and
        # 100,000), so re-checking pays while the candidates are under 1/50 of the rules.
        # Conditions that can flip are counted first and may be a few times more: rules
        # whose guard the new record lacks are then set aside by :meth:`triage`.
        self.recheck_limit = max(32, len(self.rule_ids) // 50)
        self.flip_limit = 4 * self.recheck_limit

    def __len__(self) -> int:
        return len(self.rule_ids)

    # -- compiling ------------------------------------------------------------------------

    def _emit(self, node: Node, rule: int) -> int:
        if isinstance(node, Condition | InSegment):
            return self._leaf(node, rule)
        if isinstance(node, Not):
            return self._op("not", [self._emit(node.item, rule)])
        assert isinstance(node, And | Or)
        return self._op(
            "and" if isinstance(node, And) else "or", [self._emit(i, rule) for i in node.items]
        )

    def _op(self, kind: str, children: list[int]) -> int:
        self.ops.append((kind, children))
        return -len(self.ops)  # inner nodes are numbered after the leaves once all are known

    def _key(self, key: str) -> _KeyIndex:
        if key not in self.keys:
            self.keys[key] = _KeyIndex(key, _Ranges(self.schema.by_key[key].type in INT_TYPES))
        return self.keys[key]

    def _leaf(self, node: Condition | InSegment, rule: int) -> int:
        leaf = len(self.leaf_rule)
        self.leaf_rule.append(rule)
        if isinstance(node, InSegment):
            self.segments.append((leaf, node.code))
            return leaf
        lowered = lower(node, self.schema, self.ctx)
        index = self._key(lowered.key)
        if moves_with_time(node):
            index.timed[(node.op.value, node.value)].append(leaf)
        else:
            self._index(index, leaf, lowered.test)
        return self._op("not", [leaf]) if lowered.negated else leaf

    def _guard(self, tree: Node, rule: int) -> None:
        """Index a rule under one condition it cannot hold without: a value or list
        item its record must have (a condition of its top-level ``AND``)."""
        for node in tree.items if isinstance(tree, And) else (tree,):
            if not isinstance(node, Condition) or moves_with_time(node):
                continue
            lowered = lower(node, self.schema, self.ctx)
            test = lowered.test
            if lowered.negated or not isinstance(test, OneOf | ListHas | ListHasAny):
                continue
            values = test.values if isinstance(test, OneOf) else _items(test)
            for value in values:
                self.guards[lowered.key][value].append(rule)
            self.unguarded[rule] = False
            return

    def _index(self, index: _KeyIndex, leaf: int, test: Any) -> None:
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
        elif isinstance(test, Present):
            index.present.append(leaf)
        else:
            index.tested.append((leaf, primitive_test(test)))

    def _levelise(
        self, provisional: list[int]
    ) -> tuple[np.ndarray, list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]]:
        """Inner nodes by height (children before parents): kind, ids, children, starts."""

        def real(node: int) -> int:  # provisional inner ids -1, -2, ... follow the leaves
            return self.leaf_count - node - 1 if node < 0 else node

        height: list[int] = []
        resolved: list[tuple[str, list[int]]] = []
        for kind, children in self.ops:
            kids = [real(c) for c in children]
            resolved.append((kind, kids))
            height.append(
                1 + max((height[c - self.leaf_count] if c >= self.leaf_count else 0) for c in kids)
            )
        levels = []
        for h in sorted(set(height)):
            for kind in ("and", "or", "not"):
                nodes = [n for n, (k, _) in enumerate(resolved) if k == kind and height[n] == h]
                if nodes:
                    groups = [resolved[n][1] for n in nodes]
                    starts = np.cumsum([0] + [len(g) for g in groups[:-1]])
                    flat = np.array([c for g in groups for c in g], dtype=np.int64)
                    levels.append(
                        (kind, np.array(nodes, dtype=np.int64) + self.leaf_count, flat, starts)
                    )
        return np.array([real(r) for r in provisional], dtype=np.int64), levels

    def _moving(self, index: _KeyIndex) -> _Ranges | None:
        """The time-moving conditions of an attribute as ranges at ``self.ctx`` (each
        distinct literal lowered once)."""
        if not index.timed:
            return None
        if index.moved_at is not self.ctx:
            moving = _Ranges(index.ranges.integer)
            for (op, value), leaves in index.timed.items():
                test = lower(Condition(index.key, Op(op), value), self.schema, self.ctx).test
                assert isinstance(test, Range)
                for leaf in leaves:
                    moving.add(leaf, test)
            moving.freeze()
            index.moving, index.moved_at = moving, self.ctx
        return index.moving

    # -- all rules, many rows -----------------------------------------------------------------

    def holds(self, table: ColumnarTable, rows: np.ndarray, member_rows: MemberRows) -> np.ndarray:
        """A rows x rules boolean matrix: which rules hold for each row of ``table``."""
        truth = np.zeros((len(rows), self.leaf_count + len(self.ops)), dtype=np.bool_)
        for key, index in self.keys.items():
            self._fill(truth, index, table, key, rows)
        for leaf, code in self.segments:
            truth[:, leaf] = member_rows(code)
        for kind, nodes, children, starts in self.levels:
            values = truth[:, children]
            if kind == "and":
                truth[:, nodes] = np.logical_and.reduceat(values, starts, axis=1)
            elif kind == "or":
                truth[:, nodes] = np.logical_or.reduceat(values, starts, axis=1)
            else:
                truth[:, nodes] = ~values
        result: np.ndarray = truth[:, self.roots]
        return result

    def _fill(
        self, truth: np.ndarray, index: _KeyIndex, table: ColumnarTable, key: str, rows: np.ndarray
    ) -> None:
        column = table.columns[key]
        if isinstance(column, ListColumn):
            self._fill_list(truth, index, column, rows)
            return
        raw = column.codes[rows] if isinstance(column, TextColumn) else column.values[rows]
        present = _present(column, raw)
        for ranges in (index.ranges, self._moving(index)):
            if ranges is not None and ranges.leaves:
                truth[:, ranges.frozen[0]] = ranges.holds(raw) & present[:, None]
        if index.present:
            truth[:, index.present] = present[:, None]
        if index.equal or index.tested:
            self._fill_by_value(truth, index, column, raw, present)

    def _fill_by_value(
        self, truth: np.ndarray, index: _KeyIndex, column: Any, raw: np.ndarray, present: np.ndarray
    ) -> None:
        """Equality and string tests, once per distinct value of the rows."""
        distinct, inverse = np.unique(raw[present], return_inverse=True)
        where = np.flatnonzero(present)
        for k, stored in enumerate(distinct.tolist()):
            value = _value(column, stored)
            leaves = [
                *index.equal.get(value, ()),
                *(leaf for leaf, test in index.tested if test(value)),
            ]
            if leaves:
                truth[np.ix_(where[inverse == k], leaves)] = True

    def _fill_list(
        self, truth: np.ndarray, index: _KeyIndex, column: ListColumn, rows: np.ndarray
    ) -> None:
        batch = BitMap(rows.astype(np.uint32))
        if index.present:
            truth[:, index.present] = rows_in(rows, column.present & batch)[:, None]
        if not index.items:
            return
        lists = index.lists
        hits = np.zeros((len(rows), len(lists.leaves)), dtype=np.int32)
        for item, positions in lists.positions.items():
            holders = column.items.get(item)
            if holders:
                holding = holders & batch
                if holding:
                    hits[:, positions] += rows_in(rows, holding)[:, None]
        truth[:, lists.leaves] = hits >= lists.need

    # -- one row, changing --------------------------------------------------------------------

    def flips(self, old: Record, new: Record, limit: int | None = None) -> np.ndarray | None:
        """Positions of the rules a change from ``old`` to ``new`` can flip; ``None``
        when more than ``limit`` conditions could (do the vectorised pass instead)."""
        found: list[np.ndarray] = []
        total = 0
        for key in set(old) | set(new):
            before, after = old.get(key), new.get(key)
            index = self.keys.get(key)
            if index is None or before == after:
                continue
            leaves = self._flipped(index, before, after)
            total += len(leaves)
            if limit is not None and total > limit:
                return None
            found.append(leaves)
        if not found:
            return np.empty(0, dtype=np.int64)
        result: np.ndarray = np.unique(self.leaf_owner[np.concatenate(found)])
        return result

    def recheck(self, old: Record | None, new: Record) -> tuple[np.ndarray, np.ndarray] | None:
        """For one changed entity: the rules to re-check and the rules ``new`` cannot
        satisfy (check those for exits only); ``None`` when one vectorised pass over
        the row is cheaper (a new entity, or too many rules to re-check)."""
        flipped = None if old is None else self.flips(old, new, self.flip_limit)
        if flipped is None:
            return None
        check, cannot = self.triage(flipped, new)
        return None if len(check) > self.recheck_limit else (check, cannot)

    def triage(self, candidates: np.ndarray, new: Record) -> tuple[np.ndarray, np.ndarray]:
        """Split candidate rules into those to re-check and those that cannot hold for
        ``new`` (a value their guard needs is absent: they hold for nobody with it)."""
        possible = self.unguarded.copy()
        for key, by_value in self.guarded.items():
            value = new.get(key)
            for item in value if isinstance(value, tuple | list) else (value,):
                rules = by_value.get(item)
                if rules is not None:
                    possible[rules] = True
        holds = possible[candidates]
        return candidates[holds], candidates[~holds]

    def _flipped(self, index: _KeyIndex, before: Any, after: Any) -> np.ndarray:
        out: list[np.ndarray] = []
        for ranges in (index.ranges, self._moving(index)):
            if ranges is None or not ranges.leaves:
                continue
            if before is not None and after is not None:
                out.append(ranges.crossed(before, after))
            else:
                value = np.array(
                    [after if before is None else before], dtype=ranges.frozen[1].dtype
                )
                out.append(ranges.frozen[0][ranges.holds(value)[0]])
        listed = isinstance(before, tuple | list) or isinstance(after, tuple | list)
        if listed:
            changed = set(before or ()) ^ set(after or ())
            out.extend(np.array(index.items.get(item, []), dtype=np.int64) for item in changed)
        else:
            out.extend(np.array(index.equal.get(v, []), dtype=np.int64) for v in (before, after))
        if (before is None) != (after is None):
            out.append(np.array(index.present, dtype=np.int64))
        moved = [leaf for leaf, test in index.tested if _safe(test, before) != _safe(test, after)]
        out.append(np.array(moved, dtype=np.int64))
        return np.concatenate(out)


def _value(column: Any, stored: Any) -> Any:
    """A stored column value as records hold it (string for a code, bool for a flag)."""
    if isinstance(column, TextColumn):
        return column.values[stored]
    if isinstance(column, BoolColumn):
        return bool(stored)
    return stored


def _present(column: Any, values: np.ndarray) -> np.ndarray:
    present: np.ndarray
    if isinstance(column, TextColumn):
        present = values != 0
    elif values.dtype.kind == "f":
        present = ~np.isnan(values)
    elif isinstance(column, BoolColumn):
        present = values >= 0
    else:
        present = values != MISSING_TIME
    return present


def _items(test: ListHas | ListHasAny) -> frozenset[str]:
    return frozenset((test.item,)) if isinstance(test, ListHas) else test.items


def rows_in(rows: np.ndarray, members: BitMap) -> np.ndarray:
    """A boolean per row: whether it is in ``members``."""
    if not members:
        return np.zeros(len(rows), dtype=np.bool_)
    return np.isin(rows, np.frombuffer(members.to_array(), dtype=np.uint32))


def _safe(test: Callable[[Any], bool], value: Any) -> bool:
    return value is not None and bool(test(value))
