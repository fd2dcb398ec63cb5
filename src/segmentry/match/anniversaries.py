"""Anniversaries: the next day, today included, with a date's month and day.

``anniversary(birthday)`` is lowered to a set of *month-days* (``month * 100 +
day``, 229 for 29 February): those whose next occurrence lies in the
condition's window of days. Each evaluator then only reads a value's month-day
(a date-time's on the tenant's wall clock) and looks it up in the set, so the
calendar (year ends, 29 February) is worked out here, once, for every evaluator.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta, tzinfo

from segmentry.model import temporal

LEAP_YEAR = 2000
MONTH_DAYS: tuple[int, ...] = tuple(
    day.month * 100 + day.day
    for day in (date(LEAP_YEAR, 1, 1) + timedelta(days=n) for n in range(366))
)
"""Every month-day of the calendar, 29 February included, in calendar order."""
LEAP_DAY = 229


def occurrence(month_day: int, year: int) -> date:
    """The day a month-day falls on in ``year``: 29 February on 28 February in a year
    without it."""
    month, day = divmod(month_day, 100)
    if month_day == LEAP_DAY and not _is_leap(year):
        day = 28
    return date(year, month, day)


def next_occurrence(month_day: int, today: date) -> date:
    """The first day on or after ``today`` that the month-day falls on."""
    this_year = occurrence(month_day, today.year)
    return this_year if this_year >= today else occurrence(month_day, today.year + 1)


@functools.lru_cache(maxsize=256)
def within(first: date | None, last: date | None, today: date) -> frozenset[int]:
    """The month-days whose next occurrence from ``today`` lies from ``first`` to
    ``last``, both included; ``None`` leaves that end open."""
    return frozenset(
        md
        for md in MONTH_DAYS
        if (first is None or first <= next_occurrence(md, today))
        and (last is None or next_occurrence(md, today) <= last)
    )


def runs(days: frozenset[int]) -> list[tuple[int, int]]:
    """The month-days as runs of consecutive ones in calendar order, first and last:
    every month-day between two in number is between them in the calendar, so a run is
    one ``BETWEEN`` (a week across the year end is two)."""
    out: list[tuple[int, int]] = []
    previous = -1
    for position, day in enumerate(MONTH_DAYS):
        if day not in days:
            continue
        if out and previous == position - 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
        previous = position
    return out


def of_day_number(number: int) -> int:
    """The month-day of a date (a day number, as dates are encoded)."""
    day = temporal.from_day_number(number)
    return day.month * 100 + day.day


def of_moment(micros: int, tz: tzinfo) -> int:
    """The month-day a moment (microseconds since the epoch) has on the wall clock of
    zone ``tz``."""
    day = temporal.from_micros(micros).astimezone(tz).date()
    return day.month * 100 + day.day


def zone_name(tz: tzinfo) -> str:
    """The IANA name of a tenant's zone, as SQL databases know it."""
    name = getattr(tz, "key", None) or tz.tzname(None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"time zone {tz!r} has no name a database knows")
    return name


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
