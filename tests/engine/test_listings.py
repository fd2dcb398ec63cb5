"""Listings with a rule, from the columnar snapshot, against the SQL evaluator's listing.

A listing with a rule is answered from the columnar snapshot (``list_entities``);
the same page with the rule compiled to SQL and paged by the database
(``list_entities_sql``) is the oracle. On generated shops (every attribute type,
missing values, Unicode, ``IN SEGMENT`` over fixed segments) both page through
the same rule with their own cursors while entities are written, patched and
deleted and fixed segments edited between pages: every page and every cursor
must be the same. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.engine import listings
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Entity, Page, SegmentSpec, SegmentType
from segmentry.errors import SegmentryError
from segmentry.model.schema import SEGMENTED_KINDS, Kind
from segmentry.rules.load import RuleSource
from segmentry.rules.printer import format_rule
from tests.conftest import examples
from tests.engine.conftest import ManualClock
from tests.rules.strategies import (
    SCHEMAS,
    SEGMENT_CODES,
    entity_values,
    raw_values,
    typed_rules,
    writable,
)

IDS = [f"e{i}" for i in range(14)]
PAGES = 8


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def listed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Segmentry]:
    """One Segmentry per back end; every example makes its own tenant."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('listings') / 'shop.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    clock = ManualClock(datetime(2025, 3, 29, 12, 0, tzinfo=UTC))
    with Segmentry(url, clock=clock) as opened:
        yield opened


def _shop(segmentry: Segmentry, data: st.DataObject, kind: Kind) -> Shop:
    tenant = segmentry.create_tenant("listings", "Europe/Madrid")
    shop = segmentry.shop(tenant.tenant_id)
    for attribute in SCHEMAS[kind].custom:
        shop.declare_attribute(kind, attribute.key, attribute.type, values=attribute.values)
    chosen = sorted(data.draw(st.sets(st.sampled_from(IDS), min_size=1)), key=IDS.index)
    shop.upsert_many(kind, [{"id": i, **data.draw(entity_values(SCHEMAS[kind]))} for i in chosen])
    for code in SEGMENT_CODES:  # what IN SEGMENT in a drawn rule refers to
        members = data.draw(st.lists(st.sampled_from(chosen), unique=True))
        spec = SegmentSpec(kind, code, code, type=SegmentType.FIXED, members=members)
        shop.create_segment(spec)
    return shop


def _write(shop: Shop, data: st.DataObject, kind: Kind) -> None:
    """One change between two pages: any entity of the pool, or a fixed segment."""
    what = data.draw(st.sampled_from(["upsert", "patch", "delete", "members", "nothing"]))
    entity_id = data.draw(st.sampled_from(IDS))
    alive = {e.id for e in _everything(shop, kind)}
    if what == "upsert" or (what in ("patch", "delete") and entity_id not in alive):
        shop.upsert(kind, entity_id, data.draw(entity_values(SCHEMAS[kind])))
    elif what == "patch":
        keys = data.draw(st.lists(st.sampled_from(writable(SCHEMAS[kind])), max_size=3))
        shop.patch(
            kind, entity_id, {a.key: data.draw(st.one_of(st.none(), raw_values(a))) for a in keys}
        )
    elif what == "delete":
        shop.delete(kind, entity_id)
    elif what == "members" and alive:
        code = data.draw(st.sampled_from(SEGMENT_CODES))
        picked = data.draw(st.sampled_from(sorted(alive)))
        if data.draw(st.booleans()):
            shop.edit_members(code, add=[picked])
        else:
            shop.edit_members(code, remove=[picked])


def _everything(shop: Shop, kind: Kind) -> list[Entity]:
    return shop.entities(kind, limit=1_000).items


def _page(
    shop: Shop, kind: Kind, rule: RuleSource, limit: int, cursor: str | None, *, sql: bool
) -> Page[Entity] | str:
    """A page, or the error's type and message (both ways must refuse alike)."""
    listing = listings.list_entities_sql if sql else listings.list_entities
    try:
        with shop.segmentry.view(shop.tenant_id) as view:
            return listing(view, kind, rule, limit, cursor)
    except SegmentryError as error:
        return f"{type(error).__name__}: {error}"


def _shape(page: Page[Entity] | str) -> Any:
    if isinstance(page, str):
        return page
    return [(e.id, e.attributes) for e in page.items], page.next_cursor


@settings(max_examples=examples(200, 25), deadline=None)
@given(data=st.data(), kind=st.sampled_from(list(SEGMENTED_KINDS)))
def test_listing_pages_equal_the_sql_listing_with_writes_between_pages(
    listed: Segmentry, data: st.DataObject, kind: Kind
) -> None:
    shop = _shop(listed, data, kind)
    rule = format_rule(data.draw(typed_rules(SCHEMAS[kind])))
    limit = data.draw(st.integers(1, 4))
    columnar_cursor: str | None = None
    sql_cursor: str | None = None
    for _ in range(PAGES):
        columnar = _page(shop, kind, rule, limit, columnar_cursor, sql=False)
        sql = _page(shop, kind, rule, limit, sql_cursor, sql=True)
        assert _shape(columnar) == _shape(sql), rule
        if isinstance(columnar, str) or isinstance(sql, str) or columnar.next_cursor is None:
            return
        columnar_cursor, sql_cursor = columnar.next_cursor, sql.next_cursor
        _write(shop, data, kind)


def test_a_listing_pages_in_seq_order_past_deleted_and_rewritten_entities(
    tmp_path: Path,
) -> None:
    """A cursor is the last seq handed out: an entity deleted before it is never
    shown again, one written again keeps its place, a new one comes at the end."""
    with Segmentry(f"sqlite:///{tmp_path / 'shop.db'}") as segmentry:
        shop = segmentry.shop(segmentry.create_tenant("t").tenant_id)
        shop.upsert_many("product", [{"id": f"p{i}", "price": i} for i in range(1, 7)])
        first = shop.entities("product", "price > 1", limit=2)
        assert [e.id for e in first.items] == ["p2", "p3"]
        shop.delete("product", "p4")
        shop.upsert("product", "p2", {"price": 0})
        shop.upsert("product", "p9", {"price": 9})
        second = shop.entities("product", "price > 1", limit=2, cursor=first.next_cursor)
        assert [e.id for e in second.items] == ["p5", "p6"]
        third = shop.entities("product", "price > 1", limit=2, cursor=second.next_cursor)
        assert [e.id for e in third.items] == ["p9"]
        assert third.next_cursor is None
        assert shop.entities("product", "price > 1", cursor="999999999999999999").items == []
