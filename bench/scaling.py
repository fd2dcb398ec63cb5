"""``read_scaling_2_workers``: member checks per second with two server processes over one.

The served application runs as ``segmentry serve --workers N --no-access-log``:
uvicorn worker processes, each calling the application factory
(``segmentry.cli.server:app_from_environment``) over one SQLite file (with one
worker, the command serves from its own process). Sixteen
client connections (keep-alive, in threads of the benchmark's process) ask
``GET /v1/segments/big/members/{id}`` as fast as the answers come, for a fixed
time after a warm-up; the figure is the rate with two workers over the rate
with one, the two measured in turns. The clients are plain sockets sending a
prepared request, so they take little of the cores the workers need.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.web import _fill
from segmentry.cli.server import BUDGET_VARIABLE, free_port
from segmentry.engine.segmentry import Segmentry

MEMBERS = 2_000
CLIENTS = 16


@dataclass(frozen=True)
class ScalingResult:
    one_per_s: float
    two_per_s: float

    @property
    def ratio(self) -> float:
        return self.two_per_s / self.one_per_s


def run(seconds: float, rounds: int = 2) -> ScalingResult:
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'scaling.db'}"
        with Segmentry(url) as segmentry:
            shop = segmentry.default_shop()
            _, key = segmentry.issue_key(shop.tenant_id, "bench")
            _fill(shop, MEMBERS)
            member = shop.members("big", limit=1).items[0].id
        request = (
            f"GET /v1/segments/big/members/{member} HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {key}\r\n\r\n"
        ).encode()
        rates: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(rounds):
            for workers, measured in rates.items():
                with _Served(url, workers, Path(folder) / f"serve-{workers}.log") as port:
                    measured.append(_rate(port, request, seconds))
    return ScalingResult(statistics.median(rates[1]), statistics.median(rates[2]))


class _Served:
    """uvicorn with ``workers`` processes of the application factory, until every one
    has started; stopped (and waited for) after."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        self.url, self.workers, self.log = url, workers, log
        self.port = free_port()

    def __enter__(self) -> int:
        env = {k: v for k, v in os.environ.items() if k != BUDGET_VARIABLE}
        command = [sys.executable, "-m", "segmentry.cli.main", "serve", "--db", self.url,
                   "--port", str(self.port), "--workers", str(self.workers),
                   "--no-access-log"]  # fmt: skip
        with self.log.open("w") as sink:
            self.child = subprocess.Popen(command, stdout=sink, stderr=sink, env=env)
        deadline = time.monotonic() + 60
        while self.log.read_text().count("Application startup complete") < self.workers:
            if self.child.poll() is not None or time.monotonic() > deadline:
                self.child.kill()
                raise RuntimeError(f"the workers did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        return self.port

    def __exit__(self, *exc: object) -> None:
        self.child.terminate()
        self.child.wait(timeout=30)


def _rate(port: int, request: bytes, seconds: float, warmup: float = 1.0) -> float:
    """Answers per second over ``seconds``, after ``warmup``, from ``CLIENTS`` connections."""
    begin = time.perf_counter() + warmup
    end = begin + seconds
    counts = [0] * CLIENTS
    threads = [
        threading.Thread(target=_client, args=(port, request, begin, end, counts, i))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def _client(  # noqa: PLR0917 -- a thread's target
    port: int, request: bytes, begin: float, end: float, counts: list[int], at: int
) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        while (now := time.perf_counter()) < end:
            sock.sendall(request)
            pending = _answer(sock, pending)
            if now >= begin:
                counts[at] += 1


def _answer(sock: socket.socket, pending: bytes) -> bytes:
    """Read one answer (which must be 200); returns bytes read past it."""
    while b"\r\n\r\n" not in pending:
        pending += _received(sock)
    head, _, rest = pending.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the member check answered {head[:40]!r}")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += _received(sock)
    return rest[length:]


def _received(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise RuntimeError("the server closed the connection")
    return data
