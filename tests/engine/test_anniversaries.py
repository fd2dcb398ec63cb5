"""Anniversaries move through segments as days pass, in the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Cause, Change, SegmentSpec
from segmentry.model.schema import Kind
from tests.engine.conftest import ManualClock

KIRITIMATI = "Pacific/Kiritimati"
"""UTC+14: its day starts at 10:00 UTC the day before."""


def far_east_shop(segmentry: Segmentry) -> Shop:
    return segmentry.shop(segmentry.create_tenant("far east", KIRITIMATI).tenant_id)


def customer_segment(shop: Shop, code: str, rule: str) -> None:
    shop.create_segment(SegmentSpec(kind=Kind.CUSTOMER, code=code, name=code, rule=rule))


def ids(shop: Shop, code: str) -> set[str]:
    return {m.id for m in shop.members(code).items}


def local_midnight(year: int, month: int, day: int) -> datetime:
    """Midnight in Kiritimati, as the UTC moment the clock is set to."""
    return datetime(year, month, day, tzinfo=UTC) - timedelta(hours=14)


def test_a_birthday_enters_on_the_day_and_leaves_the_next(
    segmentry: Segmentry, clock: ManualClock
) -> None:
    clock.now = local_midnight(2026, 6, 2) - timedelta(minutes=1)
    shop = far_east_shop(segmentry)
    shop.upsert(Kind.CUSTOMER, "ana", {"birthday": "1990-06-02"})
    shop.upsert(Kind.CUSTOMER, "bo", {"birthday": "1990-06-03"})
    shop.upsert(Kind.CUSTOMER, "cy", {})
    customer_segment(shop, "birthday_today", "anniversary(birthday) = today")
    customer_segment(shop, "not_today", "anniversary(birthday) != today")
    assert ids(shop, "birthday_today") == set()  # 23:59 on 1 June in Kiritimati
    clock.advance(timedelta(minutes=2))  # 00:01 on 2 June there, still 1 June in UTC
    shop.sweep()
    assert ids(shop, "birthday_today") == {"ana"}
    assert ids(shop, "not_today") == {"bo", "cy"}  # a missing birthday is not today
    last = shop.events().items[-2:]
    assert {(e.segment, e.entity_id, e.change, e.cause) for e in last} == {
        ("birthday_today", "ana", Change.ENTERED, Cause.TIME_PASSED),
        ("not_today", "ana", Change.EXITED, Cause.TIME_PASSED),
    }
    clock.advance(timedelta(days=1))
    shop.sweep()
    assert ids(shop, "birthday_today") == {"bo"}
    clock.advance(timedelta(days=1))
    shop.sweep()
    assert ids(shop, "birthday_today") == set()


def test_29_february_falls_on_28_february_in_other_years(
    segmentry: Segmentry, clock: ManualClock
) -> None:
    clock.now = local_midnight(2027, 2, 27) + timedelta(hours=12)
    shop = far_east_shop(segmentry)
    shop.upsert(Kind.CUSTOMER, "leap", {"birthday": "1992-02-29"})
    shop.upsert(Kind.CUSTOMER, "eve", {"birthday": "1990-02-28"})
    shop.upsert(Kind.CUSTOMER, "march", {"birthday": "1990-03-01"})
    customer_segment(shop, "birthday_today", "anniversary(birthday) = today")
    assert ids(shop, "birthday_today") == set()
    clock.now = local_midnight(2027, 2, 28)
    shop.sweep()
    assert ids(shop, "birthday_today") == {"leap", "eve"}
    clock.now = local_midnight(2027, 3, 1)
    shop.sweep()
    assert ids(shop, "birthday_today") == {"march"}
    # 2028 has a 29 February: the leap birthday waits for it.
    clock.now = local_midnight(2028, 2, 28)
    shop.sweep()
    assert ids(shop, "birthday_today") == {"eve"}
    clock.now = local_midnight(2028, 2, 29)
    shop.sweep()
    assert ids(shop, "birthday_today") == {"leap"}


def test_a_week_ahead_crosses_the_year_end_and_a_long_pause_is_exact(
    segmentry: Segmentry, clock: ManualClock
) -> None:
    clock.now = local_midnight(2026, 12, 28) + timedelta(hours=9)
    shop = far_east_shop(segmentry)
    born = {"dec28": "1980-12-28", "dec30": "1980-12-30", "jan02": "1981-01-02",
            "jan04": "1981-01-04", "jan06": "1981-01-06", "jan08": "1981-01-08"}  # fmt: skip
    shop.upsert_many(Kind.CUSTOMER, [{"id": i, "birthday": day} for i, day in born.items()])
    customer_segment(shop, "week_ahead", "anniversary(birthday) BETWEEN today AND +7d")
    customer_segment(shop, "next_week", "anniversary(birthday) BETWEEN +7d AND +13d")
    # 28 December to 4 January; the next week 4 to 10 January.
    assert ids(shop, "week_ahead") == {"dec28", "dec30", "jan02", "jan04"}
    assert ids(shop, "next_week") == {"jan04", "jan06", "jan08"}
    clock.advance(timedelta(days=3))  # no sweep for three days: 31 December to 7 January
    assert shop.sweep() > 0
    assert ids(shop, "week_ahead") == {"jan02", "jan04", "jan06"}
    # 7 to 13 January; 28 and 30 December are next a year on.
    assert ids(shop, "next_week") == {"jan08"}


def test_a_date_time_has_the_day_of_the_tenants_wall_clock(
    segmentry: Segmentry, clock: ManualClock
) -> None:
    clock.now = local_midnight(2026, 6, 2) + timedelta(hours=1)
    shop = far_east_shop(segmentry)
    # 12:00 UTC on 1 June is already 2 June in Kiritimati.
    shop.upsert(Kind.CUSTOMER, "signed", {"created_at": "2020-06-01T12:00:00Z"})
    shop.upsert(Kind.CUSTOMER, "early", {"created_at": "2020-06-01T09:00:00Z"})
    customer_segment(shop, "signup_day", "anniversary(created_at) = today")
    assert ids(shop, "signup_day") == {"signed"}


def test_a_write_moves_a_birthday_into_and_out_of_today(
    segmentry: Segmentry, clock: ManualClock
) -> None:
    clock.now = local_midnight(2026, 6, 2) + timedelta(hours=1)
    shop = far_east_shop(segmentry)
    customer_segment(shop, "birthday_today", "anniversary(birthday) = today AND country = 'FR'")
    shop.upsert(Kind.CUSTOMER, "ana", {"birthday": "1990-06-01", "country": "FR"})
    assert ids(shop, "birthday_today") == set()
    shop.upsert(Kind.CUSTOMER, "ana", {"birthday": "1990-06-02", "country": "FR"})
    assert ids(shop, "birthday_today") == {"ana"}
    clock.advance(timedelta(days=2))  # no sweep: the write still sees the day as it is
    shop.upsert(Kind.CUSTOMER, "ana", {"birthday": "1990-06-04", "country": "FR"})
    assert ids(shop, "birthday_today") == {"ana"}
    shop.upsert(Kind.CUSTOMER, "ana", {"birthday": "1990-06-02", "country": "FR"})
    assert ids(shop, "birthday_today") == set()
