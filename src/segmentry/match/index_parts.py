"""The parts of a :class:`~segmentry.match.rule_index.RuleIndex` kept per attribute.

Range conditions are arrays of bounds, tested for all conditions at once and
sorted so that a move from one value to another names the conditions with a
bound in between. Conditions whose bounds move with the clock (relative
times, day words) are grouped by their literal: at a new moment each distinct
literal is lowered once and its bounds stand for every condition of its group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.match.columns import MISSING_TIME, BoolColumn, TextColumn
from segmentry.match.eval_columnar import anniversary_mask
from segmentry.match.eval_python import primitive_test
from segmentry.match.lowering import Anniversary, Items, ListHas, ListHasAny, Range, lower
from segmentry.model import temporal
from segmentry.model.bitmaps import array_of
from segmentry.model.schema import AttrType, Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import Condition
from segmentry.rules.operators import Fn, Op

INT_LOW, INT_HIGH = np.iinfo(np.int64).min + 1, np.iinfo(np.int64).max
"""Unbounded ends of integer ranges: the lowest stands above ``MISSING_TIME``."""


def moves_with_time(cond: Condition) -> bool:
    """Whether a condition's answer can change as the clock moves: an anniversary's
    always (it is the next one from today), others' with a relative time or day word."""
    if cond.fn is Fn.ANNIVERSARY:
        return True
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


class Yearly:
    """An anniversary condition of an index, at whatever moment the index is at: its
    month-days are lowered again when the moment moves (kept for the last few: a change
    asks for the moment of the last sweep and now in turn)."""

    def __init__(self, cond: Condition, schema: Schema) -> None:
        self.cond = cond
        self.schema = schema
        self._at: dict[EvalContext, tuple[Anniversary, Callable[[Any], bool]]] = {}

    def at(self, ctx: EvalContext) -> tuple[Anniversary, Callable[[Any], bool]]:
        found = self._at.get(ctx)
        if found is None:
            if len(self._at) >= MOMENTS_KEPT:
                self._at.clear()
            test = lower(self.cond, self.schema, ctx).test
            assert isinstance(test, Anniversary)
            found = self._at[ctx] = (test, primitive_test(test))
        return found

    def holds(self, ctx: EvalContext, value: Any) -> bool:
        """Whether a value's anniversary passes the (positive) test at ``ctx``."""
        return value is not None and bool(self.at(ctx)[1](value))

    def rows(self, ctx: EvalContext, values: np.ndarray) -> np.ndarray:
        """The same for a column's values (``MISSING_TIME`` fails)."""
        return anniversary_mask(values, self.at(ctx)[0])


MOMENTS_KEPT = 4
"""Moments whose bounds a :class:`Timed` keeps."""

Bounds = tuple[Any, bool, Any, bool]
"""``(low, low_inclusive, high, high_inclusive)`` with unbounded ends filled in."""


def bounds(test: Range, integer: bool) -> Bounds:
    lowest, highest = (INT_LOW, INT_HIGH) if integer else (-np.inf, np.inf)
    return (
        lowest if test.low is None else test.low,
        test.low_inclusive or test.low is None,
        highest if test.high is None else test.high,
        test.high_inclusive or test.high is None,
    )


def closed(
    low: np.ndarray, low_inc: np.ndarray, high: np.ndarray, high_inc: np.ndarray, *, integer: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The same ranges with both ends included: an exclusive end becomes the next value
    inward, exact for int64, and for float64 (no float lies between a float and the
    next one). NaN and ``MISSING_TIME`` still fail every range."""
    if integer:
        return np.where(low_inc, low, low + 1), np.where(high_inc, high, high - 1)
    return (
        np.where(low_inc, low, np.nextafter(low, np.inf)),
        np.where(high_inc, high, np.nextafter(high, -np.inf)),
    )


class Ranges:
    """Range conditions on one attribute as arrays: tested for all of them at once."""

    def __init__(self, integer: bool) -> None:
        self.integer = integer
        self.leaves: list[int] = []
        self.bounds: list[Bounds] = []
        self.frozen: tuple[np.ndarray, ...] = ()
        self.sorted: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0, dtype=np.int64))

    def add(self, leaf: int, test: Range) -> None:
        self.leaves.append(leaf)
        self.bounds.append(bounds(test, self.integer))

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
        self.closed = closed(*self.frozen[1:], integer=self.integer)

    def holding(self, values: np.ndarray) -> np.ndarray:
        """A conditions x rows matrix for a vector of values (missing values fail)."""
        low, high = self.closed
        v = values[None, :]
        out: np.ndarray = (v >= low[:, None]) & (v <= high[:, None])
        return out

    def crossed(self, a: Any, b: Any) -> np.ndarray:
        """Conditions with a bound between ``a`` and ``b``: the only ones a move can flip."""
        values, owners = self.sorted
        lo, hi = (a, b) if a <= b else (b, a)
        found: np.ndarray = owners[
            np.searchsorted(values, lo, "left") : np.searchsorted(values, hi, "right")
        ]
        return found


class Timed:
    """The time-moving range conditions of one attribute, a group per distinct literal.

    At each moment the groups' bounds are a :class:`Ranges` whose "leaves" are
    group numbers (a handful: marketers reuse ``-7d``, ``-30d``, ...), so moving
    the clock costs a few lowerings, not a re-sort of every condition."""

    def __init__(self, key: str, integer: bool) -> None:
        self.key = key
        self.integer = integer
        self.groups: dict[tuple[str, Any], list[int]] = defaultdict(list)
        self.members: list[np.ndarray] = []
        self.group_of: np.ndarray = np.empty(0, dtype=np.int64)  # aligned with ``leaves``
        self.leaves: np.ndarray = np.empty(0, dtype=np.int64)
        self.owners: list[np.ndarray] = []  # each group's rules
        self._at: dict[EvalContext, Ranges] = {}
        self._lowered: tuple[EvalContext, list[Range]] | None = None
        """The groups' bounds at the moment they were last lowered (see :meth:`_shifted`)."""
        self._relative: bool | None = None
        self._recent: list[tuple[EvalContext, Ranges]] = []
        """The last two moments asked for and their bounds, found by identity: a write
        asks for its moment and the last sweep's several times, and hashing a moment
        (an aware datetime: its offset is looked up) costs more than the rest."""

    def add(self, leaf: int, cond: Condition) -> None:
        self.groups[(cond.op.value, cond.value)].append(leaf)

    def freeze(self) -> None:
        self.members = [np.array(ls, dtype=np.int64) for ls in self.groups.values()]
        sizes = [len(m) for m in self.members]
        self.group_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        self.leaves = np.concatenate(self.members) if self.members else self.leaves

    def at(self, schema: Schema, ctx: EvalContext) -> Ranges:
        """The groups' bounds at ``ctx`` (each distinct literal lowered once). The
        moments used last are kept: every write asks for its own moment and for the
        last sweep's, which must not be pushed out by the writes' ever-new moments."""
        for moment, known in self._recent:
            if moment is ctx:
                return known
        ranges = self._at.pop(ctx, None)
        if ranges is None:
            tests = self._shifted(schema, ctx)
            if tests is None:
                tests = [self._lower(schema, ctx, op, value) for op, value in self.groups]
                self._lowered = (ctx, tests)
            ranges = Ranges(self.integer)
            for group, test in enumerate(tests):
                ranges.add(group, test)
            ranges.freeze()
            if len(self._at) >= MOMENTS_KEPT:
                del self._at[next(iter(self._at))]  # the one used longest ago
        self._at[ctx] = ranges
        self._recent = [(ctx, ranges), *self._recent[:1]]
        return ranges

    def _lower(self, schema: Schema, ctx: EvalContext, op: str, value: Any) -> Range:
        test = lower(Condition(self.key, Op(op), value), schema, ctx).test
        assert isinstance(test, Range)
        return test

    def _shifted(self, schema: Schema, ctx: EvalContext) -> list[Range] | None:
        """The bounds at ``ctx`` moved from those last lowered, when that is exact: every
        literal a relative time (``-30d``, ``-2h``, ``-1M``) of a date-time attribute, a
        zone of fixed offset, the same local day. Such a literal is the moment shifted on
        its wall clock (hours on the UTC one), and the shifted wall clocks of two moments
        of one day differ by the time between them, the day's date alone deciding the
        calendar's part. ``None``: lower them instead."""
        if self._lowered is None or not self._relative_only(schema):
            return None
        then, tests = self._lowered
        tz = ctx.tz
        if then.tz != tz or not temporal.fixed_offset(tz):
            return None
        if temporal.local_now(then).date() != temporal.local_now(ctx).date():
            return None
        delta = temporal.to_micros(ctx.now) - temporal.to_micros(then.now)
        return [test.shifted(delta) for test in tests]

    def _relative_only(self, schema: Schema) -> bool:
        if self._relative is None:
            literals = (v if isinstance(v, tuple) else (v,) for _, v in self.groups)
            values = [value for group in literals for value in group]
            self._relative = schema.by_key[self.key].type is AttrType.DATETIME and all(
                isinstance(_temporal(v), temporal.Relative) for v in values
            )
        return self._relative

    @staticmethod
    def passed(then: Ranges, now: Ranges, value: Any) -> np.ndarray:
        """The groups one of whose bounds moved across ``value`` between two moments
        (ends included, as the sweep looks at them)."""
        hits = np.zeros(len(then.leaves), dtype=np.bool_)
        for end in (1, 3):  # low, high
            a, b = then.frozen[end], now.frozen[end]
            hits |= (np.minimum(a, b) <= value) & (value <= np.maximum(a, b))
        found: np.ndarray = then.frozen[0][hits]
        return found

    def own(self, leaf_owner: np.ndarray) -> None:
        """Learn each group's rules from the rule of every leaf."""
        self.owners = [leaf_owner[m] for m in self.members]


def _temporal(value: object) -> temporal.Temporal | None:
    try:
        return temporal.read_temporal(str(value))
    except temporal.TemporalError:
        return None


@dataclass(frozen=True)
class ListLeaves:
    """The list conditions of one attribute as arrays: their leaves, the hits each
    needs (1, or all its items), and for each item the positions of its leaves."""

    leaves: np.ndarray
    need: np.ndarray
    positions: dict[str, np.ndarray]

    @classmethod
    def of(cls, items: Mapping[str, list[int]], need: Mapping[int, int]) -> ListLeaves:
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


MEMO_LIMIT = 65_536


def _leaf_lists() -> defaultdict[Any, list[int]]:
    return defaultdict(list)


@dataclass
class KeyIndex:
    """Everything indexed under one attribute."""

    key: str
    ranges: Ranges
    timed: Timed
    equal: dict[Any, list[int]] = field(default_factory=_leaf_lists)
    items: dict[str, list[int]] = field(default_factory=_leaf_lists)
    need: dict[int, int] = field(default_factory=dict)  # CONTAINS ALL: items a leaf needs
    present: list[int] = field(default_factory=list)
    counts: Ranges = field(default_factory=lambda: Ranges(False))  # count(list) conditions
    paired: list[int] = field(default_factory=list)  # comparisons with another attribute
    item_tests: list[tuple[int, Items]] = field(default_factory=list)  # ANY, ALL, NONE
    tested: list[tuple[int, Callable[[Any], bool]]] = field(default_factory=list)
    lists: ListLeaves = field(default_factory=lambda: ListLeaves.of({}, {}))
    arrays: dict[Any, np.ndarray] = field(default_factory=dict)  # ``equal`` and ``items``
    holding: dict[Any, list[int]] = field(default_factory=dict)  # memo of ``holding_at``

    def freeze(self) -> None:
        self.ranges.freeze()
        self.counts.freeze()
        self.timed.freeze()
        self.lists = ListLeaves.of(self.items, self.need)
        for value, leaves in [*self.equal.items(), *self.items.items()]:
            self.arrays[value] = np.array(leaves, dtype=np.int64)

    def leaves_of(self, value: Any) -> np.ndarray | None:
        """The equality or list-item leaves that name ``value``."""
        return self.arrays.get(value)

    def holding_at(self, value: Any) -> list[int]:
        """The equality and string-test leaves that hold at ``value``; kept, since a
        batch pass asks for every distinct value of its rows and tests cost a call each
        (a column of numbers may have endless values: the memo is bounded)."""
        found = self.holding.get(value)
        if found is None:
            if len(self.holding) >= MEMO_LIMIT:
                self.holding.clear()
            found = self.holding[value] = [
                *self.equal.get(value, ()),
                *(leaf for leaf, test in self.tested if test(value)),
            ]
        return found


def stored_value(column: Any, stored: Any) -> Any:
    """A stored column value as records hold it (string for a code, bool for a flag)."""
    if isinstance(column, TextColumn):
        return column.values[stored]
    if isinstance(column, BoolColumn):
        return bool(stored)
    return stored


def present_rows(column: Any, values: np.ndarray) -> np.ndarray:
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


def list_items(test: ListHas | ListHasAny) -> frozenset[str]:
    return frozenset((test.item,)) if isinstance(test, ListHas) else test.items


def rows_in(rows: np.ndarray, members: BitMap) -> np.ndarray:
    """A boolean per row: whether it is in ``members``."""
    if not members:
        return np.zeros(len(rows), dtype=np.bool_)
    return np.isin(rows, array_of(members))


def safe_test(test: Callable[[Any], bool], value: Any) -> bool:
    return value is not None and bool(test(value))
