"""``Segmentry``: one database, a clock, and each tenant's state in memory.

``Segmentry`` opens the store, owns transactions and the time sweeper;
``Shop`` (see :mod:`segmentry.engine.shop`) is the tenant-scoped API built on
it. Every write runs in one database transaction that takes the tenant's
write lock, refreshes the tenant's in-memory state if another process changed
the tenant, applies the change and every membership it implies, and commits;
only then is the call acknowledged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.engine import state as state_module
from segmentry.engine import timeflow
from segmentry.engine.shop import Shop
from segmentry.engine.state import TenantState, View
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import ApiKey, Tenant
from segmentry.errors import AuthenticationError, NotFoundError, ValidationError
from segmentry.match.sql_dialects import register_sqlite_functions
from segmentry.model.temporal import EvalContext, from_micros, to_micros
from segmentry.model.values import check_text
from segmentry.store import migrate
from segmentry.store import tenants as tenant_store
from segmentry.store.database import (
    DEFAULT_URL,
    create_engine,
    open_failure,
    read_transaction,
    write_transaction,
)
from segmentry.store.statistics import TableStatistics
from segmentry.store.tenants import TenantRow

Clock = Callable[[], datetime]
log = logging.getLogger("segmentry")


def system_clock() -> datetime:
    return datetime.now(UTC)


class Segmentry:
    """Segmentation over one database (SQLite file or PostgreSQL).

    Owns the SQLAlchemy engine (``database``), the clock, the in-memory state of
    each tenant it has touched (reloaded when another process changed the tenant),
    a lock per tenant, the statistics counter of the store and the sweeper thread.
    """

    def __init__(self, url: str = DEFAULT_URL, *, clock: Clock = system_clock) -> None:
        self.url = url
        self.database = create_engine(url, sqlite_setup=register_sqlite_functions)
        self.statistics = TableStatistics(self.database)
        self.clock = clock
        try:
            migrate.upgrade(self.database)
        except sa.exc.OperationalError as exc:  # unreachable server, unwritable file
            self.database.dispose()
            raise open_failure(self.database, exc) from exc
        self._states: dict[int, TenantState] = {}
        self._locks: dict[int, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        self._scheduler: _Scheduler | None = None
        if self.database.dialect.name == "sqlite":
            self._ensure_default_tenant()

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, clock: Clock = system_clock) -> Segmentry:
        return cls(url, clock=clock)

    def close(self) -> None:
        self.stop_scheduler()
        self.database.dispose()

    def __enter__(self) -> Segmentry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must give timezone-aware date-times")
        return moment.astimezone(UTC)

    # -- tenants and keys --------------------------------------------------------------

    def _ensure_default_tenant(self) -> None:
        with write_transaction(self.database) as conn:
            if not tenant_store.tenant_ids(conn):
                tenant_store.insert_tenant(
                    conn, name="default", time_zone="UTC", now=to_micros(self.now())
                )

    def create_tenant(self, name: str, time_zone: str = "UTC") -> Tenant:
        name = check_text(name, field="tenant name", max_length=200).strip()
        _zone(time_zone)
        with write_transaction(self.database) as conn:
            tenant_id = tenant_store.insert_tenant(
                conn, name=name.strip(), time_zone=time_zone, now=to_micros(self.now())
            )
            row = tenant_store.get_tenant(conn, tenant_id=tenant_id)
        assert row is not None
        return _tenant(row)

    def tenants(self) -> list[Tenant]:
        with read_transaction(self.database) as conn:
            rows = [
                tenant_store.get_tenant(conn, tenant_id=t) for t in tenant_store.tenant_ids(conn)
            ]
        return [_tenant(r) for r in rows if r is not None]

    def tenant(self, tenant_id: int) -> Tenant:
        with read_transaction(self.database) as conn:
            return _tenant(self._tenant_row(conn, tenant_id))

    def issue_key(self, tenant_id: int, name: str = "") -> tuple[ApiKey, str]:
        """A new API key: the plain key is returned this once; only its hash is kept."""
        check_text(name, field="key name", max_length=200, required=False)
        with write_transaction(self.database) as conn:
            self._tenant_row(conn, tenant_id)
            now = to_micros(self.now())
            key_id, plain = tenant_store.insert_key(conn, tenant_id=tenant_id, name=name, now=now)
        return ApiKey(key_id, name, from_micros(now), None), plain

    def revoke_key(self, tenant_id: int, key_id: str) -> None:
        with write_transaction(self.database) as conn:
            if not tenant_store.revoke_key(
                conn, tenant_id=tenant_id, key_id=key_id, now=to_micros(self.now())
            ):
                raise NotFoundError(f"tenant {tenant_id} has no active key {key_id!r}")

    def keys(self, tenant_id: int) -> list[ApiKey]:
        with read_transaction(self.database) as conn:
            rows = tenant_store.list_keys(conn, tenant_id=tenant_id)
        return [
            ApiKey(
                r.key_id,
                r.name,
                from_micros(r.created_at),
                from_micros(r.revoked_at) if r.revoked_at else None,
            )
            for r in rows
        ]

    def authenticate(self, plain_key: str) -> tuple[int, str]:
        """``(tenant_id, key_id)`` of a valid key, or an AuthenticationError."""
        if not isinstance(plain_key, str) or not plain_key.isascii() or not plain_key.isprintable():
            raise AuthenticationError("missing, unknown or revoked API key")
        with read_transaction(self.database) as conn:
            found = tenant_store.tenant_for_key(conn, plain_key)
        if found is None:
            raise AuthenticationError("missing, unknown or revoked API key")
        return found

    def shop(self, tenant_id: int, *, key_id: str | None = None) -> Shop:
        return Shop(self, tenant_id, key_id=key_id)

    def default_shop(self) -> Shop:
        """The first tenant's shop: an embedded database starts with one."""
        tenants = self.tenants()
        if not tenants:
            raise NotFoundError("this database has no tenant yet")
        return self.shop(tenants[0].tenant_id)

    def _tenant_row(self, conn: Connection, tenant_id: int, lock: bool = False) -> TenantRow:
        row = tenant_store.get_tenant(conn, tenant_id=tenant_id, lock=lock)
        if row is None:
            raise NotFoundError(f"no tenant {tenant_id}")
        return row

    # -- transactions -------------------------------------------------------------------

    def _lock(self, tenant_id: int) -> threading.RLock:
        with self._locks_guard:
            return self._locks.setdefault(tenant_id, threading.RLock())

    def _state(self, conn: Connection, row: TenantRow) -> TenantState:
        cached = self._states.get(row.tenant_id)
        if cached is None or cached.revision != row.revision:
            cached = state_module.load(conn, row)
            self._states[row.tenant_id] = cached
        return cached

    @contextmanager
    def transaction(
        self, tenant_id: int, *, by_key: str | None = None, bump: bool = True
    ) -> Iterator[Transaction]:
        """A write transaction of one tenant; memberships are written before commit."""
        with self._lock(tenant_id):
            mutations = None
            try:
                with write_transaction(self.database) as conn:
                    row = self._tenant_row(conn, tenant_id, lock=True)
                    state = self._state(conn, row)
                    mutations = state.mutations
                    tx = Transaction(conn, state, row, self.now(), by_key)
                    yield tx
                    tx.flush(bump=bump)
            except BaseException:
                cached = self._states.get(tenant_id)
                if cached is not None and cached.mutations != mutations:
                    del self._states[tenant_id]  # changed in memory, not in the database
                raise
            state.revision = tx.revision
        self.statistics.inserted(tx.inserted_entities)  # after the commit, unlocked

    @contextmanager
    def view(self, tenant_id: int) -> Iterator[View]:
        """A consistent read of one tenant at the clock's current moment."""
        with self._lock(tenant_id), read_transaction(self.database) as conn:
            row = self._tenant_row(conn, tenant_id)
            state = self._state(conn, row)
            yield View(conn, state, EvalContext(self.now(), state.tz))

    # -- time ------------------------------------------------------------------------------

    def sweep(self, tenant_id: int | None = None) -> int:
        """Bring time-dependent segments to the clock's moment (all tenants if none is
        given); returns how many memberships changed. The scheduler calls this."""
        with read_transaction(self.database) as conn:
            ids = [tenant_id] if tenant_id is not None else tenant_store.tenant_ids(conn)
        total = 0
        for tid in ids:
            with self.transaction(tid, bump=False) as tx:
                total += timeflow.sweep(tx, tx.tenant.swept_at)
        return total

    def start_scheduler(self, interval: float = timeflow.SWEEP_INTERVAL) -> None:
        """Sweep in a background thread every ``interval`` seconds until stopped."""
        if self._scheduler is None:
            self._scheduler = _Scheduler(self, interval)
            self._scheduler.start()

    def stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None


class _Scheduler(threading.Thread):
    def __init__(self, segmentry: Segmentry, interval: float) -> None:
        super().__init__(name="segmentry-sweeper", daemon=True)
        self.segmentry = segmentry
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.segmentry.sweep()
            except Exception:  # a failed sweep is retried at the next tick; keep serving
                log.exception("time sweep failed")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Madrid", field="time_zone"
        ) from None


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(row.tenant_id, row.name, row.time_zone, from_micros(row.created_at))
