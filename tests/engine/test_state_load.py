"""A tenant's state loaded from the database holds every stored record exactly."""

from __future__ import annotations

from typing import Any

from segmentry.engine import state as state_module
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.match.columnar import ColumnarTable
from segmentry.match.columnar_load import put_chunks, put_json
from segmentry.match.columns import ListColumn
from segmentry.model.schema import Kind
from segmentry.store import entities as entity_store
from segmentry.store import tenants as tenant_store
from segmentry.store.database import read_transaction
from segmentry.synthetic import generate, vocabulary


def _same(loaded: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Equal records: list items in any order, numbers to the last bit."""
    expected = {k: tuple(sorted(v)) if isinstance(v, list) else v for k, v in stored.items()}
    return loaded == expected


def test_the_loaded_snapshot_holds_every_stored_record(segmentry: Segmentry, shop: Shop) -> None:
    shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
    docs = list(generate.customers(1_500, seed=3).documents())
    shop.upsert_many("customer", docs)
    shop.delete("customer", docs[10]["id"])  # a tombstone leaves its row empty
    with read_transaction(segmentry.database) as conn:
        row = tenant_store.get_tenant(conn, tenant_id=shop.tenant_id)
        assert row is not None
        state = state_module.load(conn, row)
        stored = list(entity_store.scan(conn, tenant_id=shop.tenant_id, kind=Kind.CUSTOMER))
    table = state.tables[Kind.CUSTOMER]
    assert len(stored) == 1_499
    assert int(table.alive.sum()) == 1_499
    for entity in stored:
        assert entity.record is not None
        expected = {k: list(v) if isinstance(v, tuple) else v for k, v in entity.record.items()}
        assert _same(table.record(entity.seq), expected), entity.id
    assert set(table.live_rows()) == {e.seq for e in stored}


def test_a_snapshot_loaded_in_many_chunks_equals_one_put_a_row_at_a_time(
    segmentry: Segmentry, shop: Shop
) -> None:
    """Later chunks code their text against the values earlier chunks coded."""
    shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
    shop.upsert_many("customer", list(generate.customers(1_200, seed=5).documents()))
    schema = shop.attributes_schema("customer")
    by_chunks, by_rows = ColumnarTable(schema), ColumnarTable(schema)
    with read_transaction(segmentry.database) as conn:
        scope = {"tenant_id": shop.tenant_id, "kind": Kind.CUSTOMER}
        last = entity_store.max_seq(conn, **scope)
        chunks = list(entity_store.records(conn, **scope, up_to=last, chunk=250))
        for entity in entity_store.scan(conn, **scope):
            by_rows.put(entity.seq, entity.record)
    assert len(chunks) >= 4
    for lines in chunks[:2]:  # a chunk at a time, coding text against the earlier ones
        put_json(by_chunks, lines, entity_store.SEQ_KEY)
    put_chunks(by_chunks, chunks[2:], entity_store.SEQ_KEY)  # the rest coded at once
    assert set(by_chunks.live_rows()) == set(by_rows.live_rows())
    for seq in by_rows.live_rows():
        assert by_chunks.record(seq) == by_rows.record(seq), seq
    for key, column in by_rows.columns.items():  # count(list) reads the item counts
        if isinstance(column, ListColumn):
            loaded = by_chunks.columns[key]
            assert isinstance(loaded, ListColumn)
            assert (loaded.counts == column.counts).all(), key
            assert loaded.present == column.present, key


def test_a_rule_on_a_lists_count_holds_in_a_process_that_loaded_the_tenant(
    database_url: str, shop: Shop
) -> None:
    tags = {"c0": [], "c1": ["a"], "c2": ["a", "b"], "c3": ["a", "b", "c"]}
    shop.upsert_many("customer", [{"id": c, "tags": t} for c, t in tags.items()])
    with Segmentry(database_url) as other:  # a fresh process: its state is loaded
        found = other.shop(shop.tenant_id).preview("customer", "count(tags) >= 2", limit=10)
    assert found.count == 2
    assert set(found.sample) == {"c2", "c3"}
