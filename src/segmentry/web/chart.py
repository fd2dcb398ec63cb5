"""A segment's member count over time, as the geometry of a small inline SVG.

The count is a step line: a count holds from the moment it was recorded until
the next point, and the last one until now. The y axis starts at zero so that
a change of ten members out of twenty thousand does not look like a cliff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from segmentry.engine.types import HistoryPoint

WIDTH, HEIGHT = 600, 160
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    line: str
    area: str
    high: int
    start: str
    end: str
    summary: str
    x0: int = LEFT
    x1: int = WIDTH - RIGHT
    y0: int = HEIGHT - BOTTOM
    y1: int = TOP


def _ends(first: datetime, last: datetime) -> tuple[str, str]:
    """The axis' two labels, told apart: days, or within one day the times (to the
    second when they share a minute)."""
    day = "%Y-%m-%d"
    if first.strftime(day) != last.strftime(day):
        return first.strftime(day), last.strftime(day)
    clock = "%H:%M" if first.strftime("%H:%M") != last.strftime("%H:%M") else "%H:%M:%S"
    return first.strftime(f"{day} {clock}"), last.strftime(clock)


def chart(points: list[HistoryPoint], now: datetime) -> Chart | None:
    """The chart of ``points`` up to ``now``, or ``None`` when there is no history."""
    if not points:
        return None
    first, last = points[0].at, max(now, points[-1].at)
    seconds = (last - first).total_seconds() or 1.0
    high = max(p.member_count for p in points)

    def x(moment: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (moment - first).total_seconds() / seconds

    def y(count: int) -> float:
        share = count / high if high else 0.0
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * share

    # One point per pixel column is all a 600-pixel line can show.
    shown = list({round(x(p.at)): p for p in points}.values())
    steps = [f"M{x(shown[0].at):.1f},{y(shown[0].member_count):.1f}"]
    steps.extend(f"H{x(p.at):.1f}V{y(p.member_count):.1f}" for p in shown[1:])
    steps.append(f"H{x(last):.1f}")
    line = "".join(steps)
    area = f"{line}V{HEIGHT - BOTTOM}H{LEFT}Z"
    start, end = _ends(first, last)
    summary = (
        f"Member count from {start} to {end}: "
        f"{points[0].member_count:,} at first, {points[-1].member_count:,} now, "
        f"{high:,} at most."
    )
    return Chart(WIDTH, HEIGHT, line, area, high, start, end, summary)
