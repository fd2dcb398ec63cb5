"""``Segmentry``: one database, a clock, and each tenant's state in memory.

``Segmentry`` opens the store, owns transactions and the time sweeper;
``Shop`` (see :mod:`segmentry.engine.shop`) is the tenant-scoped API built on
it. Every write runs in one database transaction that takes the tenant's
write lock, refreshes the tenant's in-memory state if another process changed
the tenant, applies the change and every membership it implies, and commits;
only then is the call acknowledged.

Time is brought up to date before a process first reads or writes a tenant
(a sweep from the tenant's last one), so memberships that time ended while no
process was running are never served; after that the sweeper keeps them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from segmentry.engine import reads, timeflow
from segmentry.engine import state as state_module
from segmentry.engine.residency import Residency, default_budget
from segmentry.engine.shop import Shop
from segmentry.engine.state import TenantState, View
from segmentry.engine.tenant_calls import TenantCalls
from segmentry.engine.transaction import Transaction
from segmentry.engine.types import Member
from segmentry.errors import NotFoundError
from segmentry.match.sqlite_functions import register_sqlite_functions
from segmentry.model.temporal import EvalContext
from segmentry.store import migrate
from segmentry.store import tenants as tenant_store
from segmentry.store.database import (
    DEFAULT_URL,
    create_engine,
    dispose,
    open_failure,
    read_transaction,
    single_reads,
    write_transaction,
)
from segmentry.store.statistics import TableStatistics
from segmentry.store.tenants import TenantRow

Clock = Callable[[], datetime]
log = logging.getLogger("segmentry")


def system_clock() -> datetime:
    return datetime.now(UTC)


class Segmentry(TenantCalls):
    """Segmentation over one database (SQLite file or PostgreSQL).

    Owns the SQLAlchemy engine (``database``), the clock, the in-memory state of
    each tenant it has touched (reloaded when another process changed the tenant),
    a lock per tenant, the statistics counter of the store and the sweeper thread.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        clock: Clock = system_clock,
        memory_budget: int | None = None,
    ) -> None:
        self.url = url
        self.database = create_engine(url, sqlite_setup=register_sqlite_functions)
        self.statistics = TableStatistics(self.database)
        self.clock = clock
        try:
            migrate.upgrade(self.database)
        except sa.exc.OperationalError as exc:  # unreachable server, unwritable file
            dispose(self.database)
            raise open_failure(self.database, exc) from exc
        self.residency = Residency(memory_budget or default_budget())
        """The tenants' states kept in memory, within the memory budget in bytes."""
        self._locks: dict[int, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        self._scheduler: _Scheduler | None = None
        self._proven: dict[str, tuple[int, str]] = {}
        """Plain key → (tenant, key id) of keys whose secret matched its hash here."""
        self._current: set[int] = set()
        """Tenants whose time this process has brought up to date (then the sweeper
        keeps it)."""
        if self.database.dialect.name == "sqlite":
            self._ensure_default_tenant()

    @classmethod
    def open(
        cls,
        url: str = DEFAULT_URL,
        *,
        clock: Clock = system_clock,
        memory_budget: int | None = None,
    ) -> Segmentry:
        return cls(url, clock=clock, memory_budget=memory_budget)

    def close(self) -> None:
        self.stop_scheduler()
        dispose(self.database)

    def __enter__(self) -> Segmentry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must give timezone-aware date-times")
        return moment.astimezone(UTC)

    def shop(
        self, tenant_id: int, *, key_id: str | None = None, revision: int | None = None
    ) -> Shop:
        """A tenant's shop; ``revision`` is the tenant's revision if the caller just
        read it (with the key), which spares the member check reading it again."""
        return Shop(self, tenant_id, key_id=key_id, revision=revision)

    def default_shop(self) -> Shop:
        """The first tenant's shop: an embedded database starts with one."""
        tenants = self.tenants()
        if not tenants:
            raise NotFoundError("this database has no tenant yet")
        return self.shop(tenants[0].tenant_id)

    # -- transactions -------------------------------------------------------------------

    def _lock(self, tenant_id: int) -> threading.RLock:
        with self._locks_guard:
            return self._locks.setdefault(tenant_id, threading.RLock())

    def _state(self, conn: Connection, row: TenantRow) -> TenantState:
        cached = self.residency.get(row.tenant_id)
        if cached is None or cached.revision != row.revision:
            cached = state_module.load(conn, row)
            for dropped in self.residency.put(row.tenant_id, cached):
                self._current.discard(dropped)  # swept again before it is next served
        return cached

    def _bring_up_to_date(self, tenant_id: int) -> None:
        """Sweep a tenant from its last sweep before this process first serves it:
        time that passed while no process ran (or while this one was not yet serving
        the tenant) may have ended memberships nobody has removed yet."""
        if tenant_id in self._current:
            return
        with self._lock(tenant_id):
            if tenant_id not in self._current:
                self._sweep_tenant(tenant_id)

    @contextmanager
    def transaction(
        self, tenant_id: int, *, by_key: str | None = None, bump: bool = True
    ) -> Iterator[Transaction]:
        """A write transaction of one tenant; memberships are written before commit."""
        self._bring_up_to_date(tenant_id)
        with self._write(tenant_id, by_key=by_key, bump=bump) as tx:
            yield tx

    @contextmanager
    def _write(
        self, tenant_id: int, *, by_key: str | None = None, bump: bool = True
    ) -> Iterator[Transaction]:
        with self._lock(tenant_id), self.residency.pinned(tenant_id):
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
                cached = self.residency.get(tenant_id)
                if cached is not None and cached.mutations != mutations:
                    self.residency.discard(tenant_id)  # changed in memory, not in the database
                raise
            state.revision = tx.revision
            state.logged = tx.counters["member_log_rows"]
            state.committed = state.mutations
        self.statistics.inserted(tx.inserted_entities)  # after the commit, unlocked

    @contextmanager
    def view(self, tenant_id: int) -> Iterator[View]:
        """A consistent read of one tenant at the clock's current moment."""
        self._bring_up_to_date(tenant_id)
        with (
            self._lock(tenant_id),
            self.residency.pinned(tenant_id),
            read_transaction(self.database) as conn,
        ):
            row = self._tenant_row(conn, tenant_id)
            state = self._state(conn, row)
            yield View(conn, state, EvalContext(self.now(), state.tz))

    def member(
        self, tenant_id: int, code: str, entity_id: str, *, revision: int | None = None
    ) -> Member | None:
        """One entity's kept membership of a segment (``None``: not a member).

        Answered without the tenant's lock and without a transaction when the state
        this process keeps is current: the tenant's revision (``revision`` if the
        caller read it with the key, else read here) is the state's, and no write of
        this process is half-way through it. The answer is then the truth as of that
        revision. Otherwise, a consistent read under the lock, as every other read.
        """
        found = self.kept_member(tenant_id, code, entity_id, revision=revision)
        if found is not reads.Kept.STALE:
            return found
        with self.view(tenant_id) as view:
            return reads.member_since(view.conn, view.state, code, entity_id)

    def kept_member(
        self, tenant_id: int, code: str, entity_id: str, *, revision: int | None = None
    ) -> Member | reads.Kept | None:
        """:meth:`member` from the kept state alone: it never waits for the tenant's
        lock nor loads a state, and says ``Kept.STALE`` when it cannot answer."""
        state = self.residency.get(tenant_id)
        if state is None or tenant_id not in self._current:
            return reads.Kept.STALE
        with single_reads(self.database) as conn:
            if revision is None:
                revision = tenant_store.revision(conn, tenant_id=tenant_id)
            if revision != state.revision:
                return reads.Kept.STALE
            return reads.kept_member(conn, state, code, entity_id)

    @property
    def reads_are_local(self) -> bool:
        """Whether an indexed read is a read of a local file (SQLite), cheaper than
        handing the work to another thread, rather than a round trip to a server."""
        return self.database.dialect.name == "sqlite"

    # -- time ------------------------------------------------------------------------------

    def sweep(self, tenant_id: int | None = None) -> int:
        """Bring time-dependent segments to the clock's moment (all tenants if none is
        given); returns how many memberships changed."""
        with read_transaction(self.database) as conn:
            ids = [tenant_id] if tenant_id is not None else tenant_store.tenant_ids(conn)
        return sum(self._sweep_tenant(tid) for tid in ids)

    def sweep_served(self) -> int:
        """:meth:`sweep` the tenants this process serves (their states are in memory);
        the scheduler calls this. Any other tenant is swept before it is next served, so
        the sweeper does not load every tenant of the database each time."""
        return sum(self._sweep_tenant(tid) for tid in list(self._current))

    def _sweep_tenant(self, tenant_id: int) -> int:
        with self._write(tenant_id, bump=False) as tx:
            changed = timeflow.sweep(tx, tx.tenant.swept_at)
        self._current.add(tenant_id)
        return changed

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
                self.segmentry.sweep_served()
            except Exception:  # a failed sweep is retried at the next tick; keep serving
                log.exception("time sweep failed")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
