"""What differs between the warehouses the SQL export writes for, beyond what sqlglot's
dialects transpile: literals of days and instants, shifts of now and today, how a
list column is unnested and sized, how text orders (see :mod:`.sql`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from segmentry.model import temporal
from segmentry.model.schema import AttrType
from segmentry.rules.convert.common import refuse

Expr = exp.Expr


@dataclass(frozen=True, slots=True)
class Target:
    """What differs between warehouses, beyond what sqlglot's dialects transpile."""

    dialect: str
    list_type: str
    datetime_type: str = "TIMESTAMPTZ"

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
        if self.dialect == "snowflake":  # compared as UTC without a zone (see .sql_zone)
            return exp.cast(exp.Literal.string(text), "DATETIME")
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
        count, name = _unit(amount, unit)
        return exp.TimestampAdd(this=exp.CurrentTimestamp(), expression=count, unit=exp.var(name))

    def today_shifted(self, amount: int, unit: str, where: str) -> Expr:
        """In SQLite: the day ``amount`` units from now in UTC, its only zone, as TEXT
        (the other warehouses work days out in the tenant's zone: see :mod:`.sql_zone`)."""
        assert self.sqlite, "only SQLite reads days in UTC alone"
        if unit in ("m", "y"):
            raise refuse(f"{amount:+d}{unit} in SQLite", where, SQLITE_MONTHS)
        days = {"d": 1, "w": 7}.get(unit)
        step = f"{amount * (days or 1):+d} {'hours' if unit == 'h' else 'days'}"
        return exp.Anonymous(this="date", expressions=[exp.Literal.string("now"),
                                                       exp.Literal.string(step)])  # fmt: skip

    def shift_day(self, day: Expr, amount: int, unit: str, where: str) -> Expr:
        """The day ``amount`` days, weeks, months or years from ``day`` (a DATE, or TEXT
        in SQLite), a month step past a month's end on its last day."""
        if self.sqlite:
            if unit in ("m", "y"):
                raise refuse(f"{amount:+d}{unit} in SQLite", where, SQLITE_MONTHS)
            step = exp.Literal.string(f"{amount * (7 if unit == 'w' else 1):+d} days")
            return exp.Anonymous(this="date", expressions=[day, step])
        if amount == 0:
            return day
        count, name = _unit(amount, unit)
        return exp.cast(exp.DateAdd(this=day, expression=count, unit=exp.var(name)), "DATE")

    def local_day(self, moment: Expr, zone: str) -> Expr:
        """The calendar day a moment has in ``zone`` (SQLite: UTC, the only zone it knows)."""
        if self.sqlite:
            return exp.Anonymous(this="date", expressions=[moment])
        return exp.cast(exp.AtTimeZone(this=moment, zone=exp.Literal.string(zone)), "DATE")

    def local_today(self, zone: str) -> Expr:
        """Today in ``zone`` by the warehouse's clock."""
        if self.sqlite:
            return exp.Anonymous(this="date", expressions=[exp.Literal.string("now")])
        return self.local_day(exp.CurrentTimestamp(), zone)

    def part(self, unit: str, day: Expr) -> Expr:
        """The ``YEAR``, ``MONTH`` or ``DAY`` of a day, as an integer."""
        if self.sqlite:
            code = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d"}[unit]
            text = exp.Anonymous(this="strftime", expressions=[exp.Literal.string(code), day])
            return exp.cast(text, "INTEGER")
        return exp.cast(exp.Extract(this=exp.var(unit), expression=day), "INT")

    def make_date(self, year: Expr, month: Expr, day: Expr) -> Expr:
        """The day of that year, month and day (a valid one)."""
        if self.sqlite:
            pattern = exp.Literal.string("%04d-%02d-%02d")
            return exp.Anonymous(this="printf", expressions=[pattern, year, month, day])
        if self.dialect == "postgres":
            return exp.Anonymous(this="MAKE_DATE", expressions=[year, month, day])
        return exp.DateFromParts(year=year, month=month, day=day)

    def day_start(self, day: Expr) -> Expr:
        """In SQLite: the first moment of a day in UTC, as the TEXT its columns hold."""
        assert self.sqlite, "the other warehouses start days in the tenant's zone"
        return exp.DPipe(this=day, expression=exp.Literal.string(" 00:00:00.000000"))

    def item(self) -> Expr:
        """An item of the list :meth:`items` unnests (JSON text in SQLite)."""
        return exp.column("value", table="_items") if self.sqlite else exp.column("_item")

    def items(self, column: Expr, where: Expr | None = None) -> Expr:
        """Some item of the list column passes ``where`` (over :meth:`item`); a NULL
        list has no items, so this is never unknown."""
        if self.sqlite:
            each = exp.Anonymous(this="json_each", expressions=[column])
            source: Expr = exp.Table(
                this=each, alias=exp.TableAlias(this=exp.to_identifier("_items"))
            )
        else:
            alias = exp.TableAlias(this=exp.to_identifier("_items"),
                                   columns=[exp.to_identifier("_item")])  # fmt: skip
            source = exp.Unnest(expressions=[column], alias=alias)
        query = exp.select("1").from_(source)
        return exp.Exists(this=query if where is None else query.where(where))

    def list_has_any(self, column: Expr, items: list[str]) -> Expr:
        """Some item of the list column, lower-cased, is one of ``items``."""
        literals = [exp.Literal.string(i) for i in items]
        return self.items(column, exp.In(this=exp.Lower(this=self.item()), expressions=literals))

    def list_size(self, column: Expr) -> Expr:
        """The number of items of the list column, 0 when it is NULL (never unknown)."""
        if self.sqlite:
            size: Expr = exp.Anonymous(this="json_array_length", expressions=[column])
        else:
            size = exp.ArraySize(this=column)
        return exp.Coalesce(this=size, expressions=[exp.Literal.number(0)])

    def ordered(self, text: Expr) -> Expr:
        """Text that ``<`` orders by code point, as segmentry does: PostgreSQL orders by
        the database's collation unless told ``COLLATE "C"`` (the others compare bytes)."""
        if self.dialect != "postgres":
            return text
        return exp.Collate(this=text, expression=exp.to_identifier("C", quoted=True))

    def suffix(self, text: Expr, length: int) -> Expr:
        if self.sqlite:
            return exp.Substring(this=text, start=exp.Literal.number(-length))
        return exp.Right(this=text, expression=exp.Literal.number(length))


SQLITE_MONTHS = "SQLite's month steps run over into the next month where segmentry's clamp"
TARGETS: dict[str, Target] = {
    "sqlite": Target("sqlite", "TEXT", "TEXT"),
    "postgres": Target("postgres", "TEXT[]"),
    "duckdb": Target("duckdb", "VARCHAR[]"),
    "bigquery": Target("bigquery", "ARRAY<STRING>"),
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


def _unit(amount: int, unit: str) -> tuple[Expr, str]:
    if unit == "w":
        return exp.Literal.number(amount * 7), "DAY"
    names = {"h": "HOUR", "d": "DAY", "m": "MONTH", "y": "YEAR"}
    return exp.Literal.number(amount), names[unit]
