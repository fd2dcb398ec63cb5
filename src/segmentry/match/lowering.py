"""Conditions lowered to primitive tests over encoded values.

Every evaluator (Python, SQL, columnar) compiles a checked condition by first
lowering it here: the attribute's type, the operator and the literal become
one :data:`Primitive` over the attribute's *encoded* value (see
:mod:`segmentry.model.values`), plus a ``negated`` flag. Case folding, day
boundaries in the tenant's time zone and relative times are all resolved in
this one place, so the evaluators only implement ten simple tests and cannot
disagree on meaning.

A missing value fails every primitive; a negative operator is exactly the
negation of its positive twin (so ``brand != 'Nike'`` holds when brand is
missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from segmentry.match import anniversaries
from segmentry.model import temporal
from segmentry.model.schema import AttrType, Schema
from segmentry.model.temporal import EvalContext
from segmentry.model.values import fold
from segmentry.rules.ast import AttrRef, Condition, Scalar
from segmentry.rules.operators import Each, Fn, Op

Number = int | float


@dataclass(frozen=True, slots=True)
class Range:
    """``low (<|<=) value (<|<=) high``; a ``None`` end is unbounded."""

    low: Number | None
    low_inclusive: bool
    high: Number | None
    high_inclusive: bool

    def shifted(self, delta: int) -> Range:
        """The range with both ends moved by ``delta`` (an unbounded end stays so)."""
        low, high = self.low, self.high
        return Range(
            None if low is None else low + delta,
            self.low_inclusive,
            None if high is None else high + delta,
            self.high_inclusive,
        )


@dataclass(frozen=True, slots=True)
class OneOf:
    """The value equals one of ``values`` (folded strings, numbers or booleans)."""

    values: frozenset[Scalar]


@dataclass(frozen=True, slots=True)
class Substring:
    text: str


@dataclass(frozen=True, slots=True)
class Prefix:
    text: str


@dataclass(frozen=True, slots=True)
class Suffix:
    text: str


@dataclass(frozen=True, slots=True)
class Pattern:
    """A ``MATCHES`` search; ``source`` is the pattern as written (folded per dialect)."""

    source: str


@dataclass(frozen=True, slots=True)
class ListHas:
    item: str


@dataclass(frozen=True, slots=True)
class ListHasAny:
    items: frozenset[str]


@dataclass(frozen=True, slots=True)
class ListHasAll:
    items: frozenset[str]


@dataclass(frozen=True, slots=True)
class ListCount:
    """The list's number of items lies in ``range``, which never holds 0: a missing
    list (0 items) fails it like every primitive, and a count condition whose
    range holds 0 is lowered to the negation of the counts above it."""

    range: Range


@dataclass(frozen=True, slots=True)
class Items:
    """A string test of each item of a list (items are folded): some item passes it
    (``ANY``), or the list has items and every one does (``ALL``, ``every``); with
    ``flip`` an item passes when it fails ``test`` (``!=``)."""

    test: OneOf | Substring | Prefix | Suffix | Pattern
    flip: bool
    every: bool


@dataclass(frozen=True, slots=True)
class Compare:
    """The value against another attribute's: ``op`` is one of ``= < <= > >=``; strings
    compare folded, by code point. A missing value on either side fails."""

    op: Op
    other: str
    other_type: AttrType


@dataclass(frozen=True, slots=True)
class Anniversary:
    """The value's month-day (``month * 100 + day``; a date-time's on the wall clock of
    ``tz``, a date's when ``tz`` is ``None``) is one of ``days``: see
    :mod:`segmentry.match.anniversaries`."""

    days: frozenset[int]
    tz: tzinfo | None


@dataclass(frozen=True, slots=True)
class Present:
    """The attribute has a value (a non-empty list for lists)."""


Primitive = (
    Range
    | OneOf
    | Substring
    | Prefix
    | Suffix
    | Pattern
    | ListHas
    | ListHasAny
    | ListHasAll
    | ListCount
    | Items
    | Compare
    | Anniversary
    | Present
)
PRIMITIVE_TYPES: tuple[type[Primitive], ...] = (
    Range, OneOf, Substring, Prefix, Suffix, Pattern, ListHas, ListHasAny, ListHasAll, ListCount,
    Items, Compare, Anniversary, Present,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Lowered:
    """A condition as one primitive test of one attribute's encoded value."""

    key: str
    type: AttrType
    test: Primitive
    negated: bool


def lower(cond: Condition, schema: Schema, ctx: EvalContext) -> Lowered:
    """The primitive test of a checked condition at the moment ``ctx.now``."""
    attribute = schema.by_key[cond.attr]
    if cond.fn is Fn.COUNT:
        return _count(cond, attribute.key)
    if cond.fn is Fn.ANNIVERSARY:
        return _anniversary(cond, attribute.key, attribute.type, ctx)
    if cond.each is not None:
        return _each(cond, attribute.key, ctx)
    if isinstance(cond.value, AttrRef):
        other = schema.by_key[cond.value.attr]
        pair = Compare(cond.op.positive, other.key, other.type)
        return Lowered(attribute.key, attribute.type, pair, cond.op.is_negative)
    positive = cond.op.positive
    if positive is Op.IS_NULL:
        # IS NULL is the negative twin here: it is "not present".
        return Lowered(attribute.key, attribute.type, Present(), cond.op is Op.IS_NULL)
    test = LOWERERS[attribute.type](positive, cond.value, ctx)
    if isinstance(test, Substring | Prefix | Suffix) and not test.text:
        test = Present()  # every present string contains, starts and ends with ''
    return Lowered(attribute.key, attribute.type, test, cond.op.is_negative)


def _each(cond: Condition, key: str, ctx: EvalContext) -> Lowered:
    """ANY and ALL test the items; NONE is NOT ANY."""
    flip = cond.op is Op.NE
    test = _text(Op.EQ if flip else cond.op, cond.value, ctx)
    assert isinstance(test, OneOf | Substring | Prefix | Suffix | Pattern)
    every = cond.each is Each.ALL
    return Lowered(key, AttrType.STRING_LIST, Items(test, flip, every), cond.each is Each.NONE)


EMPTY = Range(1, True, 0, True)
"""A range no count lies in."""


def _count(cond: Condition, key: str) -> Lowered:
    positive = cond.op.positive
    if positive is Op.BETWEEN:
        low, high = _items(cond.value)
        counts = Range(_number(low), True, _number(high), True)
    else:
        counts = _compare(positive, _number(cond.value), _number(cond.value))
    negated = cond.op.is_negative
    if _holds_zero(counts):
        # 0 <= count always, so the counts outside a range that holds 0 lie above it.
        above = (
            EMPTY
            if counts.high is None
            else Range(counts.high, not counts.high_inclusive, None, False)
        )
        counts, negated = above, not negated
    return Lowered(key, AttrType.STRING_LIST, ListCount(counts), negated)


def _anniversary(cond: Condition, key: str, type_: AttrType, ctx: EvalContext) -> Lowered:
    """The month-days whose next occurrence the comparison lets in; an anniversary is
    never before today, so ``< today`` lets in none."""
    positive = cond.op.positive
    first: date | None
    last: date | None
    if positive is Op.BETWEEN:
        first, last = (temporal.as_day(_read(v), ctx) for v in _items(cond.value))
    else:
        first, last = _days(positive, temporal.as_day(_read(cond.value), ctx))
    today = temporal.local_now(ctx).date()
    days = anniversaries.within(first, last, today)
    tz = ctx.tz if type_ is AttrType.DATETIME else None
    return Lowered(key, type_, Anniversary(days, tz), cond.op.is_negative)


def _days(op: Op, day: date) -> tuple[date | None, date | None]:
    """The days, first and last included, that ``op day`` lets in."""
    one = timedelta(days=1)
    return {
        Op.EQ: (day, day),
        Op.LT: (None, day - one),
        Op.LE: (None, day),
        Op.GT: (day + one, None),
        Op.GE: (day, None),
    }[op]


def _holds_zero(counts: Range) -> bool:
    low, high = counts.low, counts.high
    above_low = low is None or low < 0 or (low == 0 and counts.low_inclusive)
    below_high = high is None or high > 0 or (high == 0 and counts.high_inclusive)
    return above_low and below_high


def _items(value: object) -> tuple[Scalar, ...]:
    assert isinstance(value, tuple)
    return value


def _text(op: Op, value: object, ctx: EvalContext) -> Primitive:
    if op is Op.IN:
        return OneOf(frozenset(fold(str(v)) for v in _items(value)))
    text = str(value)
    if op is Op.MATCHES:
        return Pattern(text)
    folded = fold(text)
    if op is Op.EQ:
        return OneOf(frozenset({folded}))
    return TEXT_TESTS[op](folded)


TEXT_TESTS: dict[Op, Callable[[str], Primitive]] = {
    Op.CONTAINS: Substring,
    Op.STARTS_WITH: Prefix,
    Op.ENDS_WITH: Suffix,
}


def _list(op: Op, value: object, ctx: EvalContext) -> Primitive:
    if op is Op.CONTAINS:
        return ListHas(fold(str(value)))
    items = frozenset(fold(str(v)) for v in _items(value))
    return ListHasAny(items) if op is Op.CONTAINS_ANY else ListHasAll(items)


def _plain(op: Op, value: object, ctx: EvalContext) -> Primitive:
    """Numbers and booleans: compared as they are."""
    if op is Op.IN:
        return OneOf(frozenset(_items(value)))
    if op is Op.EQ:
        assert isinstance(value, int | float | bool)
        return OneOf(frozenset({value}))
    if op is Op.BETWEEN:
        low, high = _items(value)
        return Range(_number(low), True, _number(high), True)
    return _compare(op, _number(value), _number(value))


def _number(value: object) -> Number:
    assert isinstance(value, int | float)
    assert not isinstance(value, bool)
    return value


def _compare(op: Op, start: Number, end: Number) -> Range:
    """``op`` against a value that covers ``[start, end]`` (one point when equal). Only
    the range asked for is made: a rule index lowers thousands of conditions at once."""
    if op is Op.EQ:
        return Range(start, True, end, True)
    if op is Op.LT:
        return Range(None, False, start, False)
    if op is Op.LE:
        return Range(None, False, end, True)
    if op is Op.GT:
        return Range(end, False, None, False)
    if op is Op.GE:
        return Range(start, True, None, False)
    raise KeyError(op)


def _read(value: object) -> temporal.Temporal:
    parsed = temporal.read_temporal(str(value))
    assert parsed is not None, "the checker admits only temporal literals here"
    return parsed


def _date(op: Op, value: object, ctx: EvalContext) -> Primitive:
    """Date attributes hold day numbers; every literal stands for one day."""
    if op is Op.BETWEEN:
        low, high = (_day_number(v, ctx) for v in _items(value))
        return Range(low, True, high, True)
    day = _day_number(value, ctx)
    return _compare(op, day, day)


def _day_number(value: object, ctx: EvalContext) -> int:
    return temporal.to_day_number(temporal.as_day(_read(value), ctx))


def _datetime(op: Op, value: object, ctx: EvalContext) -> Primitive:
    """Date-time attributes hold microseconds; a day-like literal covers its whole day."""
    if op is Op.BETWEEN:
        low, high = (_moments(v, ctx) for v in _items(value))
        return Range(low[0], True, high[1], not high[2])
    start, end, half_open = _moments(value, ctx)
    if not half_open:
        return _compare(op, start, end)
    return {
        Op.EQ: Range(start, True, end, False),
        Op.LT: Range(None, False, start, False),
        Op.LE: Range(None, False, end, False),
        Op.GT: Range(end, True, None, False),
        Op.GE: Range(start, True, None, False),
    }[op]


def _moments(value: object, ctx: EvalContext) -> tuple[int, int, bool]:
    """``(start, end, half_open)``: a whole day is ``[start, end)``, a point is ``[t, t]``."""
    parsed = _read(value)
    if temporal.is_day_like(parsed):
        day = temporal.as_day(parsed, ctx)
        next_day = day + timedelta(days=1)
        return temporal.day_start(day, ctx.tz), temporal.day_start(next_day, ctx.tz), True
    assert isinstance(parsed, temporal.AbsoluteDateTime | temporal.Relative)
    moment = temporal.as_instant(parsed, ctx)
    return moment, moment, False


LOWERERS = {
    AttrType.STRING: _text,
    AttrType.ENUM: _text,
    AttrType.NUMBER: _plain,
    AttrType.INTEGER: _plain,
    AttrType.BOOLEAN: _plain,
    AttrType.DATE: _date,
    AttrType.DATETIME: _datetime,
    AttrType.STRING_LIST: _list,
}
