"""Right after a bulk import, PostgreSQL finds entities by index, reading only the rows
it wants: its statistics are brought up to date (with those of the empty table, it read
every entity of the tenant to find one: 14 ms a lookup at 20,000), and ids are bound as
an array whose length the planner knows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from segmentry.engine.segmentry import Segmentry
from segmentry.model.schema import Kind
from segmentry.store import entities as entity_store
from segmentry.store.statistics import MIN_ROWS
from tests.store.statements import executed

pytestmark = pytest.mark.postgres
COUNT = 3 * MIN_ROWS


@pytest.fixture
def imported(pg_url: str) -> Iterator[tuple[Segmentry, int]]:
    """A Segmentry and a tenant whose COUNT customers were just imported in batches."""
    with Segmentry(pg_url) as segmentry:
        tenant_id = segmentry.create_tenant("bulk").tenant_id
        shop = segmentry.shop(tenant_id)
        for start in range(0, COUNT, 500):
            shop.upsert_many("customer", [{"id": f"c{n}"} for n in range(start, start + 500)])
        yield segmentry, tenant_id


def test_the_entity_tables_statistics_count_the_imported_rows(
    imported: tuple[Segmentry, int],
) -> None:
    segmentry, _ = imported
    with segmentry.database.connect() as conn:
        query = "SELECT reltuples FROM pg_class WHERE oid = 'entities'::regclass"
        assert conn.exec_driver_sql(query).scalar_one() >= COUNT


def test_a_lookup_by_id_reads_only_the_rows_it_wants(imported: tuple[Segmentry, int]) -> None:
    segmentry, tenant_id = imported

    def lookup(conn: Connection) -> None:
        found = entity_store.rows_by_ids(conn, tenant_id=tenant_id, kind=Kind.CUSTOMER, ids=["c7"])
        assert list(found) == ["c7"]

    assert _most_rows_read(segmentry, lookup) <= 10


def test_a_lookup_by_seq_reads_only_the_rows_it_wants(imported: tuple[Segmentry, int]) -> None:
    segmentry, tenant_id = imported

    def lookup(conn: Connection) -> None:
        seqs = range(1, 101)  # a page of members
        found = entity_store.ids_by_seqs(conn, tenant_id=tenant_id, kind=Kind.CUSTOMER, seqs=seqs)
        assert sorted(found) == list(seqs)

    assert _most_rows_read(segmentry, lookup) <= 100


def _most_rows_read(segmentry: Segmentry, run: Callable[[Connection], None]) -> int:
    """The most rows any node of the plan of the one statement ``run`` executes produced."""
    with segmentry.database.connect() as conn:
        ((sql, params),) = executed(conn, run)
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        ((plan,),) = cursor.fetchall()
    return _rows(plan[0]["Plan"])


def _rows(node: dict[str, Any]) -> int:
    return max([node["Actual Rows"], *(_rows(child) for child in node.get("Plans", []))])
