"""``anniversary(date attribute)`` in the exported SQL (see :mod:`.sql`).

The warehouse works out the anniversary as segmentry does, on the day the clause runs:
the date (a date-time's calendar day in the tenant's zone) falls this year, or next
year when this year's is before today, 29 February on 28 February in a year without
it; "today" is the warehouse's clock in the tenant's zone. The comparison then reads
that day like any date, its bounds (``today``, ``+30d``, ``2027-01-01``) being days in
the tenant's zone too, so the clause stays right on every later day, as relative
times do. SQLite knows no zone but UTC: there it is exported for tenants in UTC only.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlglot import exp

from segmentry.model import temporal
from segmentry.model.schema import AttrType
from segmentry.rules.ast import Condition, Scalar
from segmentry.rules.convert.common import refuse
from segmentry.rules.convert.sql_targets import Expr, Target
from segmentry.rules.convert.sql_zone import is_utc, zone_name
from segmentry.rules.operators import Op

COMPARE: dict[Op, type[exp.Binary]] = {
    Op.EQ: exp.EQ, Op.LT: exp.LT, Op.LE: exp.LTE, Op.GT: exp.GT, Op.GE: exp.GTE,
}  # fmt: skip


def condition(
    target: Target, tz: tzinfo, cond: Condition, *, kind: AttrType, column: Expr, path: str
) -> Expr:
    """``column IS NOT NULL AND <the anniversary compared>``, never unknown, so the
    negative operators are its exact complement."""
    zone = _zone(target, tz, cond, path)
    today = target.local_today(zone)
    day = column if kind is AttrType.DATE else target.local_day(column, zone)
    upcoming = next_occurrence(target, day, today)
    bounds = [_bound(target, today, v, tz=tz, path=path) for v in _items(cond.value)]
    positive = cond.op.positive
    if len(bounds) == 2:
        test: Expr = exp.Between(this=upcoming, low=bounds[0], high=bounds[1])
    else:
        test = COMPARE[positive](this=upcoming, expression=bounds[0])
    guarded = exp.and_(exp.Not(this=exp.Is(this=column.copy(), expression=exp.null())), test)
    return exp.not_(exp.paren(guarded)) if cond.op.is_negative else guarded


def next_occurrence(target: Target, day: Expr, today: Expr) -> Expr:
    """The first day on or after ``today`` with the month and day of ``day``."""
    month, dom = target.part("MONTH", day), target.part("DAY", day.copy())
    year = target.part("YEAR", today)
    this_year = _occurrence(target, year, month, dom)
    next_year = _occurrence(
        target, exp.paren(exp.Add(this=year.copy(), expression=exp.Literal.number(1))), month, dom
    )
    later = exp.GTE(this=this_year, expression=today.copy())
    return exp.Case(ifs=[exp.If(this=later, true=this_year.copy())], default=next_year)


def _occurrence(target: Target, year: Expr, month: Expr, dom: Expr) -> Expr:
    """The day of ``year`` with that month and day, 29 February on 28 February in a
    year without it."""

    def divides(n: int) -> Expr:
        remainder = exp.Mod(this=year.copy(), expression=exp.Literal.number(n))
        return exp.EQ(this=exp.paren(remainder), expression=exp.Literal.number(0))

    leap = exp.and_(divides(4), exp.paren(exp.or_(exp.not_(divides(100)), divides(400))))
    leap_day = exp.and_(
        exp.EQ(this=month.copy(), expression=exp.Literal.number(2)),
        exp.EQ(this=dom.copy(), expression=exp.Literal.number(29)),
        exp.not_(exp.paren(leap)),
    )
    clamped = exp.Case(ifs=[exp.If(this=leap_day, true=exp.Literal.number(28))],
                       default=dom.copy())  # fmt: skip
    return target.make_date(year.copy(), month.copy(), clamped)


def _bound(target: Target, today: Expr, value: Scalar, *, tz: tzinfo, path: str) -> Expr:
    """The day a literal stands for in the tenant's zone, as the warehouse sees it."""
    parsed = temporal.read_temporal(str(value))
    match parsed:
        case temporal.DayWord(offset):
            return target.shift_day(today.copy(), offset, "d", path)
        case temporal.Relative(amount, "h"):
            return target.local_day(target.now_shifted(amount, "h", path), zone_name(tz))
        case temporal.Relative(amount, unit):
            return target.shift_day(today.copy(), amount, unit, path)
    assert parsed is not None, "a checked rule holds only temporal literals here"
    return target.date_literal(temporal.as_day(parsed, temporal.EvalContext(datetime.now(UTC), tz)))


def _zone(target: Target, tz: tzinfo, cond: Condition, path: str) -> str:
    name = zone_name(tz)
    if target.sqlite and not is_utc(tz):
        why = "SQLite knows no time zone but UTC (today and date-times in the tenant's zone)"
        raise refuse(f"{cond.subject} in SQLite", path, why)
    return name


def _items(value: object) -> tuple[Scalar, ...]:
    if isinstance(value, tuple):
        return value
    assert isinstance(value, str | int | float | bool)
    return (value,)
