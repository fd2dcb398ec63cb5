"""An import whose process is killed with SIGKILL half-way: its record says exactly
which lines were applied; it reads as running while its lease lasts and as failed
(interrupted) once the lease ran out; a retry with the same idempotency key is refused
as in flight while the lease lasts, then replays that report instead of being refused
for the 24 hours a key is kept.

The child imports a CSV from a pipe in batches of two lines; the parent writes three
lines, waits until the first batch is committed, and kills the child while it waits
for the rest of the file."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from segmentry.engine.idempotency import Once
from segmentry.engine.imports import INTERRUPTED, LEASE, ImportReport, ImportStatus
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.errors import IdempotencyKeyInFlightError
from tests.engine.conftest import ManualClock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX SIGKILL")

ONCE = Once("import-1", "fingerprint-1")
CHILD = r"""
import sys
from segmentry.engine.idempotency import Once
from segmentry.engine.segmentry import Segmentry

url, tenant_id = sys.argv[1], int(sys.argv[2])
with Segmentry(url) as segmentry:
    shop = segmentry.shop(tenant_id)
    shop.import_file_once("product", sys.stdin.buffer, "csv", Once(sys.argv[3], sys.argv[4]),
                          batch_size=2)
"""


def _killed_mid_import(url: str, tenant_id: int) -> None:
    args = [sys.executable, "-c", CHILD, url, str(tenant_id), ONCE.key, ONCE.fingerprint]
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdin is not None
    try:
        child.stdin.write(b"id,name,price\np1,A,1\np2,B,2\np3,C,3\n")
        child.stdin.flush()  # the pipe stays open: the child waits for more after p3
        _wait_for_first_batch(url, tenant_id, child)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdin.close()
        assert child.stderr is not None
        child.stderr.close()


def _wait_for_first_batch(url: str, tenant_id: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    with Segmentry(url) as segmentry:
        shop = segmentry.shop(tenant_id)
        while time.monotonic() < deadline:
            if child.poll() is not None:
                assert child.stderr is not None
                pytest.fail(f"the child ended: {child.stderr.read().decode()}")
            if any(r.applied == 2 for r in shop.imports()):
                return
            time.sleep(0.05)
    pytest.fail("the child committed no batch within 60 s")


def _the_import(shop: Shop) -> ImportReport:
    (found,) = shop.imports()
    return found


def test_a_killed_import_reads_running_then_interrupted_and_its_key_then_replays(
    database_url: str,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    with Segmentry(database_url, clock=clock) as segmentry:
        tenant_id = segmentry.create_tenant("imports").tenant_id
        _killed_mid_import(database_url, tenant_id)
        shop = segmentry.shop(tenant_id)
        clock.advance(LEASE / 2)
        left = _the_import(shop)
        assert (left.status, left.applied, left.finished_at) == (ImportStatus.RUNNING, 2, None)
        assert left.applied_lines == [(2, 3)]
        with pytest.raises(IdempotencyKeyInFlightError):
            shop.import_file_once("product", _csv(), "csv", ONCE)

        clock.advance(LEASE)
        interrupted = _the_import(shop)
        assert (interrupted.status, interrupted.error) == (ImportStatus.FAILED, INTERRUPTED)
        assert interrupted.applied_lines == [(2, 3)]  # what the killed import applied
        # finished when its lease ran out: a lease after its last batch, before now
        assert interrupted.finished_at is not None
        assert interrupted.started_at + LEASE <= interrupted.finished_at <= clock.now
        retried = shop.import_file_once("product", _csv(), "csv", ONCE)
        assert retried.replayed
        assert retried.value == interrupted
        assert [e.id for e in shop.get_many("product", ["p1", "p2", "p3"])] == ["p1", "p2"]

        again = shop.import_file_once("product", _csv(), "csv", Once("import-2", "f"))
        assert (again.replayed, again.value.applied) == (False, 3)


class LineSource:
    """A CSV of products handed out a line at a time; ``before`` runs before each line
    is handed out, given that line (a test moves its clock there)."""

    def __init__(self, count: int, before: Callable[[bytes], None]) -> None:
        self.lines = [b"id,name,price\n", *(f"p{n},A,{n}\n".encode() for n in range(count))]
        self.before = before

    def read(self, size: int = -1) -> bytes:
        if not self.lines:
            return b""
        self.before(self.lines[0])
        return self.lines.pop(0)

    def readable(self) -> bool:
        return True


def test_an_import_waiting_on_a_slow_source_renews_its_lease() -> None:
    clock = ManualClock(datetime.now(UTC))
    with Segmentry("sqlite://", clock=clock) as segmentry:
        shop = segmentry.default_shop()
        seen: list[ImportReport] = []

        def slowly(_line: bytes) -> None:  # half a lease apart: three reads outlast one
            clock.advance(LEASE / 2)
            seen.extend(shop.imports())

        source = LineSource(5, slowly)
        report = shop.import_file("product", source, "csv", batch_size=10)  # type: ignore[arg-type]
        assert report.status is ImportStatus.DONE
        assert len(seen) == 4  # the header and the first line are read before it starts
        assert all(r.status is ImportStatus.RUNNING for r in seen)


def test_an_import_stalled_past_its_lease_commits_nothing_more() -> None:
    """Once its lease ran out, others read the import as interrupted and may import the
    file again; the stalled import must not then apply the rest too."""
    clock = ManualClock(datetime.now(UTC))
    with Segmentry("sqlite://", clock=clock) as segmentry:
        shop = segmentry.default_shop()
        seen: list[ImportReport] = []

        def stall_before_p2(line: bytes) -> None:  # for one and a half leases
            if line.startswith(b"p2,"):
                clock.advance(LEASE * 3 / 2)
                seen.extend(shop.imports())

        source = LineSource(4, stall_before_p2)
        report = shop.import_file("product", source, "csv", batch_size=2)  # type: ignore[arg-type]
        assert [(r.status, r.error) for r in seen] == [(ImportStatus.FAILED, INTERRUPTED)]
        assert (report.status, report.error) == (ImportStatus.FAILED, INTERRUPTED)
        assert (report.applied, report.applied_lines) == (2, [(2, 3)])
        assert shop.imports() == [report]
        stored = shop.get_many("product", ["p0", "p1", "p2", "p3"])
        assert [e.id for e in stored] == ["p0", "p1"]


def _csv() -> io.BytesIO:
    return io.BytesIO(b"id,name,price\np1,A,1\np2,B,2\np3,C,3\n")
