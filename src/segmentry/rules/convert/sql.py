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
tenant's zone, computed here as UTC instants; relative times read the
warehouse's ``CURRENT_TIMESTAMP``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlglot import exp

from segmentry.model import temporal
from segmentry.model.schema import AttrType, Kind, Schema
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or, Scalar
from segmentry.rules.convert.common import plain, refuse
from segmentry.rules.operators import Op
from segmentry.rules.printer import format_scalar

TABLES = {Kind.PRODUCT: "products", Kind.CUSTOMER: "customers"}
Expr = exp.Expr
Window = tuple[Expr, Expr, bool]
"""``(start, end, half_open)``: a whole day ``[start, end)``, or a point ``[t, t]``."""


@dataclass(frozen=True, slots=True)
class Target:
    """What differs between warehouses, beyond what sqlglot's dialects transpile."""

    dialect: str
    list_type: str
    datetime_type: str = "TIMESTAMPTZ"
    calendar_on_timestamps: bool = True
    """Whether month and year steps can be added to a timestamp (BigQuery cannot)."""

    @property
    def sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def date_literal(self, day: date) -> Expr:
        text = exp.Literal.string(day.isoformat())
        return text if self.sqlite else exp.cast(text, "DATE")

    def instant(self, micros: int) -> Expr:
        moment = temporal.from_micros(micros).replace(tzinfo=None)
        text = moment.isoformat(sep=" ", timespec="microseconds")
        if self.sqlite:
            return exp.Literal.string(text)
        return exp.cast(exp.Literal.string(text + "+00:00"), self.datetime_type)

    def now_shifted(self, amount: int, unit: str, where: str) -> Expr:
        days = {"d": 1, "w": 7}.get(unit)
        if self.sqlite:
            if unit in ("m", "y"):
                raise refuse(f"{amount:+d}{unit} in SQLite", where, SQLITE_MONTHS)
            step = f"{amount * (days or 1):+d} {'hours' if unit == 'h' else 'days'}"
            stamp = exp.Anonymous(this="strftime", expressions=[
                exp.Literal.string("%Y-%m-%d %H:%M:%f"), exp.Literal.string("now"),
                exp.Literal.string(step)])  # fmt: skip
            return exp.DPipe(this=stamp, expression=exp.Literal.string("000"))
        if unit in ("m", "y") and not self.calendar_on_timestamps:
            raise refuse(f"{amount:+d}{unit} in {self.dialect}", where,
                         "its timestamps take no month or year steps")  # fmt: skip
        count, name = _unit(amount, unit)
        return exp.TimestampAdd(this=exp.CurrentTimestamp(), expression=count, unit=exp.var(name))

    def today_shifted(self, amount: int, unit: str, where: str) -> Expr:
        """The date ``amount`` units from now (UTC), as a DATE (or TEXT in SQLite)."""
        if self.sqlite:
            if unit in ("m", "y"):
                raise refuse(f"{amount:+d}{unit} in SQLite", where, SQLITE_MONTHS)
            days = {"d": 1, "w": 7}.get(unit)
            step = f"{amount * (days or 1):+d} {'hours' if unit == 'h' else 'days'}"
            return exp.Anonymous(this="date", expressions=[exp.Literal.string("now"),
                                                           exp.Literal.string(step)])  # fmt: skip
        if unit == "h":
            return exp.cast(self.now_shifted(amount, unit, where), "DATE")
        if amount == 0:
            return exp.CurrentDate()
        count, name = _unit(amount, unit)
        return exp.cast(exp.DateAdd(this=exp.CurrentDate(), expression=count, unit=exp.var(name)),
                        "DATE")  # fmt: skip

    def day_start(self, day: Expr) -> Expr:
        if self.sqlite:
            return exp.DPipe(this=day, expression=exp.Literal.string(" 00:00:00.000000"))
        return exp.cast(day, self.datetime_type)

    def list_has_any(self, column: Expr, items: list[str]) -> Expr:
        """Some item of the list column, lower-cased, is one of ``items``."""
        literals = [exp.Literal.string(i) for i in items]
        if self.sqlite:
            value = exp.column("value", table="_items")
            each = exp.Anonymous(this="json_each", expressions=[column])
            source: Expr = exp.Table(
                this=each, alias=exp.TableAlias(this=exp.to_identifier("_items"))
            )
        else:
            value = exp.column("_item")
            alias = exp.TableAlias(this=exp.to_identifier("_items"),
                                   columns=[exp.to_identifier("_item")])  # fmt: skip
            source = exp.Unnest(expressions=[column], alias=alias)
        test = exp.In(this=exp.Lower(this=value), expressions=literals)
        return exp.Exists(this=exp.select("1").from_(source).where(test))

    def suffix(self, text: Expr, length: int) -> Expr:
        if self.sqlite:
            return exp.Substring(this=text, start=exp.Literal.number(-length))
        return exp.Right(this=text, expression=exp.Literal.number(length))


SQLITE_MONTHS = "SQLite's month steps run over into the next month where segmentry's clamp"
TARGETS: dict[str, Target] = {
    "sqlite": Target("sqlite", "TEXT", "TEXT"),
    "postgres": Target("postgres", "TEXT[]"),
    "duckdb": Target("duckdb", "VARCHAR[]"),
    "bigquery": Target("bigquery", "ARRAY<STRING>", calendar_on_timestamps=False),
    "snowflake": Target("snowflake", "ARRAY"),
}
COLUMN_TYPES: dict[AttrType, str] = {
    AttrType.STRING: "TEXT", AttrType.ENUM: "TEXT", AttrType.NUMBER: "DOUBLE PRECISION",
    AttrType.INTEGER: "BIGINT", AttrType.BOOLEAN: "BOOLEAN", AttrType.DATE: "DATE",
}  # fmt: skip


def target_of(dialect: str | None) -> Target:
    if dialect not in TARGETS:
        raise refuse(f"dialect {dialect!r}", "dialect", f"dialects are {', '.join(TARGETS)}")
    return TARGETS[dialect]


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
        plain(cond, path, "the SQL export")
        attr = self.schema.by_key[cond.attr]
        column = exp.column(exp.to_identifier(attr.key, quoted=True))
        present = exp.Not(this=exp.Is(this=column, expression=exp.null()))
        if cond.op is Op.IS_NOT_NULL:
            return present
        if cond.op is Op.IS_NULL:
            return exp.Is(this=column, expression=exp.null())
        test = self.test(attr.type, cond.op.positive, cond.value, column, path)
        # Never unknown: NULL fails the test, so NOT is the exact complement.
        guarded = exp.and_(present, test)
        return exp.not_(exp.paren(guarded)) if cond.op.is_negative else guarded

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
        dynamic = isinstance(parsed, temporal.Relative | temporal.DayWord)
        exact_anywhere = (  # hours are durations: the same in every zone
            isinstance(parsed, temporal.Relative)
            and parsed.unit == "h"
            and kind is not AttrType.DATE
        )
        if dynamic and not exact_anywhere and not _is_utc(self.tz):
            raise refuse(f"relative time {value!r}", path,
                         "relative times are exported for tenants in UTC only")  # fmt: skip
        if kind is AttrType.DATE:
            day = self.day(parsed, path)
            return day, day, False
        if isinstance(parsed, temporal.Relative):
            point = self.target.now_shifted(parsed.amount, parsed.unit, path)
            return point, point, False
        if isinstance(parsed, temporal.DayWord):
            start = self.target.today_shifted(parsed.offset, "d", path)
            end = self.target.today_shifted(parsed.offset + 1, "d", path)
            return self.target.day_start(start), self.target.day_start(end), True
        if isinstance(parsed, temporal.AbsoluteDate):
            start_micros = temporal.day_start(parsed.day, self.tz)
            end_micros = temporal.day_start(parsed.day + timedelta(days=1), self.tz)
            return self.target.instant(start_micros), self.target.instant(end_micros), True
        ctx = temporal.EvalContext(datetime.now(UTC), self.tz)
        moment = self.target.instant(temporal.as_instant(parsed, ctx))
        return moment, moment, False

    def day(self, parsed: temporal.Temporal, path: str) -> Expr:
        match parsed:
            case temporal.Relative(amount, unit):
                return self.target.today_shifted(amount, unit, path)
            case temporal.DayWord(offset):
                return self.target.today_shifted(offset, "d", path)
        ctx = temporal.EvalContext(datetime.now(UTC), self.tz)
        return self.target.date_literal(temporal.as_day(parsed, ctx))


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


def _unit(amount: int, unit: str) -> tuple[Expr, str]:
    if unit == "w":
        return exp.Literal.number(amount * 7), "DAY"
    names = {"h": "HOUR", "d": "DAY", "m": "MONTH", "y": "YEAR"}
    return exp.Literal.number(amount), names[unit]


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


def _is_utc(tz: tzinfo) -> bool:
    """Whether the tenant's zone is UTC itself (not merely at offset 0 today)."""
    name = str(getattr(tz, "key", None) or tz.tzname(None) or "")
    return tz is UTC or name in ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu")
