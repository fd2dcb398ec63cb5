"""Dates, date-times and relative times: reading them and giving them a moment.

Temporal literals are strings in the rule tree (as in the JSON form). This
module reads them, prints their canonical spelling, and resolves them against
an :class:`EvalContext` (the moment of evaluation and the tenant's time zone).

Arithmetic on days, weeks, months and years is calendar arithmetic on the
tenant's wall clock (``-1d`` at 10:00 is 10:00 yesterday, across a daylight
saving change too); hours are exact durations. A month step that lands past
the end of a month clamps to its last day (31 March - 1 month = 28/29 Feb).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MIN_YEAR = 1000
MAX_YEAR = 9998
ONE_MICROSECOND = timedelta(microseconds=1)

Unit = Literal["h", "d", "w", "m", "y"]
UNIT_LIMITS: dict[str, int] = {"h": 1_750_000, "d": 73_000, "w": 10_400, "m": 2_400, "y": 200}
UNIT_WORDS = {"hour": "h", "day": "d", "week": "w", "month": "m", "year": "y"}
DAY_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}

DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)
RELATIVE_RE = re.compile(r"([+-])(\d{1,7})([hdwmy])", re.IGNORECASE)
NAMED_OFFSET_RE = re.compile(r"(\d{1,7})_(hour|day|week|month|year)s?_ago", re.IGNORECASE)


class TemporalError(ValueError):
    """A string that reads as a temporal literal but is not a valid one."""


@dataclass(frozen=True, slots=True)
class AbsoluteDate:
    day: date


@dataclass(frozen=True, slots=True)
class AbsoluteDateTime:
    """``moment`` is aware when the literal had an offset, naive (tenant time) otherwise."""

    moment: datetime


@dataclass(frozen=True, slots=True)
class Relative:
    amount: int
    unit: str


@dataclass(frozen=True, slots=True)
class DayWord:
    offset: int


Temporal = AbsoluteDate | AbsoluteDateTime | Relative | DayWord


@dataclass(frozen=True, slots=True)
class EvalContext:
    """The moment a rule is evaluated and the tenant's time zone."""

    now: datetime
    tz: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("EvalContext.now must be timezone-aware")


def read_temporal(text: str) -> Temporal | None:
    """The temporal literal ``text`` spells, or ``None`` if it does not look like one.

    Raises :class:`TemporalError` for text shaped like a literal but invalid
    (``2024-02-30``, ``-99999999y``).
    """
    word = text.lower()
    if word in DAY_WORDS:
        return DayWord(DAY_WORDS[word])
    if m := RELATIVE_RE.fullmatch(text):
        sign = -1 if m[1] == "-" else 1
        return _relative(sign * int(m[2]), m[3].lower())
    if m := NAMED_OFFSET_RE.fullmatch(text):
        return _relative(-int(m[1]), UNIT_WORDS[m[2].lower()])
    if m := DATE_RE.fullmatch(text):
        return AbsoluteDate(_date(int(m[1]), int(m[2]), int(m[3])))
    if m := DATETIME_RE.fullmatch(text):
        return AbsoluteDateTime(_datetime(m))
    return None


def _relative(amount: int, unit: str) -> Relative:
    if abs(amount) > UNIT_LIMITS[unit]:
        raise TemporalError(f"relative time too far: at most {UNIT_LIMITS[unit]:,}{unit}")
    return Relative(amount, unit)


def _date(year: int, month: int, day: int) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise TemporalError(f"year {year} is outside {MIN_YEAR}..{MAX_YEAR}")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise TemporalError(f"{year:04d}-{month:02d}-{day:02d} is not a calendar date") from exc


def _datetime(m: re.Match[str]) -> datetime:
    day = _date(int(m[1]), int(m[2]), int(m[3]))
    hour, minute, second = int(m[4]), int(m[5]), int(m[6] or 0)
    micro = int((m[7] or "0").ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        raise TemporalError(f"{m[4]}:{m[5]}:{m[6] or '00'} is not a time of day")
    zone = _offset(m[8]) if m[8] else None
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=zone)


def _offset(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise TemporalError(f"{text} is not a time zone offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def canonical(value: Temporal) -> str:
    """The one spelling the printer uses for a temporal literal."""
    match value:
        case DayWord(offset):
            return next(word for word, off in DAY_WORDS.items() if off == offset)
        case Relative(amount, unit):
            return f"{'-' if amount < 0 else '+'}{abs(amount)}{unit}"
        case AbsoluteDate(day):
            return day.isoformat()
        case AbsoluteDateTime(moment):
            return _canonical_datetime(moment)


def _canonical_datetime(moment: datetime) -> str:
    text = moment.replace(tzinfo=None).isoformat(timespec="seconds")
    if moment.microsecond:
        text = moment.replace(tzinfo=None).isoformat(timespec="microseconds")
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def is_canonical(text: str) -> bool:
    """Whether ``text`` is exactly the canonical spelling of a valid temporal literal."""
    try:
        value = read_temporal(text)
    except TemporalError:
        return False
    return value is not None and canonical(value) == text


def is_day_like(value: Temporal) -> bool:
    """Day-like literals stand for a whole day when compared with a date-time."""
    return isinstance(value, AbsoluteDate | DayWord)


def local_now(ctx: EvalContext) -> datetime:
    return ctx.now.astimezone(ctx.tz)


def shift(moment: datetime, amount: int, unit: str) -> datetime:
    """``moment`` (aware) moved by ``amount`` units; calendar units on its wall clock."""
    if unit == "h":
        return (moment.astimezone(UTC) + timedelta(hours=amount)).astimezone(moment.tzinfo)
    wall = moment.replace(tzinfo=None)
    if unit in ("d", "w"):
        wall += timedelta(days=amount * (7 if unit == "w" else 1))
    else:
        wall = _add_months(wall, amount * (12 if unit == "y" else 1))
    return wall.replace(tzinfo=moment.tzinfo)


def _add_months(wall: datetime, months: int) -> datetime:
    index = wall.year * 12 + wall.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return wall.replace(year=year, month=month, day=min(wall.day, last))


def as_day(value: Temporal, ctx: EvalContext) -> date:
    """The calendar day (in the tenant's zone) a literal stands for."""
    match value:
        case AbsoluteDate(day):
            return day
        case DayWord(offset):
            return local_now(ctx).date() + timedelta(days=offset)
        case AbsoluteDateTime(moment):
            return _aware(moment, ctx).astimezone(ctx.tz).date()
        case Relative(amount, unit):
            return shift(local_now(ctx), amount, unit).date()


def as_instant(value: AbsoluteDateTime | Relative, ctx: EvalContext) -> int:
    """The moment (microseconds since the epoch, UTC) a point-like literal stands for."""
    if isinstance(value, Relative):
        return to_micros(shift(local_now(ctx), value.amount, value.unit))
    return to_micros(_aware(value.moment, ctx))


def _aware(moment: datetime, ctx: EvalContext) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ctx.tz)


def day_start(day: date, tz: tzinfo) -> int:
    """The first microsecond of ``day`` in zone ``tz``, since the epoch."""
    return to_micros(datetime(day.year, day.month, day.day, tzinfo=tz))


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware date-time."""
    return (moment - EPOCH) // ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def to_day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return day.toordinal() - EPOCH_ORDINAL


def from_day_number(number: int) -> date:
    return date.fromordinal(number + EPOCH_ORDINAL)


def window_start(value: Temporal, ctx: EvalContext) -> int:
    """The first moment (microseconds since the epoch) a ``since:`` bound lets in: a
    day-like literal starts at that day's beginning in the tenant's zone, a relative
    time or a date-time is that moment."""
    if isinstance(value, AbsoluteDate | DayWord):
        return day_start(as_day(value, ctx), ctx.tz)
    return as_instant(value, ctx)


def window_end(value: Temporal, ctx: EvalContext) -> int:
    """The last moment an ``until:`` bound lets in (the window includes its ends): a
    day-like literal ends at that day's last microsecond in the tenant's zone."""
    if isinstance(value, AbsoluteDate | DayWord):
        return day_start(as_day(value, ctx) + timedelta(days=1), ctx.tz) - 1
    return as_instant(value, ctx)


def window(since: str | None, until: str | None, ctx: EvalContext) -> tuple[int | None, int | None]:
    """A behaviour window's bounds at ``ctx``, both included; ``None`` is an open end.
    The literals are checked ones (see ``rules.check``)."""
    low = None if since is None else window_start(_read_checked(since), ctx)
    high = None if until is None else window_end(_read_checked(until), ctx)
    return low, high


def _read_checked(text: str) -> Temporal:
    value = read_temporal(text)
    if value is None:
        raise TemporalError(f"{text!r} is not a date, a date-time or a relative time")
    return value


UTC_NAMES = frozenset(
    {"UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Universal", "Zulu"}
)


def fixed_offset(tz: tzinfo) -> bool:
    """Whether a zone's offset never changes: a ``timezone``, UTC by any of its names, or
    an IANA ``Etc/`` zone (fixed offsets by definition)."""
    if isinstance(tz, timezone):
        return True
    key = getattr(tz, "key", None)
    return (
        isinstance(tz, ZoneInfo)
        and isinstance(key, str)
        and (key in UTC_NAMES or key.startswith("Etc/"))
    )
