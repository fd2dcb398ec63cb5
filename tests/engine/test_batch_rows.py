"""A big batch of new entities (an import's: rows stored as columns, one pass over
the batch, bulk member chunks) stores what small batches of the same entities store,
and one whose rows the database refuses leaves nothing behind, in memory either."""

from __future__ import annotations

from typing import Any

import pytest

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec

RULES = {
    "ios": "platform = 'ios'",
    "valuable": "lifetime_value > 500",
    "tagged": "tags CONTAINS 'vip'",
}
COUNT = 1_200


def customers() -> list[dict[str, Any]]:
    return [
        {
            "id": f"c{n}",
            "platform": ("ios", "android", "web")[n % 3],
            "lifetime_value": (n * 37) % 1_000,
            "tags": ["vip"] if n % 7 == 0 else [],
            "email": f"user{n}@example.com",
        }
        for n in range(COUNT)
    ]


def with_segments(shop: Shop) -> Shop:
    for code, rule in RULES.items():
        shop.create_segment(SegmentSpec(kind="customer", code=code, name=code, rule=rule))
    return shop


def feed(shop: Shop) -> set[tuple[str, str, str]]:
    seen, after = set(), None
    while True:
        page = shop.events(after=after, limit=1_000)
        seen |= {(e.segment, e.entity_id, e.change) for e in page.items}
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


def test_a_big_batch_stores_what_small_batches_store(segmentry: Segmentry) -> None:
    big = with_segments(segmentry.shop(segmentry.create_tenant("big", "UTC").tenant_id))
    small = with_segments(segmentry.shop(segmentry.create_tenant("small", "UTC").tenant_id))
    docs = customers()
    assert big.upsert_many("customer", docs) == COUNT
    for start in range(0, COUNT, 100):
        small.upsert_many("customer", docs[start : start + 100])
    for code in RULES:
        assert big.segment(code).member_count == small.segment(code).member_count > 0
    assert feed(big) == feed(small)
    reopened = Segmentry(segmentry.database.url.render_as_string(hide_password=False))
    try:
        stored = reopened.shop(big.tenant_id)
        for n in (0, 7, COUNT - 1):
            assert (
                stored.get("customer", f"c{n}").attributes
                == small.get("customer", f"c{n}").attributes
            )
        assert stored.segment("tagged").member_count == small.segment("tagged").member_count
    finally:
        reopened.close()


REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_c777 BEFORE INSERT ON entities WHEN NEW.id = 'c777' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_c777() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.id = 'c777' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse_c777 BEFORE INSERT ON entities FOR EACH ROW "
        "EXECUTE FUNCTION refuse_c777()",
    ],
}
ALLOW = {
    "sqlite": ["DROP TRIGGER refuse_c777"],
    "postgresql": ["DROP TRIGGER refuse_c777 ON entities", "DROP FUNCTION refuse_c777()"],
}


def test_a_big_batch_whose_rows_fail_leaves_nothing(segmentry: Segmentry, shop: Shop) -> None:
    with_segments(shop)
    dialect = segmentry.database.dialect.name
    with segmentry.database.begin() as conn:
        for statement in REFUSE[dialect]:
            conn.exec_driver_sql(statement)
    try:
        with pytest.raises(Exception, match="refused"):
            shop.upsert_many("customer", customers())
    finally:
        with segmentry.database.begin() as conn:
            for statement in ALLOW[dialect]:
                conn.exec_driver_sql(statement)
    assert shop.entities("customer").items == []
    assert all(shop.segment(code).member_count == 0 for code in RULES)
    assert feed(shop) == set()
    assert shop.upsert_many("customer", customers()) == COUNT
    assert shop.segment("tagged").member_count == len([n for n in range(COUNT) if n % 7 == 0])
