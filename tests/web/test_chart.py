"""The member-count chart: a step line from the first point to now, axis from zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from segmentry.engine.types import HistoryPoint
from segmentry.web.chart import LEFT, RIGHT, TOP, WIDTH, chart

T0 = datetime(2024, 3, 1, tzinfo=UTC)
BOTTOM_Y = 132  # HEIGHT - BOTTOM


def test_no_history_draws_no_chart() -> None:
    assert chart([], T0) is None


def test_counts_hold_until_the_next_point_and_the_last_until_now() -> None:
    points = [HistoryPoint(T0, 10), HistoryPoint(T0 + timedelta(days=1), 20)]
    drawn = chart(points, T0 + timedelta(days=2))
    assert drawn is not None
    middle = LEFT + (WIDTH - LEFT - RIGHT) / 2
    half = (BOTTOM_Y + TOP) / 2  # 10 of at most 20: halfway between the axis and the top
    assert drawn.line == f"M{LEFT:.1f},{half:.1f}H{middle:.1f}V{TOP:.1f}H{WIDTH - RIGHT:.1f}"
    assert drawn.area.endswith(f"V{BOTTOM_Y}H{LEFT}Z")
    assert drawn.summary == (
        "Member count from 2024-03-01 to 2024-03-03: 10 at first, 20 now, 20 at most."
    )


def test_an_empty_segment_lies_on_the_axis() -> None:
    drawn = chart([HistoryPoint(T0, 0)], T0)
    assert drawn is not None
    assert drawn.line == f"M{LEFT:.1f},{BOTTOM_Y:.1f}H{LEFT:.1f}"
    assert drawn.high == 0


def test_thousands_of_points_are_drawn_one_per_pixel_column() -> None:
    points = [HistoryPoint(T0 + timedelta(minutes=i), i) for i in range(10_000)]
    drawn = chart(points, points[-1].at)
    assert drawn is not None
    assert drawn.line.count("V") <= WIDTH
    assert drawn.high == 9_999


def test_the_axis_shows_two_distinct_moments_within_one_day() -> None:
    same_day = chart([HistoryPoint(T0 + timedelta(hours=9), 3)], T0 + timedelta(hours=17))
    same_minute = chart([HistoryPoint(T0, 3)], T0 + timedelta(seconds=20))
    assert same_day is not None
    assert same_minute is not None
    assert (same_day.start, same_day.end) == ("2024-03-01 09:00", "17:00")
    assert (same_minute.start, same_minute.end) == ("2024-03-01 00:00:00", "00:00:20")
    assert same_day.summary.startswith("Member count from 2024-03-01 09:00 to 17:00:")
