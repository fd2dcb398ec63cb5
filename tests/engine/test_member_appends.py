"""Members a batch appends above a stored chunk's others keep every entry time: the
earlier members' and the new ones', whichever way the chunk stored its times."""

from __future__ import annotations

from datetime import timedelta

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from tests.engine.conftest import ManualClock


def _ios(shop: Shop) -> None:
    rule = "platform = 'ios'"
    shop.create_segment(SegmentSpec(kind="customer", code="ios", name="iOS", rule=rule))


def _batch(shop: Shop, ids: range, platform: str = "ios") -> None:
    shop.upsert_many("customer", [{"id": f"c{n}", "platform": platform} for n in ids])


def _entered(shop: Shop, ids: range) -> list[object]:
    found = [shop.member("ios", f"c{n}") for n in ids]
    return [m.since if m is not None else None for m in found]


def test_batches_appended_keep_each_members_entry_time(
    segmentry: Segmentry, shop: Shop, clock: ManualClock
) -> None:
    _ios(shop)
    moments = []
    # One member first (times stored plain), then batches appended after it, one
    # of them with members that do not enter between the others.
    for ids in (range(1, 2), range(2, 7), range(7, 9), range(9, 20)):
        moments.append(clock.now)
        _batch(shop, ids)
        _batch(shop, range(100 + ids.start, 100 + ids.stop), platform="android")
        clock.advance(timedelta(minutes=5))
    expected = [moments[0]] + [moments[1]] * 5 + [moments[2]] * 2 + [moments[3]] * 11
    assert _entered(shop, range(1, 20)) == expected
    assert shop.member("ios", "c101") is None
    # As stored: a new engine reads the chunk back.
    again = Segmentry(segmentry.url, clock=clock).shop(shop.tenant_id)
    try:
        assert _entered(again, range(1, 20)) == expected
        assert again.segment("ios").member_count == 19
    finally:
        again.segmentry.close()


def test_a_batch_appended_to_times_stored_as_runs(
    segmentry: Segmentry, shop: Shop, clock: ManualClock
) -> None:
    _ios(shop)
    first = clock.now
    _batch(shop, range(1, 40))  # many members entering at once: stored as one run
    clock.advance(timedelta(hours=1))
    second = clock.now
    _batch(shop, range(40, 90))
    _batch(shop, range(5, 6), platform="android")  # one leaves: read and edited
    clock.advance(timedelta(hours=1))
    third = clock.now
    _batch(shop, range(90, 95))
    expected = [first] * 39 + [second] * 50 + [third] * 5
    expected[4] = None
    assert _entered(shop, range(1, 95)) == expected
    again = Segmentry(segmentry.url, clock=clock).shop(shop.tenant_id)
    try:
        assert _entered(again, range(1, 95)) == expected
    finally:
        again.segmentry.close()
