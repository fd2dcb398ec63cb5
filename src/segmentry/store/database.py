"""Opening a database: SQLite (the embedded default) or PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` (nothing acknowledged is
lost on a crash), checkpointed by a thread rather than inside a write's commit
(``store.checkpoints``), and foreign keys on; write transactions start with ``BEGIN
IMMEDIATE`` so two writers queue for the lock instead of deadlocking when
both try to upgrade a read lock. PostgreSQL is reached through psycopg 3.
Either way the schema is brought to the newest migration on open.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from segmentry.errors import DatabaseError
from segmentry.store import checkpoints

DEFAULT_URL = "sqlite:///segmentry.db"


def normalise_url(url: str) -> sa.URL:
    """``postgresql://`` and ``postgres://`` mean psycopg 3; SQLite stays as it is."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise DatabaseError(
            f"not a database URL: {url!r}; use sqlite:///path/to/shop.db or postgresql://host/db"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://"
        )
    return parsed


def open_failure(engine: Engine, exc: sa.exc.OperationalError) -> DatabaseError:
    """Why a database could not be opened, on one line and without its password: the
    command line and the server show this to people, who need the reason, not a trace."""
    shown = engine.url.render_as_string(hide_password=True)
    reason = " ".join(part.strip() for part in str(exc.orig or exc).splitlines() if part.strip())
    return DatabaseError(f"cannot open the database {shown}: {reason}")


def json_dumps(value: Any) -> str:
    """JSON for the database: compact, UTF-8, and refusing NaN and infinities, which
    neither SQLite's nor PostgreSQL's JSON accepts (failing loudly beats a bad row)."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


JSON_CODEC: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}
"""How JSON columns are written and read, on both back ends. orjson reads them: with
the standard library's parser, parsing was most of the time of reading a batch's
entity rows (a document and a record each). Every JSON value stored is one
segmentry wrote from validated values (integers within 2**53, no NaN), where the two
parsers agree; orjson would read an integer beyond 64 bits as a float."""


SqliteSetup = Callable[[sqlite3.Connection], None]
"""Run on every new SQLite connection, e.g. to register the functions rules compile to."""


def create_engine(url: str, *, sqlite_setup: SqliteSetup | None = None) -> Engine:
    """An engine for ``url``; on SQLite, ``sqlite_setup`` runs on each new connection
    (the store knows nothing of rules, so the caller registers what its SQL needs)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_setup)
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8, **JSON_CODEC)


SQLITE_POOL = {"pool_size": 8, "max_overflow": 33}
"""Connections to an SQLite file are kept open and reused: opening one per transaction
(configuring it, reading the schema, and checkpointing the WAL when the last one
closes) doubled the time of a single write. 41 in all: one for each of the server's
40 worker threads and one for the event loop's member checks, which never wait."""


def _sqlite_engine(url: sa.URL, setup: SqliteSetup | None) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"poolclass": sa.StaticPool} if in_memory else dict(SQLITE_POOL)
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs, **JSON_CODEC
    )
    sa.event.listen(engine, "connect", _configure_sqlite)
    if setup is not None:
        sa.event.listen(engine, "connect", lambda dbapi, _record: setup(dbapi))
    sa.event.listen(engine, "begin", _begin_sqlite)
    if not in_memory and url.database and "uri" not in url.query:
        checkpoints.attach(engine, url.database)
    return engine


def dispose(engine: Engine) -> None:
    """Close the engine's connections, after its checkpoints (SQLite) are done."""
    checkpoints.stop(engine)
    engine.dispose()


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own
    # transaction handling would start them lazily and as DEFERRED).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    # A bound only: a thread checkpoints after writes (``store.checkpoints``).
    cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoints.BOUND_PAGES}")
    cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    if mode is not None:  # None: each statement is its own transaction (``single_reads``)
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: takes SQLite's write lock at once."""
    with engine.connect() as plain:
        conn = plain
        if engine.dialect.name == "sqlite":
            conn = plain.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent snapshot for reads."""
    with engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def single_reads(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that need no common snapshot: on SQLite each statement is
    its own transaction, without the round trips of BEGIN and COMMIT (a member check
    is a few indexed reads, and those were a third of its cost)."""
    with engine.connect() as plain:
        conn = plain
        if engine.dialect.name == "sqlite":
            conn = plain.execution_options(sqlite_begin=None)
        yield conn
