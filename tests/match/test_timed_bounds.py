"""A time group's bounds at a new moment equal the literals lowered at that moment,
whether they were lowered again or moved from an earlier moment of the same day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from segmentry.match.index_parts import Ranges, Timed
from segmentry.match.lowering import Range, lower
from segmentry.model.schema import Kind
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import Condition
from segmentry.rules.operators import Op
from tests.rules.strategies import SCHEMAS

SCHEMA = SCHEMAS[Kind.CUSTOMER]
KEY = "last_order_at"
ZONES = [UTC, ZoneInfo("UTC"), ZoneInfo("Etc/GMT+3"), timezone(timedelta(hours=5, minutes=30))]


def _timed(literals: list[str]) -> Timed:
    timed = Timed(KEY, True)
    leaf = 0
    for literal in literals:
        for op in (Op.LT, Op.LE, Op.GT, Op.GE):
            timed.add(leaf, Condition(KEY, op, literal))
            leaf += 1
    timed.add(leaf, Condition(KEY, Op.BETWEEN, (literals[0], literals[-1])))
    timed.freeze()
    return timed


def _lowered(timed: Timed, ctx: EvalContext) -> Ranges:
    ranges = Ranges(True)
    for group, (op, value) in enumerate(timed.groups):
        test = lower(Condition(KEY, Op(op), value), SCHEMA, ctx).test
        assert isinstance(test, Range)
        ranges.add(group, test)
    ranges.freeze()
    return ranges


@pytest.mark.parametrize("zone", [*ZONES, ZoneInfo("Europe/Berlin")], ids=str)
@pytest.mark.parametrize("literals", [["-7d", "-2h", "-1M", "-1y", "-3w"], ["-30d", "today"]])
def test_bounds_at_each_moment_are_the_lowered_ones(zone: tzinfo, literals: list[str]) -> None:
    timed = _timed(literals)
    rng = np.random.default_rng(7)
    start = datetime(2024, 1, 31, tzinfo=UTC)  # month ends and a leap day ahead
    for _ in range(300):
        now = start + timedelta(microseconds=int(rng.integers(0, 400 * 86_400 * 10**6)))
        for moment in (now, now + timedelta(microseconds=int(rng.integers(0, 3_600 * 10**6)))):
            ctx = EvalContext(moment, zone)
            got, want = timed.at(SCHEMA, ctx).frozen, _lowered(timed, ctx).frozen
            assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_a_later_moment_of_the_day_moves_the_bounds(zone: tzinfo) -> None:
    timed = _timed(["-7d", "-2h"])
    first = EvalContext(datetime(2024, 3, 1, 12, tzinfo=UTC), zone)
    timed.at(SCHEMA, first)
    later = EvalContext(first.now + timedelta(seconds=1), zone)
    assert timed._shifted(SCHEMA, later) is not None
