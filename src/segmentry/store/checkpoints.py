"""Moving an SQLite file's write-ahead log into the database, off the writers' path.

By default SQLite checkpoints inside the commit that takes the WAL past 1,000
pages: that write then also copies every page of the writes before it into the
database file and syncs it, which made one write in twenty or so several times
slower than the others (the tail of a single-entity write). Here each
connection's automatic checkpoint is set far higher, as a bound only, and a
thread of the process checkpoints instead (``PASSIVE``: it never waits for, nor
blocks, readers and writers) shortly after writes commit. Durability is the
commit's: the WAL is synced before a write is acknowledged, whichever way its
pages later reach the database file.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

BOUND_PAGES = 20_000
"""Each connection's own automatic checkpoint, should the thread fall behind: the
WAL stays under about 80 MB whatever happens."""
SETTLE_S = 0.2
"""After a commit wakes it, the thread waits this long for more commits, so one
checkpoint (one sync of the database file) covers the writes of that moment."""


class Checkpointer:
    """A thread checkpointing one SQLite file after commits, until :meth:`stop`. The
    thread starts at the first write (a process that only reads starts none)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.checkpoints = 0
        """Checkpoints run (the tests read it)."""
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def committed(self) -> None:
        """A write is committing: checkpoint soon."""
        if self._thread is None:
            with self._starting:
                if self._thread is None and not self._stopping:
                    self._thread = threading.Thread(
                        target=self._run, name="segmentry-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Checkpoint what is left and end the thread."""
        with self._starting:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping:
                self._wake.wait()
                if not self._stopping:
                    threading.Event().wait(SETTLE_S)
                self._wake.clear()
                self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # e.g. the file was removed: the next commit tries again
            return
        self.checkpoints += 1


_running: weakref.WeakKeyDictionary[Engine, Checkpointer] = weakref.WeakKeyDictionary()


def attach(engine: Engine, path: str) -> None:
    """Checkpoint the file ``path`` of ``engine`` in a thread after its write
    transactions (those begun ``IMMEDIATE``: reads commit too, and wake nothing)."""
    checkpointer = _running[engine] = Checkpointer(path)

    def committing(conn: Connection) -> None:
        if conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
            checkpointer.committed()

    sa.event.listen(engine, "commit", committing)


def of(engine: Engine) -> Checkpointer | None:
    return _running.get(engine)


def stop(engine: Engine) -> None:
    """End the engine's checkpointer, if it started (when the engine is disposed)."""
    found = _running.pop(engine, None)
    if found is not None:
        found.stop()
