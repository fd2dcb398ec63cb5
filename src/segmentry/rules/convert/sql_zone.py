"""Relative times and days in the tenant's named zone, worked out by the warehouse on
the day the exported clause runs (see :mod:`.sql`), as segmentry reads them:

- ``today``, ``yesterday``, ``tomorrow``: the warehouse's today in the tenant's zone;
  against a date-time, that day from its first moment in the zone to the next day's.
- ``-30d``, ``+2w``, ``-6m``, ``+1y``: calendar steps on the tenant's wall clock (the
  same time of day 30 days ago, across a daylight-saving change too; a month step past a
  month's end on its last day); against a date, that moment's day in the zone.
- ``-12h``: an exact duration from now, the same in every zone.

A wall-clock time becomes a moment as Python's ``zoneinfo`` makes it: a time the clocks
skip is read with the offset before the change, and a time they repeat is its first
occurrence (the warehouses take the second; the clause picks the first when the time
24 hours before the zone's reading, shifted on, reads the same). Date-times compare as
instants: ``TIMESTAMPTZ`` in PostgreSQL and DuckDB, ``TIMESTAMP`` in BigQuery, and in
Snowflake ``TIMESTAMP_NTZ`` in UTC (the column converted), as its ``CONVERT_TIMEZONE``
gives wall-clock times without a zone.
"""

from __future__ import annotations

from datetime import UTC, tzinfo

from sqlglot import exp

from segmentry.rules.convert.sql_targets import Expr, Target

UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu", "Etc/Zulu", "Etc/Universal")


def zone_name(tz: tzinfo) -> str:
    """The IANA name of the tenant's zone, as warehouses know it."""
    return "UTC" if tz is UTC else str(getattr(tz, "key", None) or tz.tzname(None) or "UTC")


def is_utc(tz: tzinfo) -> bool:
    """Whether the tenant's zone is UTC itself (not merely at offset 0 today)."""
    return zone_name(tz) in UTC_NAMES


def instant_column(target: Target, column: Expr) -> Expr:
    """A date-time column as the instants the bounds below are (Snowflake: UTC NTZ)."""
    if target.dialect != "snowflake":
        return column
    as_utc = exp.ConvertTimezone(target_tz=exp.Literal.string("UTC"), timestamp=column)
    return exp.cast(as_utc, "DATETIME")


def now(target: Target) -> Expr:
    """The warehouse's current instant."""
    if target.dialect == "snowflake":
        return exp.Anonymous(this="SYSDATE")  # the current time in UTC, without a zone
    return exp.CurrentTimestamp()


def plus_hours(instant: Expr, hours: int) -> Expr:
    """An exact number of hours after ``instant`` (whatever the session's zone)."""
    if hours == 0:
        return instant
    return exp.TimestampAdd(this=instant, expression=exp.Literal.number(hours),
                            unit=exp.var("HOUR"))  # fmt: skip


def wall_of(target: Target, instant: Expr, zone: str) -> Expr:
    """The wall-clock time (a timestamp without a zone) of ``instant`` in ``zone``."""
    name = exp.Literal.string(zone)
    if target.dialect == "bigquery":
        return exp.Anonymous(this="DATETIME", expressions=[instant, name])
    if target.dialect == "snowflake":
        utc = exp.Literal.string("UTC")
        return exp.ConvertTimezone(source_tz=utc, target_tz=name, timestamp=instant)
    return exp.AtTimeZone(this=instant, zone=name)


def zoned(target: Target, wall: Expr, zone: str) -> Expr:
    """The instant of a wall-clock time in ``zone``, as the warehouse resolves it."""
    name = exp.Literal.string(zone)
    if target.dialect == "bigquery":
        return exp.Anonymous(this="TIMESTAMP", expressions=[wall, name])
    if target.dialect == "snowflake":
        utc = exp.Literal.string("UTC")
        return exp.ConvertTimezone(source_tz=name, target_tz=utc, timestamp=wall)
    return exp.AtTimeZone(this=wall, zone=name)


def local_instant(target: Target, wall: Expr, zone: str) -> Expr:
    """The instant of a wall-clock time in ``zone`` as segmentry reads it: where the
    clocks repeat the time, its first occurrence (the reading a day earlier, 24 hours
    on, when that reads back as the same wall-clock time and is earlier)."""
    reading = zoned(target, wall, zone)
    if zone in UTC_NAMES:
        return reading
    day_before = exp.DatetimeAdd(this=wall.copy(), expression=exp.Literal.number(-1),
                                 unit=exp.var("DAY"))  # fmt: skip
    earlier = plus_hours(zoned(target, day_before, zone), 24)
    first = exp.and_(
        exp.LT(this=earlier, expression=reading.copy()),
        exp.EQ(this=wall_of(target, earlier.copy(), zone), expression=wall.copy()),
    )
    return exp.Case(ifs=[exp.If(this=first, true=earlier.copy())], default=reading.copy())


def shift_wall(wall: Expr, amount: int, unit: str) -> Expr:
    """A wall-clock time moved by calendar days, weeks, months or years (a month step
    past a month's end on its last day, as every warehouse here does)."""
    if amount == 0:
        return wall
    count = exp.Literal.number(amount * 7 if unit == "w" else amount)
    name = {"d": "DAY", "w": "DAY", "m": "MONTH", "y": "YEAR"}[unit]
    return exp.DatetimeAdd(this=wall, expression=count, unit=exp.var(name))


def relative_point(target: Target, amount: int, unit: str, zone: str) -> Expr:
    """The instant ``amount`` units from now: hours exactly, the others on the wall clock."""
    if unit == "h":
        return plus_hours(now(target), amount)
    local_now = wall_of(target, now(target), zone)
    return local_instant(target, shift_wall(local_now, amount, unit), zone)


def day_start(target: Target, day: Expr, zone: str) -> Expr:
    """The first instant of a day (a DATE) in ``zone``."""
    return local_instant(target, exp.cast(day, "DATETIME"), zone)
