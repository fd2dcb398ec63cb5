"""A real webhook receiver on 127.0.0.1 for the tests: it verifies each delivery's
signature as the Standard Webhooks specification says (written here from the
specification, independently of segmentry's signing code), records the events,
and can be told to fail, hang, answer slowly, reset the connection, redirect or
answer without end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_S = 300


def verify(secrets: list[str], headers: dict[str, str], body: bytes) -> bool:
    """True when one of the header's ``v1`` signatures is the HMAC-SHA256, keyed with
    one of ``secrets`` (``whsec_`` + base64 key), of ``id.timestamp.body``, and the
    timestamp is within five minutes of now."""
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    header = headers.get("webhook-signature", "")
    if not msg_id or not stamp or not stamp.isdigit():
        return False
    if abs(time.time() - int(stamp)) > TOLERANCE_S:
        return False
    content = msg_id.encode() + b"." + stamp.encode() + b"." + body
    for secret in secrets:
        key = base64.b64decode(secret[len("whsec_") :])
        expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
        for part in header.split(" "):
            version, _, signature = part.partition(",")
            if version == "v1" and hmac.compare_digest(signature.encode(), expected):
                return True
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool
    at: float
    path: str = "/hook"

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.body)["events"]
        return events


@dataclass
class Receiver:
    """``mode``: ok, fail (500), hang, slow (answers after ``delay`` s), reset, redirect,
    endless (200 and a body that never ends), trickle (a byte every 0.1 s)."""

    secrets: list[str] = field(default_factory=list)
    mode: str = "ok"
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    releasing: threading.Event = field(default_factory=threading.Event)
    in_flight: dict[str, int] = field(default_factory=dict)  # by path
    most_in_flight: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                e
                for r in self.received
                if r.valid and (path is None or r.path == path)
                for e in r.events
            ]

    def invalid(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if not r.valid]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The events received once there are at least ``count`` (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.events())} events received, {count} expected")

    def wait_attempts(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.attempts < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.attempts} attempts, {count} expected")
            time.sleep(0.02)

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.attempts += 1
                    mode, delay = receiver.mode, receiver.delay
                    now = receiver.in_flight.get(self.path, 0) + 1
                    receiver.in_flight[self.path] = now
                    most = max(now, receiver.most_in_flight.get(self.path, 0))
                    receiver.most_in_flight[self.path] = most
                try:
                    self._answer(mode, delay, body)
                finally:
                    with receiver.lock:
                        receiver.in_flight[self.path] -= 1

            def _record(self, body: bytes) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = verify(receiver.secrets, headers, body)
                with receiver.lock:
                    receiver.received.append(
                        Received(headers, body, valid, time.monotonic(), self.path)
                    )

            def _answer(self, mode: str, delay: float, body: bytes) -> None:
                if mode == "hang":
                    receiver.releasing.wait(60)
                    return
                if mode == "reset":
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    # the socket closes (with a reset) only once no file object holds it
                    self.rfile.close()
                    self.wfile.close()
                    self.connection.close()
                    self.close_connection = True
                    return
                if mode == "slow":
                    time.sleep(delay)
                if mode == "redirect":
                    self._reply(307, b"", {"Location": "http://127.0.0.1:9/elsewhere"})
                    return
                if mode == "trickle":  # headers at once, then a byte now and then
                    self.send_response(500)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    try:
                        for _ in range(1000):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:
                        pass
                    return
                if mode == "fail":
                    self._reply(500, b"receiver is down")
                    return
                self._record(body)
                if mode == "endless":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    try:
                        for _ in range(100_000):
                            self.wfile.write(b"x" * 65_536)
                    except OSError:
                        pass
                    return
                self._reply(200, b"ok")

            def _reply(
                self, status: int, text: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.releasing.set()
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
