"""A rule as a SQL ``WHERE`` clause for a warehouse, built as one sqlglot tree.

The clause reads one flat table per kind (``products``, ``customers``): one
column per attribute, named by its key; ``NULL`` where segmentry has no value
(empty strings and lists included); lists as arrays, or JSON text in SQLite;
date-times in UTC (``TIMESTAMPTZ``, or TEXT ``YYYY-MM-DD HH:MM:SS.ffffff`` in
SQLite). :func:`create_table` writes that table's DDL.

Segmentry's meaning is kept with guards: a condition on a column is
``col IS NOT NULL AND <test>``, which is never unknown, so its negation is the
exact complement (``brand != 'Nike'`` holds where brand is NULL) and NOT, AND
and OR compose as they do in segmentry. Strings compare as ``LOWER(col)``
against the literal lower-cased here; date literals become whole days in the
tenant's zone, computed here as UTC instants; relative times (``-30d``, ``today``)
are worked out by the warehouse on the day the clause runs, from its clock, in the
tenant's zone named in the clause (:mod:`.sql_zone`; SQLite, which knows no zone but
UTC, only for tenants in UTC). ``count(list)`` is the list's size with NULL as 0;
``ANY``/``ALL``/``NONE`` are ``EXISTS`` over the unnested items (never unknown); two
attributes compare only when both are present, strings folded and, in PostgreSQL,
``COLLATE "C"`` so that they order by code point as segmentry does.
``anniversary(date)`` is worked out by the warehouse on the day it runs, in the
tenant's zone (:mod:`.sql_anniversary`).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, tzinfo

from sqlglot import exp

from segmentry.model import temporal
from segmentry.model.schema import AttrType, Kind, Schema
from segmentry.rules.ast import (
    And,
    AttrRef,
    Behaviour,
    Condition,
    InSegment,
    Node,
    Not,
    Or,
    Scalar,
)
from segmentry.rules.convert import sql_anniversary, sql_zone
from segmentry.rules.convert.common import refuse
from segmentry.rules.convert.sql_targets import COLUMN_TYPES, Expr, Target, target_of
from segmentry.rules.operators import Each, Fn, Op
from segmentry.rules.printer import format_scalar

TABLES = {Kind.PRODUCT: "products", Kind.CUSTOMER: "customers"}
Window = tuple[Expr, Expr, bool]
"""``(start, end, half_open)``: a whole day ``[start, end)``, or a point ``[t, t]``."""


def write(node: Node, schema: Schema, *, dialect: str | None, tz: tzinfo = UTC) -> str:
    """The ``WHERE`` clause (without the keyword) selecting the rule's members."""
    target = target_of(dialect)
    return _Builder(schema, target, tz).node(node, "rule").sql(dialect=target.dialect)


def create_table(schema: Schema, dialect: str) -> str:
    """The DDL of the table an exported clause reads."""
    target = target_of(dialect)
    columns = []
    for attr in schema:
        if attr.type is AttrType.STRING_LIST:
            kind = target.list_type
        elif attr.type is AttrType.DATETIME:
            kind = target.datetime_type
        elif target.sqlite and attr.type in (AttrType.DATE, AttrType.BOOLEAN):
            kind = "TEXT" if attr.type is AttrType.DATE else "INTEGER"
        else:
            kind = COLUMN_TYPES[attr.type]
        name = exp.to_identifier(attr.key, quoted=True)
        columns.append(
            exp.ColumnDef(this=name, kind=exp.DataType.build(kind, dialect=target.dialect))
        )
    table = exp.Schema(this=exp.to_table(TABLES[schema.kind]), expressions=columns)
    return exp.Create(this=table, kind="TABLE").sql(dialect=target.dialect)


def lower_text(text: str) -> str:
    """A literal as ``LOWER`` of the same text gives it (NFC, then lower case)."""
    return unicodedata.normalize("NFC", text).lower()


class _Builder:
    def __init__(self, schema: Schema, target: Target, tz: tzinfo) -> None:
        self.schema = schema
        self.target = target
        self.tz = tz

    def node(self, node: Node, path: str) -> Expr:
        match node:
            case And(items):
                return exp.and_(*(self.node(i, f"{path}.and[{n}]") for n, i in enumerate(items)))
            case Or(items):
                return exp.or_(*(self.node(i, f"{path}.or[{n}]") for n, i in enumerate(items)))
            case Not(item):
                return exp.not_(exp.paren(self.node(item, f"{path}.not")))
            case InSegment(code):
                raise refuse(f"IN SEGMENT {code!r}", path, "a warehouse has no segment members")
            case Behaviour():
                why = "the export reads one table of entities, not their orders"
                raise refuse(f"{node.act.value}()", path, why)
            case Condition():
                return self.condition(node, path)

    def condition(self, cond: Condition, path: str) -> Expr:
        attr = self.schema.by_key[cond.attr]
        column = _column(attr.key)
        if cond.fn is Fn.ANNIVERSARY:
            return sql_anniversary.condition(self.target, self.tz, cond, kind=attr.type,
                                             column=column, path=path)  # fmt: skip
        if cond.fn is Fn.COUNT:
            return self.count(cond, column)
        if cond.each is not None:
            return self.quantified(cond, column, path)
        if isinstance(cond.value, AttrRef):
            return self.pair(cond, attr.type, column, cond.value)
        present = exp.Not(this=exp.Is(this=column, expression=exp.null()))
        if cond.op is Op.IS_NOT_NULL:
            return present
        if cond.op is Op.IS_NULL:
            return exp.Is(this=column, expression=exp.null())
        test = self.test(attr.type, cond.op.positive, cond.value, column, path)
        # Never unknown: NULL fails the test, so NOT is the exact complement.
        guarded = exp.and_(present, test)
        return exp.not_(exp.paren(guarded)) if cond.op.is_negative else guarded

    def count(self, cond: Condition, column: Expr) -> Expr:
        """``count(list)``: the size is never NULL (0 for a missing list), so the
        comparison is never unknown and its negation is the exact complement."""
        size = self.target.list_size(column)
        if cond.op.positive is Op.BETWEEN:
            low, high = _items(cond.value)
            test = exp.and_(exp.GTE(this=size, expression=_literal(low)),
                            exp.LTE(this=size, expression=_literal(high)))  # fmt: skip
        else:
            assert isinstance(cond.value, int | float)
            test = COMPARE[cond.op.positive](this=size, expression=_literal(cond.value))
        return exp.not_(exp.paren(test)) if cond.op.is_negative else test

    def quantified(self, cond: Condition, column: Expr, path: str) -> Expr:
        """``ANY``: some item passes; ``ALL``: there is an item and none fails;
        ``NONE``: NOT ANY. Items are never NULL, so an item's test is never unknown."""
        assert cond.each is not None
        if cond.op is Op.MATCHES:
            why = "regular expressions differ from warehouse to warehouse"
            raise refuse(f"{cond.subject} MATCHES", path, why)
        flip = cond.op is Op.NE
        passes = self.text(Op.EQ if flip else cond.op, cond.value, self.target.item(), path)
        if flip:
            passes = exp.not_(exp.paren(passes))
        if cond.each is Each.ALL:
            fails = exp.not_(exp.paren(passes))
            return exp.and_(self.target.items(column),
                            exp.not_(self.target.items(column, fails)))  # fmt: skip
        some = self.target.items(column, passes)
        return exp.not_(some) if cond.each is Each.NONE else some

    def pair(self, cond: Condition, kind: AttrType, column: Expr, ref: AttrRef) -> Expr:
        """One attribute against another: false when either is NULL, so ``!=`` (NOT
        of the guarded ``=``) holds when either is missing, as in segmentry."""
        other = _column(ref.attr)
        present = [exp.Not(this=exp.Is(this=c, expression=exp.null())) for c in (column, other)]
        left, right = column, other
        if kind.is_textual:  # strings compare folded, ordered by code point
            left = self.target.ordered(exp.Lower(this=column))
            right = self.target.ordered(exp.Lower(this=other))
        test = exp.and_(*present, COMPARE[cond.op.positive](this=left, expression=right))
        return exp.not_(exp.paren(test)) if cond.op.is_negative else test

    def test(self, kind: AttrType, op: Op, value: object, column: Expr, path: str) -> Expr:
        if kind.is_textual:
            return self.text(op, value, column, path)
        if kind is AttrType.STRING_LIST:
            items = [lower_text(str(v)) for v in (value if isinstance(value, tuple) else (value,))]
            if op is Op.CONTAINS_ALL:
                return exp.and_(*(self.target.list_has_any(column, [i]) for i in items))
            return self.target.list_has_any(column, items)
        if kind.is_temporal:
            windows = [self.window(kind, v, path) for v in _items(value)]
            if kind is AttrType.DATETIME:
                column = sql_zone.instant_column(self.target, column)
            return _compare_windows(op, column, windows)
        if op is Op.IN:
            return exp.In(this=column, expressions=[_literal(v) for v in _items(value)])
        if op is Op.BETWEEN:
            low, high = _items(value)
            return exp.and_(exp.GTE(this=column, expression=_literal(low)),
                            exp.LTE(this=column, expression=_literal(high)))  # fmt: skip
        assert isinstance(value, str | int | float | bool)
        return COMPARE[op](this=column, expression=_literal(value))

    def text(self, op: Op, value: object, column: Expr, path: str) -> Expr:
        lowered = exp.Lower(this=column)
        if op is Op.IN:
            literals = [exp.Literal.string(lower_text(str(v))) for v in _items(value)]
            return exp.In(this=lowered, expressions=literals)
        if op is Op.MATCHES:
            raise refuse("MATCHES", path, "regular expressions differ from warehouse to warehouse")
        text = lower_text(str(value))
        literal = exp.Literal.string(text)
        if op is Op.EQ:
            return exp.EQ(this=lowered, expression=literal)
        if not text:  # every present string contains, starts and ends with ''
            return exp.true()
        length = exp.Literal.number(len(text))
        if op is Op.CONTAINS:
            return exp.GT(this=exp.StrPosition(this=lowered, substr=literal),
                          expression=exp.Literal.number(0))  # fmt: skip
        if op is Op.STARTS_WITH:
            return exp.EQ(this=exp.Substring(this=lowered, start=exp.Literal.number(1),
                                             length=length), expression=literal)  # fmt: skip
        return exp.EQ(this=self.target.suffix(lowered, len(text)), expression=literal)

    def window(self, kind: AttrType, value: Scalar, path: str) -> Window:
        parsed = temporal.read_temporal(str(value))
        assert parsed is not None, "a checked rule holds only temporal literals here"
        if isinstance(parsed, temporal.Relative | temporal.DayWord):
            if self.target.sqlite:
                return self.sqlite_window(kind, parsed, str(value), path)
            return self.zoned_window(kind, parsed, path)
        if kind is AttrType.DATE:
            day = self.target.date_literal(temporal.as_day(parsed, self.context()))
            return day, day, False
        if isinstance(parsed, temporal.AbsoluteDate):  # its whole day in the tenant's zone
            start_micros = temporal.day_start(parsed.day, self.tz)
            end_micros = temporal.day_start(parsed.day + timedelta(days=1), self.tz)
            return self.target.instant(start_micros), self.target.instant(end_micros), True
        moment = self.target.instant(temporal.as_instant(parsed, self.context()))
        return moment, moment, False

    def context(self) -> temporal.EvalContext:
        """For literals that name their day or moment: the clock plays no part."""
        return temporal.EvalContext(datetime.now(UTC), self.tz)

    def zoned_window(
        self, kind: AttrType, parsed: temporal.Relative | temporal.DayWord, path: str
    ) -> Window:
        """A relative time worked out by the warehouse in the tenant's named zone."""
        zone = sql_zone.zone_name(self.tz)
        if kind is AttrType.DATE:
            day = self.zoned_day(parsed, zone, path)
            return day, day, False
        if isinstance(parsed, temporal.Relative):
            point = sql_zone.relative_point(self.target, parsed.amount, parsed.unit, zone)
            return point, point, False
        today = self.target.local_today(zone)
        days = [self.target.shift_day(today.copy(), parsed.offset + n, "d", path) for n in (0, 1)]
        start, end = (sql_zone.day_start(self.target, day, zone) for day in days)
        return start, end, True

    def zoned_day(self, parsed: temporal.Relative | temporal.DayWord, zone: str, path: str) -> Expr:
        """The day in the tenant's zone: hours from now, or days and more from today."""
        target = self.target
        if isinstance(parsed, temporal.DayWord):
            return target.shift_day(target.local_today(zone), parsed.offset, "d", path)
        if parsed.unit == "h":
            return target.local_day(target.now_shifted(parsed.amount, "h", path), zone)
        return target.shift_day(target.local_today(zone), parsed.amount, parsed.unit, path)

    def sqlite_window(
        self, kind: AttrType, parsed: temporal.Relative | temporal.DayWord, text: str, path: str
    ) -> Window:
        """SQLite knows no zone but UTC: relative times for tenants in UTC only, but
        for hours from now against a date-time (a duration, the same in every zone)."""
        exact_anywhere = isinstance(parsed, temporal.Relative) and parsed.unit == "h"
        if not sql_zone.is_utc(self.tz) and not (exact_anywhere and kind is AttrType.DATETIME):
            raise refuse(f"relative time {text!r} in SQLite", path, SQLITE_ZONES)
        if isinstance(parsed, temporal.Relative):
            amount, unit = parsed.amount, parsed.unit
        else:
            amount, unit = parsed.offset, "d"
        if kind is AttrType.DATE:
            day = self.target.today_shifted(amount, unit, path)
            return day, day, False
        if isinstance(parsed, temporal.Relative):
            point = self.target.now_shifted(amount, unit, path)
            return point, point, False
        start = self.target.today_shifted(amount, "d", path)
        end = self.target.today_shifted(amount + 1, "d", path)
        return self.target.day_start(start), self.target.day_start(end), True


SQLITE_ZONES = "SQLite knows no time zone but UTC (relative times are days in the tenant's zone)"


COMPARE: dict[Op, type[exp.Binary]] = {
    Op.EQ: exp.EQ, Op.LT: exp.LT, Op.LE: exp.LTE, Op.GT: exp.GT, Op.GE: exp.GTE,
}  # fmt: skip


def _compare_windows(op: Op, column: Expr, windows: list[Window]) -> Expr:
    """As segmentry lowers dates: a whole day ``[start, end)`` or a point ``[t, t]``."""
    if op is Op.BETWEEN:
        (low, _, _), (high_start, high_end, half_open) = windows
        upper = exp.LT(this=column, expression=high_end) if half_open else exp.LTE(
            this=column, expression=high_start)  # fmt: skip
        return exp.and_(exp.GTE(this=column, expression=low), upper)
    ((start, end, half_open),) = windows
    if not half_open:
        return COMPARE[op](this=column, expression=start)
    if op is Op.EQ:
        return exp.and_(exp.GTE(this=column, expression=start), exp.LT(this=column, expression=end))
    edge: dict[Op, tuple[type[exp.Binary], Expr]] = {
        Op.LT: (exp.LT, start), Op.LE: (exp.LT, end),
        Op.GT: (exp.GTE, end), Op.GE: (exp.GTE, start),
    }  # fmt: skip
    compare, bound = edge[op]
    return compare(this=column, expression=bound)


def _column(key: str) -> Expr:
    return exp.column(exp.to_identifier(key, quoted=True))


def _items(value: object) -> tuple[Scalar, ...]:
    if isinstance(value, tuple):
        return value
    assert isinstance(value, str | int | float | bool)
    return (value,)


def _literal(value: Scalar) -> Expr:
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(format_scalar(value))
    return exp.Literal.string(value)
