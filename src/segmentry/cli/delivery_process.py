"""Where ``segmentry serve`` delivers: in a child process by default.

``process`` (the default) runs ``segmentry deliver`` as a child process of the
server, so the webhook worker's CPU is not taken from the interpreter that answers
writes: two threads of one process are serialised by the GIL, and the worker took
a share of the writer's time at a few hundred writes a second. The child is
stopped with the server (SIGTERM: it lets the deliveries in flight end and gives
its leases back), stops by itself when the server's end of its stdin closes (a
server killed with SIGKILL leaves no orphan), and is started again, after a pause
that doubles up to half a minute, when it dies on its own. ``thread`` runs the
workers as threads of the server, as before; ``none`` delivers nothing (a separate
``segmentry deliver`` does). Several processes share the webhooks through leases
in the database, so the child, threads and ``deliver`` processes may run together.
An in-memory SQLite database is not seen by another process: there ``process``
falls back to ``thread``, saying so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from enum import StrEnum
from typing import Protocol

from sqlalchemy.engine import Engine, make_url

from segmentry.engine.delivery import running

log = logging.getLogger("segmentry.delivery")

FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0
"""Seconds before a child that died is started again, doubled at each death in a row."""
STEADY_SECONDS = 60.0
"""A child that ran this long before dying starts the pauses again from the first."""
STOP_SECONDS = 30.0
"""How long a stopped child may take to end its deliveries in flight before it is killed."""
NOT_SHARED = "an in-memory database is not seen by another process: delivering in threads"


class DeliveryMode(StrEnum):
    PROCESS = "process"
    THREAD = "thread"
    NONE = "none"


class Stoppable(Protocol):
    def stop(self) -> None: ...


class Nothing:
    def stop(self) -> None:
        pass


def shared(url: str) -> bool:
    """Whether another process opening ``url`` sees the same database."""
    parsed = make_url(url)
    return not (parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"))


class DeliveryProcess:
    """``segmentry deliver`` as a supervised child process."""

    def __init__(
        self, url: str, *, allow_private_webhooks: bool = False, nats_url: str | None = None
    ) -> None:
        # The URLs go by environment, not arguments: a password in them would show in `ps`.
        env = {k: v for k, v in os.environ.items() if k != "SEGMENTRY_ALLOW_PRIVATE_WEBHOOKS"}
        env["SEGMENTRY_DB"] = url
        env.pop("SEGMENTRY_NATS", None)
        if nats_url:
            env["SEGMENTRY_NATS"] = nats_url
        self._env = env
        self._args = [sys.executable, "-m", "segmentry.cli.main", "deliver", "--until-stdin-closes"]
        if allow_private_webhooks:
            self._args.append("--allow-private-webhooks")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        with self._lock:
            return None if self._process is None else self._process.pid

    def start(self) -> None:
        self._process = self._spawn()
        self._watcher = threading.Thread(
            target=self._watch, name="segmentry-delivery-watch", daemon=True
        )
        self._watcher.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None:
            _end(process, timeout)
        if self._watcher is not None:
            self._watcher.join(timeout)

    def _spawn(self) -> subprocess.Popen[bytes]:
        # A session of its own: Ctrl-C in a terminal reaches the server alone, which
        # then stops the child; the child, told at once, would be seen as dying.
        return subprocess.Popen(
            self._args, env=self._env, stdin=subprocess.PIPE, start_new_session=True
        )

    def _watch(self) -> None:
        pause = FIRST_PAUSE / 2
        while True:
            with self._lock:
                process = self._process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            ran = time.monotonic() - started
            pause = FIRST_PAUSE if ran >= STEADY_SECONDS else min(pause * 2, LONGEST_PAUSE)
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            log.error(
                "the delivery process %d ended (%s); starting it again in %.0f s",
                process.pid, how, pause,
            )  # fmt: skip
            _close(process)
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._process = self._spawn()
                self.restarts += 1


def _end(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _close(process)


def _close(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):  # the child is gone, and the pipe with it
            process.stdin.close()


def started_child(
    url: str, *, allow_private_webhooks: bool = False, nats_url: str | None = None
) -> DeliveryProcess | None:
    """A started child process delivering from ``url``, or ``None`` (said in the log)
    where another process would not see the database."""
    if not shared(url):
        log.warning(NOT_SHARED)
        return None
    child = DeliveryProcess(url, allow_private_webhooks=allow_private_webhooks, nats_url=nats_url)
    child.start()
    return child


def start(
    mode: DeliveryMode,
    database: Engine,
    *,
    allow_private_webhooks: bool = False,
    nats_url: str | None = None,
) -> Stoppable:
    """Start delivering from ``database`` the way ``mode`` says; ``stop()`` ends it."""
    if mode is DeliveryMode.PROCESS:
        child = started_child(
            database.url.render_as_string(hide_password=False),
            allow_private_webhooks=allow_private_webhooks,
            nats_url=nats_url,
        )
        if child is not None:
            return child
        mode = DeliveryMode.THREAD
    if mode is DeliveryMode.THREAD:
        return running.start(
            database, allow_private_webhooks=allow_private_webhooks, nats_url=nats_url
        )
    return Nothing()
