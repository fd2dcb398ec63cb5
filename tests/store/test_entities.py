"""Entity rows are found by index, not by testing every entity of the tenant: a write
looks its ids up first, and a scan made every single write cost time in proportion to
the shop's size (14 ms a write at 20,000 customers, when SQLAlchemy wrote the lookup
as ``(id IN …) = 1``, which SQLite cannot search an index with)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from segmentry.engine.segmentry import Segmentry
from segmentry.model.schema import Kind
from segmentry.store import entities as entity_store
from tests.store.statements import executed


@pytest.fixture
def segmentry(tmp_path: Path) -> Iterator[Segmentry]:
    with Segmentry(f"sqlite:///{tmp_path / 'shop.db'}") as opened:
        opened.default_shop().upsert_many("customer", [{"id": f"c{n}"} for n in range(50)])
        yield opened


def _plans(segmentry: Segmentry, run: Callable[[Connection], object]) -> list[str]:
    """The query plan of every SELECT ``run`` executes, each as one line."""
    with segmentry.database.connect() as conn:
        selects = [
            (sql, params)
            for sql, params in executed(conn, run)
            if sql.lstrip().upper().startswith("SELECT")
        ]
        raw = conn.connection.dbapi_connection
        assert raw is not None
        return [
            " / ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in selects
        ]


def test_entities_are_looked_up_by_id_through_the_index(segmentry: Segmentry) -> None:
    def lookup(conn: Connection) -> None:
        found = entity_store.rows_by_ids(conn, tenant_id=1, kind=Kind.CUSTOMER, ids=["c3", "c7"])
        assert sorted(found) == ["c3", "c7"]

    (plan,) = _plans(segmentry, lookup)
    assert "SEARCH entities USING INDEX" in plan, plan
    assert "kind=? AND id=?" in plan, plan
    assert "SCAN entities" not in plan, plan


def test_a_set_of_seqs_is_looked_up_through_the_primary_key(segmentry: Segmentry) -> None:
    def select(conn: Connection) -> None:
        table = entity_store.entities
        clause = entity_store.seq_in(BitMap([2, 5]), "sqlite")
        query = sa.select(table.c.seq).where(
            table.c.tenant_id == 1, table.c.kind == Kind.CUSTOMER.value, clause
        )
        assert sorted(conn.execute(query).scalars()) == [2, 5]

    (plan,) = _plans(segmentry, select)
    assert "SEARCH entities USING" in plan, plan
    assert "kind=? AND seq=?" in plan, plan
    assert "SCAN entities" not in plan, plan


def test_a_listings_page_is_read_by_seq_through_the_primary_key(segmentry: Segmentry) -> None:
    """A listing with a rule finds its page in the columnar snapshot and reads only
    those documents: by seq, whatever the shop's size."""

    def page(conn: Connection) -> None:
        found = entity_store.docs_by_seqs(conn, tenant_id=1, kind=Kind.CUSTOMER, seqs=[3, 9])
        assert {seq: entity_id for seq, (entity_id, _) in found.items()} == {3: "c2", 9: "c8"}

    (plan,) = _plans(segmentry, page)
    assert "SEARCH entities USING" in plan, plan
    assert "kind=? AND seq=?" in plan, plan
    assert "SCAN entities" not in plan, plan
