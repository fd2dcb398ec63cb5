"""Keeping PostgreSQL's statistics of the entity table current after bulk writes.

PostgreSQL plans every query by what its statistics say of a table. Right after a
bulk load they still describe the table as it was before, nearly empty, and the
planner then finds an entity by reading every entity of the tenant, and each
imported batch pays the same scan, until autovacuum's next ANALYZE (a minute later
at the soonest, and only once a tenth of the table changed). So the engine counts
the entity rows it inserts, and once they add up to a tenth of the rows PostgreSQL's
statistics counted at its last ``ANALYZE`` (and at least :data:`MIN_ROWS`: a
process's first comes after that many), it runs ``ANALYZE`` on the tables a write
grows, after the commit and outside the tenant's lock. At growing sizes that is a
few dozen per tenfold growth; while one thread analyses, the others go on writing. A
failed ``ANALYZE`` is logged and tried again after as many rows more: the write it
follows is committed.

SQLite plans without statistics unless asked to gather them, so this does nothing
there.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger("segmentry")

MIN_ROWS = 1_000
GROWN_TABLES = ("entities", "member_chunks", "event_blocks")


class TableStatistics:
    """Counts inserted entity rows and re-analyses the tables when they add up."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._known = 0.0  # rows PostgreSQL's statistics count, as of the last ANALYZE here
        self._grown = 0
        self._busy = False  # one thread analyses; the others go on writing

    def inserted(self, rows: int) -> None:
        """``rows`` entity rows were inserted and committed."""
        if not self.enabled or rows <= 0:
            return
        with self._lock:
            self._grown += rows
            due = not self._busy and self._grown >= max(MIN_ROWS, self._known / 10)
            if due:
                self._busy, self._grown = True, 0
        if due:
            try:
                self._analyze()
            finally:
                with self._lock:
                    self._busy = False

    def _analyze(self) -> None:
        query = "SELECT reltuples FROM pg_class WHERE oid = 'entities'::regclass"
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f"ANALYZE {', '.join(GROWN_TABLES)}")
                known = float(conn.exec_driver_sql(query).scalar_one())
        except sa.exc.DBAPIError:  # the write is committed: say so; try again a tenth later
            log.warning("ANALYZE after a bulk write failed", exc_info=True)
            return
        with self._lock:
            self._known = max(known, 0.0)
