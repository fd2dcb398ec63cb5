"""Single-entity writes go to the member log (one row each) instead of the member
chunks, the event blocks and the history; every reader sees the log applied exactly:
members and their entry times, the feed (all of it and per segment), the history,
in this process and in another engine, before and after the log is folded, and
across a segment's rename, rule edit and drop."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Change, SegmentEdit, SegmentSpec
from segmentry.store import member_log, tables
from tests.engine.conftest import ManualClock

IDS = [f"c{n}" for n in range(1, 7)]
RULES = {
    "big": "lifetime_value > 100",
    "vip": "lifetime_value > 500",
    "ios": "platform = 'ios'",
}


def _shop_with_segments(shop: Shop) -> None:
    for code, rule in RULES.items():
        shop.create_segment(SegmentSpec(kind="customer", code=code, name=code, rule=rule))
    batch = [{"id": i, "lifetime_value": 50 * n, "platform": "ios"} for n, i in enumerate(IDS)]
    shop.upsert_many("customer", batch)  # several entities: stored in the chunks


def _put(shop: Shop, clock: ManualClock, entity_id: str, value: int, platform: str) -> datetime:
    clock.advance(timedelta(minutes=7))
    shop.upsert("customer", entity_id, {"lifetime_value": value, "platform": platform})
    return clock.now


def _snapshot(shop: Shop) -> dict[str, Any]:
    """Everything a reader of memberships, the feed and the history is told."""
    codes = sorted(s.code for s in shop.segments())
    return {
        "members": {c: [(m.id, m.since) for m in shop.members(c, limit=1000).items] for c in codes},
        "member": {(c, i): shop.member(c, i) for c in codes for i in IDS},
        "of": {i: shop.segments_of("customer", i) for i in IDS},
        "counts": {c: shop.segment(c).member_count for c in codes},
        "feed": shop.events(limit=1000).items,
        "feeds": {c: shop.events(limit=1000, code=c).items for c in codes},
        "history": {c: shop.history(c) for c in codes},
    }


def _logged_rows(segmentry: Segmentry, tenant_id: int) -> int:
    query = sa.select(sa.func.count()).where(tables.member_log.c.tenant_id == tenant_id)
    with segmentry.database.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _elsewhere(segmentry: Segmentry, shop: Shop, clock: ManualClock) -> dict[str, Any]:
    """The snapshot as another engine on the same database reads it (a cold load)."""
    other = Segmentry(segmentry.url, clock=clock)
    try:
        return _snapshot(other.shop(shop.tenant_id))
    finally:
        other.close()


def _fold(segmentry: Segmentry, shop: Shop) -> None:
    with segmentry.transaction(shop.tenant_id) as tx:
        tx.fold()


def test_single_writes_read_back_exactly_before_and_after_a_fold(
    segmentry: Segmentry, shop: Shop, clock: ManualClock
) -> None:
    _shop_with_segments(shop)
    start = clock.now
    t1 = _put(shop, clock, "c1", 600, "ios")  # enters big and vip
    t2 = _put(shop, clock, "c5", 10, "android")  # leaves big and ios
    t3 = _put(shop, clock, "c1", 20, "ios")  # leaves big and vip
    t4 = _put(shop, clock, "c1", 700, "android")  # enters big and vip again, leaves ios
    assert _logged_rows(segmentry, shop.tenant_id) == 4

    assert shop.member("vip", "c1").since == t4  # type: ignore[union-attr]
    assert shop.member("big", "c1").since == t4  # type: ignore[union-attr]
    assert shop.member("ios", "c1") is None
    assert shop.member("big", "c5") is None
    assert shop.member("ios", "c2").since == start  # type: ignore[union-attr]
    assert [(m.id, m.since) for m in shop.members("big").items] == [
        ("c1", t4),
        ("c4", start),
        ("c6", start),
    ]
    assert [m.code for m in shop.segments_of("customer", "c1")] == ["big", "vip"]
    vip_feed = [(e.entity_id, e.change, e.at) for e in shop.events(code="vip").items]
    assert vip_feed == [
        ("c1", Change.ENTERED, t1),
        ("c1", Change.EXITED, t3),
        ("c1", Change.ENTERED, t4),
    ]
    feed = shop.events(limit=1000).items
    assert [e.id for e in feed] == list(range(1, len(feed) + 1))
    big = [(p.at, p.member_count) for p in shop.history("big")]
    assert big == [(start, 3), (t1, 4), (t2, 3), (t3, 2), (t4, 3)]

    logged = _snapshot(shop)
    assert _elsewhere(segmentry, shop, clock) == logged
    _fold(segmentry, shop)
    assert _logged_rows(segmentry, shop.tenant_id) == 0
    assert _snapshot(shop) == logged
    assert _elsewhere(segmentry, shop, clock) == logged


def test_the_write_that_fills_the_log_folds_it(
    segmentry: Segmentry, shop: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_log, "FOLD_ROWS", 3)
    _shop_with_segments(shop)
    start = clock.now
    moments = [_put(shop, clock, "c2", value, "ios") for value in (600, 20, 200, 900, 30)]
    assert _logged_rows(segmentry, shop.tenant_id) == 2  # folded at the third row
    assert shop.member("big", "c2") is None
    history = [(p.at, p.member_count) for p in shop.history("vip")]
    points = [(start, 0), (moments[0], 1), (moments[1], 0), (moments[3], 1), (moments[4], 0)]
    assert history == points
    big = [moments[0], moments[1], moments[2], moments[4]]  # 900: a member already
    assert [e.at for e in shop.events(code="big").items if e.entity_id == "c2"] == big
    assert _elsewhere(segmentry, shop, clock) == _snapshot(shop)


def test_a_batch_after_single_writes_folds_them_first(
    segmentry: Segmentry, shop: Shop, clock: ManualClock
) -> None:
    _shop_with_segments(shop)
    t1 = _put(shop, clock, "c3", 800, "ios")
    clock.advance(timedelta(minutes=1))
    batch_at = clock.now
    shop.upsert_many("customer", [{"id": i, "lifetime_value": 900} for i in ("c3", "c4", "c9")])
    assert _logged_rows(segmentry, shop.tenant_id) == 0
    assert shop.member("vip", "c3").since == t1  # type: ignore[union-attr]
    assert shop.member("vip", "c4").since == batch_at  # type: ignore[union-attr]
    assert shop.member("ios", "c3") is None  # the batch's document has no platform
    feed = shop.events(limit=1000).items
    assert [e.id for e in feed] == list(range(1, len(feed) + 1))
    assert _elsewhere(segmentry, shop, clock) == _snapshot(shop)


def test_rename_rule_edit_and_drop_after_single_writes(
    segmentry: Segmentry, shop: Shop, clock: ManualClock
) -> None:
    _shop_with_segments(shop)
    start = clock.now
    t1 = _put(shop, clock, "c1", 650, "ios")
    t2 = _put(shop, clock, "c2", 550, "android")

    shop.edit_segment("big", SegmentEdit(code="large"))
    assert [(m.id, m.since) for m in shop.members("large").items] == [
        ("c1", t1),
        ("c2", t2),
        ("c4", start),
        ("c5", start),
        ("c6", start),
    ]
    renamed = [(e.segment, e.entity_id, e.change) for e in shop.events(code="large").items]
    moved = ["c1", "c2", "c4", "c5", "c6"]
    assert renamed[-10:] == [("big", i, Change.EXITED) for i in moved] + [
        ("large", i, Change.ENTERED) for i in moved
    ]

    t3 = _put(shop, clock, "c3", 520, "ios")  # logged again after the rename
    clock.advance(timedelta(minutes=1))
    shop.edit_segment("vip", SegmentEdit(rule="lifetime_value > 600"))
    assert [(m.id, m.since) for m in shop.members("vip").items] == [("c1", t1)]
    assert shop.member("large", "c3").since == t3  # type: ignore[union-attr]

    t4 = _put(shop, clock, "c4", 10, "android")  # leaves ios, large
    ios = shop.segment("ios")
    assert ios.member_count == 4  # c2 and c4 left
    shop.delete_segment("ios")
    assert _logged_rows(segmentry, shop.tenant_id) == 0
    segs, chunks = tables.segments, tables.member_chunks
    with segmentry.database.connect() as conn:
        kept = conn.execute(sa.select(segs.c.seg_id).where(segs.c.tenant_id == shop.tenant_id))
        held = sa.select(chunks.c.seg_id).where(chunks.c.tenant_id == shop.tenant_id)
        assert set(conn.execute(held).scalars()) == set(kept.scalars())
    assert shop.member("large", "c4") is None
    assert [p.at for p in shop.history("large")][-1] == t4
    assert _elsewhere(segmentry, shop, clock) == _snapshot(shop)
