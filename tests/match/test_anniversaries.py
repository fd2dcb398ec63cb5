"""The calendar of ``anniversary()``: next occurrences, 29 February, runs of month-days."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from segmentry.match import anniversaries
from segmentry.match.anniversaries import MONTH_DAYS, next_occurrence, runs, within

todays = st.dates(date(1999, 1, 1), date(2101, 12, 31))


def test_29_february_is_next_on_28_february_in_a_year_without_it() -> None:
    assert next_occurrence(229, date(2027, 1, 10)) == date(2027, 2, 28)
    assert next_occurrence(229, date(2027, 3, 1)) == date(2028, 2, 29)
    assert next_occurrence(229, date(2100, 2, 1)) == date(2100, 2, 28)  # 2100 is not leap


def test_a_week_from_28_december_holds_early_january() -> None:
    week = within(date(2026, 12, 28), date(2027, 1, 4), date(2026, 12, 28))
    assert week == {1228, 1229, 1230, 1231, 101, 102, 103, 104}
    assert runs(week) == [(101, 104), (1228, 1231)]


@given(today=todays, first=st.integers(-400, 400), length=st.integers(0, 400))
def test_a_month_day_is_let_in_exactly_when_its_next_occurrence_is(
    today: date, first: int, length: int
) -> None:
    start = today + timedelta(days=first)
    end = start + timedelta(days=length)
    days = within(start, end, today)
    for md in MONTH_DAYS:
        assert (md in days) is (start <= next_occurrence(md, today) <= end)
        assert today <= next_occurrence(md, today) < today + timedelta(days=367)


@given(days=st.frozensets(st.sampled_from(MONTH_DAYS)))
def test_runs_cover_exactly_the_month_days(days: frozenset[int]) -> None:
    covered = {md for low, high in runs(days) for md in MONTH_DAYS if low <= md <= high}
    assert covered == days


def test_a_date_time_has_its_month_day_on_the_zones_wall_clock() -> None:
    noon_utc = 1_590_926_400_000_000  # 2020-05-31T12:00:00Z
    assert anniversaries.of_moment(noon_utc, ZoneInfo("Pacific/Kiritimati")) == 601
    assert anniversaries.of_moment(noon_utc, ZoneInfo("America/New_York")) == 531
