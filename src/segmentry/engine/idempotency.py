"""Idempotent writes: a request made again with the same key is answered, not applied.

The caller names a request with a key of its choosing and a *fingerprint* of
what it asks (the HTTP API hashes the method, path, query and body). The
answer is kept in the same database transaction as the write it guards, and
the transaction starts by taking the tenant's write lock, so:

* the key exists exactly when the write committed (a failed write keeps no
  key, and retrying it runs it again);
* a retry that arrives while the first request is being written waits for the
  lock, then finds the first answer and writes nothing.

An import spans several transactions. Its key is kept in the first one, the
one that records the import, with the import's id as the answer; a retry
replays the import's final report, or is refused while the import still runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import IO, Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from segmentry.engine import imports
from segmentry.engine.imports import ImportReport, ImportRequest, ImportStatus
from segmentry.engine.state import View
from segmentry.engine.transaction import Transaction
from segmentry.errors import (
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    SegmentryError,
    ValidationError,
)
from segmentry.model.schema import Schema
from segmentry.model.temporal import ONE_MICROSECOND, to_micros
from segmentry.store import idempotency as key_store

RETENTION = timedelta(hours=24)
RETENTION_US = RETENTION // ONE_MICROSECOND
MAX_KEY_LENGTH = 255

T = TypeVar("T")
Answer = dict[str, Any]
Reader = Callable[[], AbstractContextManager[View]]
Writer = Callable[[], AbstractContextManager[Transaction]]


@dataclass(frozen=True, slots=True)
class Once:
    """A keyed request: the caller's ``key`` and the ``fingerprint`` of what it asks."""

    key: str
    fingerprint: str

    def __post_init__(self) -> None:
        key = self.key
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ValidationError(
                f"an idempotency key is 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
            )
        if not (key.isascii() and key.isprintable()):
            raise ValidationError(
                "an idempotency key is printable ASCII text", field="Idempotency-Key"
            )


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """What a keyed request answered, and whether this was a replay of a kept answer."""

    value: T
    replayed: bool


def fingerprint(*parts: bytes | str) -> str:
    """A fingerprint of a request from its parts (each one delimited, so parts cannot
    run into each other)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def recall(conn: Connection, tenant_id: int, once: Once, now_us: int) -> Answer | None:
    """The answer kept for ``once``, ``None`` if there is none (or it expired), or an
    IdempotencyKeyReusedError if the key names another request."""
    kept = key_store.get(conn, tenant_id=tenant_id, key=once.key, since=now_us - RETENTION_US)
    if kept is None:
        return None
    if kept.fingerprint != once.fingerprint:
        raise IdempotencyKeyReusedError(
            f"idempotency key {once.key!r} was used for another request in the last "
            f"{RETENTION.total_seconds() / 3600:.0f} hours; use a new key for a new request"
        )
    return kept.answer


def keep(tx: Transaction, once: Once, answer: Answer) -> None:
    """Keep ``answer`` in the write's own transaction (forgetting expired keys first)."""
    key_store.purge(tx.conn, tenant_id=tx.tenant_id, before=tx.now_us - RETENTION_US)
    key_store.put(
        tx.conn,
        tenant_id=tx.tenant_id,
        key=once.key,
        fingerprint=once.fingerprint,
        answer=answer,
        now=tx.now_us,
    )


def _recalled(read: Reader, once: Once) -> Answer | None:
    """A look without the write lock: a replay then neither waits nor marks the tenant
    changed for other processes."""
    with read() as view:
        return recall(view.conn, view.state.tenant_id, once, to_micros(view.ctx.now))


def run(
    read: Reader, write: Writer, once: Once, work: Callable[[Transaction], Answer]
) -> Done[Answer]:
    """Run ``work`` once for ``once``; later calls with it replay its answer."""
    answer = _recalled(read, once)
    if answer is not None:
        return Done(answer, True)
    with write() as tx:
        # Checked again under the lock: a first request may have committed meanwhile.
        answer = recall(tx.conn, tx.tenant_id, once, tx.now_us)
        if answer is None:
            answer = work(tx)
            keep(tx, once, answer)
            return Done(answer, False)
    return Done(answer, True)


# -- imports ---------------------------------------------------------------------------------


class _ReplayedImportError(SegmentryError):
    """Internal: the key was kept meanwhile by a finished import; carries its report."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("replayed")
        self.report = report


def _kept_import(conn: Connection, tenant_id: int, answer: Answer, now_us: int) -> ImportReport:
    """The report of the import a key names; refused while the import still runs (an
    import whose process ended reads as failed once its lease ran out)."""
    report = imports.find(conn, tenant_id, str(answer["import_id"]), now_us)
    if report.status is ImportStatus.RUNNING:
        raise IdempotencyKeyInFlightError(
            f"import {report.import_id} made with this idempotency key is still running; "
            f"follow it at /v1/imports/{report.import_id}",
            import_id=report.import_id,
        )
    return report


def _claim(once: Once) -> Callable[[Transaction, str], None]:
    """The hook the import runs in its first transaction: keep the key with its id."""

    def claim(tx: Transaction, import_id: str) -> None:
        answer = recall(tx.conn, tx.tenant_id, once, tx.now_us)
        if answer is not None:
            raise _ReplayedImportError(_kept_import(tx.conn, tx.tenant_id, answer, tx.now_us))
        keep(tx, once, {"import_id": import_id})

    return claim


def import_once(
    read: Reader,
    write: Writer,
    *,
    clock: imports.Clock,
    schema: Schema,
    source: IO[bytes],
    request: ImportRequest,
    once: Once,
) -> Done[ImportReport]:
    """Import ``source`` once for ``once``; a retry replays the import's final report."""
    answer = _recalled(read, once)
    if answer is not None:
        with read() as view:
            return Done(_kept_import(view.conn, view.state.tenant_id, answer, view.now_us), True)
    try:
        claimed = replace(request, started=_claim(once))
        report = imports.run(write, clock, schema, source, claimed)
    except _ReplayedImportError as replay:
        return Done(replay.report, True)
    return Done(report, False)
