"""Keeping PostgreSQL's statistics of the entity table current after bulk writes.

PostgreSQL plans every query by what its statistics say of a table. Right after a
bulk load they still describe the table as it was before, nearly empty, and the
planner then finds an entity by reading every entity of the tenant: with 20,000
customers just imported, looking one up took 14 ms and each imported batch paid the
same scan, until autovacuum's next ANALYZE (a minute later at the soonest, and only
once a tenth of the table changed). So the engine counts the entity rows it
inserts, and once they add up to a tenth of the rows PostgreSQL knows of (at least
:data:`MIN_ROWS`), it runs ``ANALYZE`` on the tables a write grows, after the commit.
At growing sizes that is a handful of ANALYZEs per tenfold growth.

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
        self._known: float | None = None  # rows PostgreSQL's statistics count
        self._grown = 0

    def inserted(self, rows: int) -> None:
        """``rows`` entity rows were inserted and committed."""
        if not self.enabled or rows <= 0:
            return
        with self._lock:
            self._grown += rows
            if self._known is None:
                self._known = self._reltuples()
            if self._grown < max(MIN_ROWS, self._known / 10):
                return
            try:
                self._analyze()
            except sa.exc.DBAPIError:  # the write is committed: say so, and plan as before
                log.warning("ANALYZE after a bulk write failed", exc_info=True)
                return
            self._grown, self._known = 0, self._reltuples()

    def _reltuples(self) -> float:
        query = sa.text("SELECT reltuples FROM pg_class WHERE oid = 'entities'::regclass")
        with self.engine.connect() as conn:
            return max(float(conn.execute(query).scalar_one()), 0.0)  # -1: never analysed

    def _analyze(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {', '.join(GROWN_TABLES)}")
