"""Imports of CSV and JSON Lines files: streamed, applied in batches.

Each batch is one transaction that writes every valid line of the batch and
records the import's progress; a line that does not validate is left out and
reported with its number. So at any moment, even after a crash, the import's
record says exactly which lines were applied: the lines up to ``last_line``,
in ``applied_lines``, of which ``errors`` lists every one left out.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import IO, Any, Protocol

from sqlalchemy.engine import Connection

from segmentry.engine import entities as entity_ops
from segmentry.engine.import_readers import ByteCounter, FileError, ImportFormat, Line, read_lines
from segmentry.engine.reads import page_size
from segmentry.engine.transaction import Transaction
from segmentry.errors import NotFoundError, SegmentryError, ValidationError
from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import ONE_MICROSECOND, from_micros, to_micros
from segmentry.store import imports as import_store
from segmentry.store.imports import ImportRow

DEFAULT_BATCH = 2_000
MAX_ERRORS = 1_000
"""An import stops at the end of the batch where more than this many lines were
rejected: a file that bad is the wrong file or the wrong mapping. Every rejected
line stays listed, so the record keeps its promise of saying exactly which
lines were applied."""

LEASE = timedelta(minutes=10)
"""A running import holds a lease it renews with every batch it commits (and while it
waits for a slow source); one whose lease ran out was stopped with its process and
reads as failed. A batch of at most 10,000 lines commits in seconds. The lease is a
fence too: an import that finds its lease already run out (it stalled that long, and
others may have read it as failed and imported the file again) commits nothing more."""
LEASE_US = LEASE // ONE_MICROSECOND
RENEW_BEFORE_US = LEASE_US * 2 // 3
"""A lease is renewed between batches once a third of it has passed."""
INTERRUPTED = (
    "interrupted: the import stopped without finishing (its process ended, or it "
    "stalled past its lease); the lines it counts were applied, the others were not"
)

Writer = Callable[[], AbstractContextManager[Transaction]]
Clock = Callable[[], datetime]


class ImportStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Where an import stands; ``applied_lines`` are ranges ``(first, last)`` of lines."""

    import_id: str
    kind: Kind
    format: ImportFormat
    status: ImportStatus
    lines: int
    applied: int
    rejected: int
    last_line: int
    applied_lines: list[tuple[int, int]]
    errors: list[LineError]
    error: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Progress:
    lines: int
    applied: int
    rejected: int
    bytes_read: int


@dataclass(slots=True)
class _Tally:
    """The running counts of an import, as its record will store them."""

    lines: int = 0
    applied: int = 0
    rejected: int = 0
    last_line: int = 0
    ranges: list[list[int]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    previous_applied: bool = False  # was the data line before the next one applied?

    def count(self, number: int, applied: bool, error: str | None) -> None:
        self.lines += 1
        self.last_line = number
        if applied:
            self.applied += 1
            if self.previous_applied:
                self.ranges[-1][1] = number
            else:
                self.ranges.append([number, number])
        else:
            self.rejected += 1
            self.errors.append({"line": number, "message": error or "rejected"})
        self.previous_applied = applied

    def copy(self) -> _Tally:
        return _Tally(
            self.lines,
            self.applied,
            self.rejected,
            self.last_line,
            [list(r) for r in self.ranges],
            list(self.errors),
            self.previous_applied,
        )


class Records(Protocol):
    """How an import reads and writes records other than products and customers
    (orders: see ``engine.order_imports``)."""

    def read(self, source: IO[bytes]) -> Iterator[Line]:
        """The file's lines; a bad header raises :class:`FileError`."""

    def write(self, tx: Transaction, batch: list[Line]) -> dict[int, str]:
        """Write the valid lines of a batch; returns why each other one was refused,
        by line number."""

    def may_cut(self, previous: Line, line: Line) -> bool:
        """Whether a batch may end between these two lines."""


@dataclass(frozen=True, slots=True)
class ImportRequest:
    kind: Kind
    format: ImportFormat
    columns: Mapping[str, str | None] = field(default_factory=dict)
    batch_size: int = DEFAULT_BATCH
    progress: Callable[[Progress], None] | None = None
    started: Callable[[Transaction, str], None] | None = None
    """Called in the transaction that records the import, with its id (the
    idempotency key of an import is kept there)."""
    records: Records | None = None
    """None: products or customers, a line each."""
    max_errors: int = MAX_ERRORS

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= entity_ops.MAX_BATCH:
            raise ValidationError(
                f"batch size must be between 1 and {entity_ops.MAX_BATCH:,}", field="batch_size"
            )


def run(
    writer: Writer, clock: Clock, schema: Schema, source: IO[bytes], request: ImportRequest
) -> ImportReport:
    """Import ``source``; a bad header raises before anything is recorded or written.
    ``clock`` is the Segmentry's: the import's lease is kept on its time."""
    counter = ByteCounter(source)
    stream = io.BufferedReader(counter)
    if request.records is not None:
        lines = request.records.read(stream)
    else:
        lines = read_lines(stream, request.format, schema, request.columns)
    first = next(lines, None)  # reads the header: a bad one fails here, with nothing written
    job = _Job(writer, clock, request, counter, _start(writer, request))
    try:
        job.apply_all(_chain(first, lines))
    except LeaseLostError:
        pass  # its record stays as everyone else reads it by now: interrupted
    except FileError as exc:
        job.finish(ImportStatus.FAILED, exc.message)
    except BaseException as exc:
        message = exc.message if isinstance(exc, SegmentryError) else type(exc).__name__
        job.finish(ImportStatus.FAILED, f"stopped: {message}")
        raise
    return report(job.row, now_us=to_micros(clock()))


def _chain(first: Line | None, rest: Iterator[Line]) -> Iterator[Line]:
    if first is not None:
        yield first
        yield from rest


def _start(writer: Writer, request: ImportRequest) -> ImportRow:
    with writer() as tx:
        row = ImportRow(
            import_id=secrets.token_hex(8),
            kind=request.kind.value,
            format=request.format.value,
            status=ImportStatus.RUNNING.value,
            lines=0,
            applied=0,
            rejected=0,
            last_line=0,
            applied_lines=[],
            errors=[],
            error=None,
            started_at=tx.now_us,
            finished_at=None,
            alive_until=tx.now_us + LEASE_US,
        )
        import_store.insert(tx.conn, tenant_id=tx.tenant_id, row=row)
        if request.started is not None:
            request.started(tx, row.import_id)
    return row


@dataclass(slots=True)
class _Job:
    """One running import: its record and tally change only when a batch commits."""

    writer: Writer
    clock: Clock
    request: ImportRequest
    counter: ByteCounter
    row: ImportRow
    tally: _Tally = field(default_factory=_Tally)

    def apply_all(self, lines: Iterator[Line]) -> None:
        batch: list[Line] = []
        records = self.request.records
        size = self.request.batch_size
        for line in lines:
            # Records such as orders span lines: a batch ends only where one may.
            if records is not None and len(batch) >= size and records.may_cut(batch[-1], line):
                self.apply(batch)
                batch = []
            batch.append(line)
            if records is None and len(batch) == size:
                self.apply(batch)
                batch = []
            elif self._lease_wanes():
                self.renew()  # a slow source: the lease must not run out meanwhile
        if batch:
            self.apply(batch)
        self.finish(ImportStatus.DONE, None)

    def apply(self, batch: list[Line]) -> None:
        """One transaction: the valid lines of the batch and the import's new record."""
        staged = self.tally.copy()
        with self.writer() as tx:
            if self.request.records is not None:
                refused = self.request.records.write(tx, batch)
            else:
                refused = _write_entities(tx, self.request.kind, batch)
            for line in batch:
                error = refused.get(line.number) or line.error or _unreadable(line)
                staged.count(line.number, error is None, error)
            row = _record(tx, self.row, staged, ImportStatus.RUNNING, None)
        self.row, self.tally = row, staged
        self._progress()
        limit = self.request.max_errors
        if staged.rejected > limit:
            raise FileError(
                staged.last_line,
                f"stopped after {staged.rejected:,} rejected lines (the limit is {limit:,})",
            )

    def _lease_wanes(self) -> bool:
        return to_micros(self.clock()) > _lease_end(self.row) - RENEW_BEFORE_US

    def renew(self) -> None:
        with self.writer() as tx:
            self.row = _record(tx, self.row, self.tally, ImportStatus.RUNNING, None)

    def finish(self, status: ImportStatus, error: str | None) -> None:
        with suppress(LeaseLostError), self.writer() as tx:  # lost: the record stays interrupted
            self.row = _record(tx, self.row, self.tally, status, error)

    def _progress(self) -> None:
        if self.request.progress is not None:
            t = self.tally
            self.request.progress(Progress(t.lines, t.applied, t.rejected, self.counter.count))


def _write_entities(tx: Transaction, kind: Kind, batch: list[Line]) -> dict[int, str]:
    readable = [(ln, ln.values) for ln in batch if ln.values is not None and "id" in ln.values]
    writes = [entity_ops.Write(values["id"], values) for _, values in readable]
    written = entity_ops.write_valid(tx, kind, writes)
    return {readable[n][0].number: "; ".join(p) for n, p in written.rejected.items()}


def _unreadable(line: Line) -> str | None:
    if line.values is not None and "id" not in line.values:
        return "no id"
    return None


class LeaseLostError(SegmentryError):
    """The import's lease ran out before it could commit: it must stop, as the
    import that everyone else now reads as interrupted."""


def _record(
    tx: Transaction, row: ImportRow, tally: _Tally, status: ImportStatus, error: str | None
) -> ImportRow:
    """The import's new record, written in ``tx``; raises :class:`LeaseLostError` (so the
    transaction, the batch with it, rolls back) when its lease ran out by ``tx``'s time."""
    if _lease_end(row) <= tx.now_us:
        raise LeaseLostError(f"import {row.import_id}: its lease ran out")
    done = status is not ImportStatus.RUNNING
    row = replace(
        row,
        status=status.value,
        lines=tally.lines,
        applied=tally.applied,
        rejected=tally.rejected,
        last_line=tally.last_line,
        applied_lines=[list(r) for r in tally.ranges],
        errors=list(tally.errors),
        error=error,
        finished_at=tx.now_us if done else None,
        alive_until=None if done else tx.now_us + LEASE_US,
    )
    import_store.update(tx.conn, tenant_id=tx.tenant_id, row=row)
    return row


def report(row: ImportRow, *, now_us: int | None) -> ImportReport:
    """The import's report at ``now_us``: a running import whose lease ran out by then
    is failed (interrupted), finished when its lease ran out. ``None``: as recorded
    (the import's own last report)."""
    status, error, finished_at = ImportStatus(row.status), row.error, row.finished_at
    if status is ImportStatus.RUNNING and now_us is not None and _lease_end(row) <= now_us:
        status, error, finished_at = ImportStatus.FAILED, INTERRUPTED, _lease_end(row)
    return ImportReport(
        import_id=row.import_id,
        kind=Kind(row.kind),
        format=ImportFormat(row.format),
        status=status,
        lines=row.lines,
        applied=row.applied,
        rejected=row.rejected,
        last_line=row.last_line,
        applied_lines=[(int(a), int(b)) for a, b in row.applied_lines],
        errors=[LineError(int(e["line"]), str(e["message"])) for e in row.errors],
        error=error,
        started_at=from_micros(row.started_at),
        finished_at=from_micros(finished_at) if finished_at is not None else None,
    )


def _lease_end(row: ImportRow) -> int:
    # Rows recorded before leases have none: counted from the start.
    return row.alive_until if row.alive_until is not None else row.started_at + LEASE_US


def find(conn: Connection, tenant_id: int, import_id: str, now_us: int) -> ImportReport:
    row = import_store.get(conn, tenant_id=tenant_id, import_id=import_id)
    if row is None:
        raise NotFoundError(f"no import {import_id!r}")
    return report(row, now_us=now_us)


def latest(conn: Connection, tenant_id: int, limit: int, now_us: int) -> list[ImportReport]:
    rows = import_store.latest(conn, tenant_id=tenant_id, limit=page_size(limit))
    return [report(r, now_us=now_us) for r in rows]
