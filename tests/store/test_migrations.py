"""The migrations build exactly the schema ``tables.py`` declares, on both back ends.

Each test starts from an EMPTY database (a zero-byte SQLite file, or a
PostgreSQL database created here and dropped afterwards), runs
``migrate.upgrade`` and checks: the revision is head, a second run is a no-op,
and Alembic's autogenerate comparison finds nothing between the migrated
database and the metadata.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine

from segmentry.store import migrate, tables
from segmentry.store.database import create_engine
from tests.conftest import IN_CI, PG_ADMIN_URL

DDL_OR_WRITE = ("create", "alter", "drop", "insert", "update", "delete")
JSON_COLUMNS = {
    ("attributes", "enum_values"),
    ("entities", "doc"),
    ("entities", "record"),
    ("segments", "rule"),
    ("segment_versions", "definition"),
    ("imports", "applied_lines"),
    ("imports", "errors"),
    ("idempotency_keys", "answer"),
    ("orders", "attributes"),
    ("orders", "record"),
}


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    path = tmp_path / "empty.db"
    path.touch()  # a zero-byte file is an empty SQLite database
    return f"sqlite:///{path}"


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database (the session's ``pg_url`` is already migrated
    by other tests, so this creates its own), dropped afterwards."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"segmentry_migrations_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database \"{name}\" encoding 'UTF8' template template0"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    fixture = "empty_sqlite_url" if request.param == "sqlite" else "empty_pg_url"
    engine = create_engine(request.getfixturevalue(fixture))
    yield engine
    engine.dispose()


def _user_tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def _differences(engine: Engine, **opts: Any) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, tables.metadata))


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Everything reflection sees of the schema, to compare before and after a no-op."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {
            name: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                inspector.get_pk_constraint(name)["constrained_columns"],
                sorted(str(u["column_names"]) for u in inspector.get_unique_constraints(name)),
                sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
            )
            for name in sorted(inspector.get_table_names())
        }


def test_upgrade_builds_the_declared_schema_on_an_empty_database(empty_engine: Engine) -> None:
    assert _user_tables(empty_engine) == set()
    with empty_engine.connect() as conn:
        assert migrate.current(conn) is None

    migrate.upgrade(empty_engine)

    with empty_engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
        versions = conn.execute(sa.text("select version_num from alembic_version")).all()
    assert [v for (v,) in versions] == [migrate.head()]
    assert _user_tables(empty_engine) == set(tables.metadata.tables)

    # compare_type is on by default in this Alembic; nothing may differ: columns, types,
    # nullability, primary keys, unique constraints and indexes (names included).
    assert _differences(empty_engine) == []


def test_postgresql_schema_also_matches_server_defaults_and_uses_jsonb(
    empty_pg_url: str,
) -> None:
    engine = create_engine(empty_pg_url)
    try:
        migrate.upgrade(engine)
        # On PostgreSQL Alembic compares server defaults reliably, so ask for that too.
        # (Not on SQLite: Alembic reports a false difference there for the empty-string
        # default of segments.description, '' vs "''"; checked by hand below instead.)
        assert _differences(engine, compare_server_default=True) == []
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for table, column in JSON_COLUMNS:
                (found,) = [c for c in inspector.get_columns(table) if c["name"] == column]
                assert isinstance(found["type"], JSONB), (table, column, found["type"])
    finally:
        engine.dispose()


def test_sqlite_server_defaults_are_the_declared_ones(empty_sqlite_url: str) -> None:
    engine = create_engine(empty_sqlite_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            defaults = {
                (table, c["name"]): c["default"]
                for table in ("tenants", "segments")
                for c in inspector.get_columns(table)
                if c["default"] is not None
            }
    finally:
        engine.dispose()
    assert defaults == {
        ("tenants", "time_zone"): "'UTC'",
        ("tenants", "revision"): "'0'",
        ("tenants", "next_event_id"): "'1'",
        ("tenants", "next_seg_id"): "'1'",
        ("tenants", "swept_at"): "'0'",
        ("tenants", "next_product_seq"): "'1'",
        ("tenants", "next_customer_seq"): "'1'",
        ("tenants", "member_log_rows"): "'0'",
        ("segments", "description"): "''",
    }


def test_upgrading_again_is_a_no_op(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(
            tables.tenants.insert().values(tenant_id=7, name="kept", time_zone="UTC", created_at=1)
        )
    before = _snapshot(empty_engine)

    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    sa.event.listen(empty_engine, "before_cursor_execute", record)
    try:
        migrate.upgrade(empty_engine)
        migrate.upgrade(empty_engine)
    finally:
        sa.event.remove(empty_engine, "before_cursor_execute", record)

    writes = [s for s in statements if s.lstrip().lower().startswith(DDL_OR_WRITE)]
    assert writes == []
    assert _snapshot(empty_engine) == before
    with empty_engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
        assert conn.execute(sa.select(tables.tenants.c.name)).scalars().all() == ["kept"]


def test_seq_counters_are_filled_from_the_entities_already_stored(empty_engine: Engine) -> None:
    """0006 moves the next seq of each kind onto the tenant row: a database written
    before it must go on numbering after its highest seq, per tenant and kind."""
    with empty_engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0004")
        for tenant_id in (1, 2, 3):
            conn.execute(
                sa.text(
                    "insert into tenants (tenant_id, name, time_zone, created_at) "
                    "values (:t, 'shop', 'UTC', 1)"
                ),
                {"t": tenant_id},
            )
        stored = [(1, "product", 1), (1, "product", 7), (1, "customer", 3), (2, "customer", 41)]
        for tenant_id, kind, seq in stored:
            conn.execute(
                sa.text(
                    "insert into entities (tenant_id, kind, seq, id, created_at, updated_at, "
                    "revision) values (:t, :k, :s, :i, 1, 1, 1)"
                ),
                {"t": tenant_id, "k": kind, "s": seq, "i": f"{kind}-{seq}"},
            )
    migrate.upgrade(empty_engine)
    query = sa.select(
        tables.tenants.c.tenant_id,
        tables.tenants.c.next_product_seq,
        tables.tenants.c.next_customer_seq,
    ).order_by(tables.tenants.c.tenant_id)
    with empty_engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(query)] == [(1, 8, 4), (2, 1, 42), (3, 1, 1)]


def test_downgrade_to_base_and_back(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "base")
    assert _user_tables(empty_engine) == set()
    with empty_engine.connect() as conn:
        assert migrate.current(conn) is None
    migrate.upgrade(empty_engine)
    assert _differences(empty_engine) == []


def test_sqlite_connections_are_durable_wal_with_foreign_keys(empty_sqlite_url: str) -> None:
    engine = create_engine(empty_sqlite_url)
    try:
        migrate.upgrade(engine)
        for _ in range(2):  # every new connection (NullPool), not only the first
            with engine.connect() as conn:
                pragma = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys")
                }
                assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
    finally:
        engine.dispose()
    # WAL is persistent in the file: a plain connection sees it too.
    import sqlite3

    plain = sqlite3.connect(sa.make_url(empty_sqlite_url).database or "")
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        plain.close()


def test_order_records_are_filled_from_the_orders_already_stored(empty_engine: Engine) -> None:
    """0008 gives every order its evaluation record: an order stored before it gains the
    record its write would store now, with its tenant's custom order attributes."""
    at = 1_709_287_200_000_000  # 2024-03-01T10:00:00Z
    with empty_engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0007")
        for tenant_id in (1, 2):
            conn.execute(
                sa.text(
                    "insert into tenants (tenant_id, name, time_zone, created_at) "
                    "values (:t, 'shop', 'UTC', 1)"
                ),
                {"t": tenant_id},
            )
        for position, (key, type_) in enumerate((("gift", "boolean"), ("note", "string"))):
            conn.execute(
                tables.attributes.insert().values(
                    tenant_id=1,
                    kind="order",
                    key=key,
                    label=key,
                    type=type_,
                    enum_values=[],
                    position=position,
                    created_at=1,
                )
            )
        stored = [
            (1, 1, "o-1", "Ann", "placed", "App", 12_340_000, {"gift": True, "note": "Hi"}),
            (1, 2, "o-2", None, "cancelled", None, 5_000_000, {}),
            (2, 1, "o-1", "Bob", "refunded", "web", 7_000_000, {}),
        ]
        for tenant_id, seq, order_id, customer, status, channel, total, attrs in stored:
            conn.execute(
                sa.text(
                    "insert into orders (tenant_id, seq, id, customer_id, placed_at, status, "
                    "channel, total_micros, line_count, attributes, created_at, updated_at) "
                    "values (:t, :s, :i, :c, :p, :st, :ch, :tot, 1, :a, 1, 1)"
                ).bindparams(sa.bindparam("a", type_=tables.Json)),
                {
                    "t": tenant_id,
                    "s": seq,
                    "i": order_id,
                    "c": customer,
                    "p": at + seq,
                    "st": status,
                    "ch": channel,
                    "tot": total,
                    "a": attrs,
                },
            )
    migrate.upgrade(empty_engine)
    query = sa.select(tables.orders.c.tenant_id, tables.orders.c.seq, tables.orders.c.record)
    with empty_engine.connect() as conn:
        found = {(r.tenant_id, r.seq): r.record for r in conn.execute(query)}
    assert found == {
        (1, 1): {"id": "o-1", "customer_id": "ann", "placed_at": at + 1, "status": "placed",
                 "channel": "app", "total": 12.34, "gift": True, "note": "hi"},
        (1, 2): {"id": "o-2", "placed_at": at + 2, "status": "cancelled", "total": 5},
        (2, 1): {"id": "o-1", "customer_id": "bob", "placed_at": at + 1, "status": "refunded",
                 "channel": "web", "total": 7},
    }  # fmt: skip


def test_downgrading_the_member_log_folds_it_first(empty_engine: Engine) -> None:
    """0010's downgrade moves the member log's rows (single writes' memberships, events
    and history points) into the tables that held them before, losing none."""
    from datetime import timedelta

    from segmentry.engine.segmentry import Segmentry
    from segmentry.engine.types import SegmentSpec
    from tests.engine.conftest import ManualClock

    clock = ManualClock()
    url = empty_engine.url.render_as_string(hide_password=False)
    segmentry = Segmentry(url, clock=clock)
    try:
        shop = segmentry.shop(segmentry.create_tenant("shop").tenant_id)
        spec = SegmentSpec(kind="customer", code="big", name="Big", rule="lifetime_value > 100")
        shop.create_segment(spec)
        for n, value in enumerate((500, 600, 20)):
            clock.advance(timedelta(minutes=1))
            shop.upsert("customer", f"c{n}", {"lifetime_value": value})
        before = [(m.id, m.since) for m in shop.members("big").items]
        feed, history = shop.events().items, shop.history("big")
    finally:
        segmentry.close()
    with empty_engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.member_log)).scalar()
        command.downgrade(migrate.alembic_config(conn), "0009")
    with empty_engine.connect() as conn:
        assert "member_log" not in sa.inspect(conn).get_table_names()
        blocks = conn.execute(sa.text("select count(*) from event_blocks")).scalar()
        points = conn.execute(sa.text("select count(*) from segment_history")).scalar()
    assert (blocks, points) == (len(feed), len(history))
    again = Segmentry(url, clock=clock)  # upgrades to head again, the log empty
    try:
        shop = again.shop(shop.tenant_id)
        assert [(m.id, m.since) for m in shop.members("big").items] == before
        assert (shop.events().items, shop.history("big")) == (feed, history)
    finally:
        again.close()
