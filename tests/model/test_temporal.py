"""Relative times and whole days in the tenant's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from segmentry.model import temporal
from segmentry.model.temporal import EvalContext, Relative, read_temporal

MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("-30d", "-30d"), ("+2W", "+2w"), ("7_days_ago", "-7d"), ("1_year_ago", "-1y"),
     ("TODAY", "today"), ("2024-03-01", "2024-03-01"), ("2024-03-01T10:00", "2024-03-01T10:00:00"),
     ("2024-03-01T10:00:00.5+0530", "2024-03-01T10:00:00.500000+05:30")],
)  # fmt: skip
def test_literals_have_one_canonical_spelling(text: str, canonical: str) -> None:
    value = read_temporal(text)
    assert value is not None
    assert temporal.canonical(value) == canonical
    assert temporal.is_canonical(canonical)


@pytest.mark.parametrize("text", ["2024-02-30", "0999-01-01", "-99999y", "2024-01-01T24:00"])
def test_invalid_literals_are_errors(text: str) -> None:
    with pytest.raises(temporal.TemporalError):
        read_temporal(text)


def test_calendar_steps_follow_the_wall_clock_across_daylight_saving() -> None:
    # 2024-03-31 is the spring change in Madrid: 13:00 CEST minus one day is 13:00 CET.
    ctx = EvalContext(datetime(2024, 3, 31, 11, 0, tzinfo=UTC), MADRID)
    moment = temporal.from_micros(temporal.as_instant(Relative(-1, "d"), ctx))
    assert moment == datetime(2024, 3, 30, 12, 0, tzinfo=UTC)
    hours = temporal.from_micros(temporal.as_instant(Relative(-24, "h"), ctx))
    assert hours == datetime(2024, 3, 30, 11, 0, tzinfo=UTC)


def test_month_steps_clamp_to_the_end_of_the_month() -> None:
    ctx = EvalContext(datetime(2024, 3, 31, 12, 0, tzinfo=UTC))
    assert temporal.as_day(Relative(-1, "m"), ctx) == date(2024, 2, 29)
    assert temporal.as_day(
        Relative(-1, "y"), EvalContext(datetime(2024, 2, 29, tzinfo=UTC))
    ) == date(2023, 2, 28)


def test_today_is_the_tenants_day() -> None:
    ctx = EvalContext(datetime(2024, 3, 15, 23, 30, tzinfo=UTC), MADRID)
    assert temporal.as_day(temporal.DayWord(0), ctx) == date(2024, 3, 16)
    assert temporal.day_start(date(2024, 3, 16), MADRID) == temporal.to_micros(
        datetime(2024, 3, 15, 23, 0, tzinfo=UTC)
    )


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EvalContext(datetime(2024, 1, 1))
