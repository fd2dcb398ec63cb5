"""Time passing: members enter and leave as relative times move, without writes."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Cause, Change, SegmentSpec
from segmentry.model.schema import Kind
from tests.conftest import examples
from tests.engine.conftest import ManualClock


def customer_segment(shop: Shop, code: str, rule: str) -> None:
    shop.create_segment(SegmentSpec(kind=Kind.CUSTOMER, code=code, name=code, rule=rule))


def ids(shop: Shop, code: str) -> set[str]:
    return {m.id for m in shop.members(code).items}


def test_a_customer_leaves_the_last_30_days_when_they_end(shop: Shop, clock: ManualClock) -> None:
    shop.upsert(Kind.CUSTOMER, "c", {"last_order_at": "2024-03-01T10:00:00Z"})
    customer_segment(shop, "recent", "last_order_at > -30d")
    customer_segment(shop, "recent_ios", "IN SEGMENT 'recent'")
    # Ordered at 11:00 CET on 1 March: 30 days on the Madrid clock end at 11:00 CEST (09:00 UTC).
    clock.now = clock.now.replace(month=3, day=31, hour=8, minute=59)
    shop.sweep()
    assert ids(shop, "recent") == {"c"}
    clock.advance(timedelta(minutes=1, seconds=1))
    assert shop.sweep() == 2
    assert ids(shop, "recent") == set()
    assert ids(shop, "recent_ios") == set()
    last = shop.events().items[-2:]
    assert [(e.segment, e.change, e.cause) for e in last] == [
        ("recent", Change.EXITED, Cause.TIME_PASSED),
        ("recent_ios", Change.EXITED, Cause.TIME_PASSED),
    ]


def test_today_turns_at_midnight_in_the_tenants_zone(shop: Shop, clock: ManualClock) -> None:
    shop.upsert(Kind.CUSTOMER, "c", {"created_at": "2024-03-15T10:00:00Z"})
    customer_segment(shop, "new_today", "created_at = today")
    customer_segment(shop, "new_yesterday", "created_at = yesterday")
    assert ids(shop, "new_today") == {"c"}
    clock.now = clock.now.replace(hour=22, minute=59)  # 23:59 in Madrid
    shop.sweep()
    assert ids(shop, "new_today") == {"c"}
    clock.advance(timedelta(minutes=2))  # 00:01 on the 16th in Madrid
    shop.sweep()
    assert (ids(shop, "new_today"), ids(shop, "new_yesterday")) == (set(), {"c"})


def test_a_long_pause_is_swept_exactly(shop: Shop, clock: ManualClock) -> None:
    shop.upsert_many(
        Kind.CUSTOMER,
        [{"id": f"c{d}", "last_order_at": f"2024-03-{d:02d}T12:00:00Z"} for d in range(1, 16)],
    )
    customer_segment(shop, "week", "last_order_at >= -7d")
    customer_segment(shop, "older", "last_order_at < -10d")
    clock.advance(timedelta(days=5))
    shop.sweep()
    assert ids(shop, "week") == {f"c{d}" for d in range(13, 16)}
    assert ids(shop, "older") == {f"c{d}" for d in range(1, 10)}  # c10 is exactly 10 days old


def test_the_scheduler_sweeps_in_the_background(segmentry: Segmentry, clock: ManualClock) -> None:
    shop = segmentry.shop(segmentry.create_tenant("bg", "UTC").tenant_id)
    shop.upsert(Kind.CUSTOMER, "c", {"last_order_at": "2024-03-15T11:00:00Z"})
    customer_segment(shop, "hour", "last_order_at > -1h")
    clock.advance(timedelta(hours=2))
    segmentry.start_scheduler(interval=0.05)
    try:
        deadline = time.monotonic() + 10
        while ids(shop, "hour") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        segmentry.stop_scheduler()
    assert ids(shop, "hour") == set()


# A write between a bound passing an entity's value and the next sweep: the write must
# leave the membership true at its moment, wherever it moves the value, because the next
# sweep looks only at values its bounds pass from then on.
STALE_CASES = [
    # rule, value before (days before the start), value written after 15 days (None: removed)
    ("last_order_at > -30d", 20, 400),  # left at day 10; written far outside the window
    ("last_order_at > -30d", 20, None),  # left at day 10; the value is removed
    ("last_order_at < -30d", 20, 400),  # entered at day 10; written far outside
    (
        "last_order_at >= -30d AND accepts_marketing = true",
        20,
        400,
    ),  # a conjunction, guard on accepts_marketing
    ("last_order_at > -30d OR email CONTAINS 'x'", 20, 400),  # another shape
]


def _stale_case(shop: Shop, clock: ManualClock, rule: str, before: int) -> None:
    start = clock.now
    at = (start - timedelta(days=before)).isoformat()
    shop.upsert_many(
        Kind.CUSTOMER,
        [
            {"id": c, "last_order_at": at, "accepts_marketing": True, "email": "a@b.c"}
            for c in ("c", "d")
        ],
    )
    customer_segment(shop, "timed", rule)
    customer_segment(shop, "nested", "IN SEGMENT 'timed' AND accepts_marketing = true")
    clock.advance(timedelta(days=15))  # the bound passes the value; no sweep yet


@pytest.mark.parametrize(("rule", "before", "after"), STALE_CASES)
def test_a_write_before_the_sweep_leaves_no_stale_membership(
    shop: Shop, clock: ManualClock, rule: str, before: int, after: int | None
) -> None:
    start = clock.now
    _stale_case(shop, clock, rule, before)
    value = None if after is None else (start - timedelta(days=after)).isoformat()
    shop.patch(Kind.CUSTOMER, "c", {"last_order_at": value})  # one entity: the index
    shop.upsert_many(  # a batch: the vectorised pass
        Kind.CUSTOMER,
        [
            {"id": c, "last_order_at": value, "accepts_marketing": True, "email": "a@b.c"}
            for c in ("d", "e")
        ],
    )
    shop.sweep()
    clock.advance(timedelta(days=1))
    shop.sweep()
    expected = {c.id for c in shop.entities(Kind.CUSTOMER, rule=rule).items}
    assert ids(shop, "timed") == expected
    assert ids(shop, "nested") == expected


SWEPT_RULES = {
    "week": "last_order_at > -7d",
    "lapsed": "last_order_at <= -30d",
    "window": "last_order_at < -3d and last_order_at >= -20d",
    "yesterday": "created_at = yesterday",
    "lapsed_week": "IN SEGMENT 'week' or created_at > -2d",
}


@settings(max_examples=examples(40, 15), deadline=None)
@given(
    offsets=st.lists(st.integers(-60 * 24, 5 * 24), min_size=1, max_size=30),
    steps=st.lists(st.integers(1, 24 * 25), min_size=1, max_size=5),
)
def test_every_sweep_leaves_each_segment_as_a_fresh_evaluation(
    offsets: list[int], steps: list[int]
) -> None:
    """Members after any sequence of sweeps are exactly the rule evaluated now: editing
    each segment to its own rule would move no one."""
    clock = ManualClock()
    with Segmentry("sqlite://", clock=clock) as segmentry:
        shop = segmentry.shop(segmentry.create_tenant("sweeps", "Europe/Madrid").tenant_id)
        shop.upsert_many(
            Kind.CUSTOMER, [_customer(n, clock, hours) for n, hours in enumerate(offsets)]
        )
        for code, rule in SWEPT_RULES.items():
            customer_segment(shop, code, rule)
        for hours in steps:
            clock.advance(timedelta(hours=hours))
            shop.sweep()
            for code, rule in SWEPT_RULES.items():
                moved = shop.preview_edit(code, rule)
                assert (code, moved.entering, moved.leaving) == (code, 0, 0)


def _customer(number: int, clock: ManualClock, hours: int) -> dict[str, str]:
    at = (clock.now + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": f"c{number}", "last_order_at": at, "created_at": at}
