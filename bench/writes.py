"""``write_p99_vs_plain``: the tail latency of a single-customer write.

An SQLite file holds 5,000 customers and 1,000 active dynamic customer segments
(``--quick``: 300, so the run stays short). Each timed write is a
``PUT /v1/customers/{id}`` over HTTP (uvicorn, key check included) replacing
an existing customer's document with the one after an order (order count,
lifetime value, average order value and last order date move, the update
that flips most segments in the reverse stream): validation, the columnar snapshot,
the rule index's re-check of the 1,000 segments, the memberships, events and
history points (one member-log row; the write that fills the log folds it into
their tables), one transaction, committed before the answer. The peer writes the
same documents, as JSON, with ``INSERT OR REPLACE`` and a commit each into a
plain table of its own SQLite file in the same folder with the same durability
(WAL, ``synchronous=FULL``, SQLite's own checkpoints), taking turns with the PUTs
write by write. Its own file: in segmentry's, its commits ran the checkpoints of
segmentry's log (a thread does them there), so the peer paid for segmentry's
pages. The figure
is the ratio of the 99th percentiles; as many other writes through
``Shop.upsert`` (no HTTP) are reported beside it.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.ingest import documents
from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec
from segmentry.model.schema import Kind
from segmentry.synthetic import segments, vocabulary

CUSTOMERS = 5_000


@dataclass(frozen=True)
class WriteResult:
    segments: int
    writes: int
    put_s: np.ndarray
    library_s: np.ndarray
    plain_s: np.ndarray

    @property
    def ratio(self) -> float:
        return _p99(self.put_s) / _p99(self.plain_s)


def _p99(seconds: np.ndarray) -> float:
    return float(np.percentile(seconds, 99))


def run(segment_count: int, writes: int) -> WriteResult:
    (base,) = documents(CUSTOMERS)
    rng = np.random.default_rng(5)
    picks = rng.choice(CUSTOMERS, size=2 * writes, replace=False)
    changed = [_ordered(base[i], float(rng.lognormal(3.5, 0.8))) for i in picks]
    over_http, in_library = changed[:writes], changed[writes:]
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        path = Path(folder) / "writes.db"
        with Segmentry(f"sqlite:///{path}") as segmentry:
            shop = segmentry.default_shop()
            _, key = segmentry.issue_key(shop.tenant_id, "bench")
            shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
            shop.upsert_many("customer", base)
            rules = segments.rules(Kind.CUSTOMER, segment_count, seed=5)
            for number, rule in enumerate(rules):
                spec = SegmentSpec(
                    kind="customer", code=f"s{number}", name=f"S {number}", rule=rule
                )
                shop.create_segment(spec)
            put_s, plain_s = _put_seconds(segmentry, key, over_http, path)
            library_s = np.array([_timed(lambda d=d: shop.upsert("customer", d["id"], d))
                                  for d in in_library])  # fmt: skip
    return WriteResult(segment_count, writes, put_s, library_s, plain_s)


def _ordered(doc: dict[str, Any], amount: float) -> dict[str, Any]:
    """The customer's document after an order (the engine derives the average)."""
    count = int(doc.get("orders_count") or 0) + 1
    value = round(float(doc.get("lifetime_value") or 0) + amount, 2)
    now = datetime.now(UTC).isoformat()
    return doc | {"orders_count": count, "lifetime_value": value, "last_order_at": now}


def _timed(write: Any) -> float:
    started = time.perf_counter()
    write()
    return time.perf_counter() - started


def _put_seconds(
    segmentry: Segmentry, key: str, docs: list[dict[str, Any]], path: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Each PUT's seconds and, taking turns with it, each plain write's seconds: the
    disk's moods (other processes' writes and syncs) fall on both alike."""
    headers = {"Authorization": f"Bearer {key}"}
    plain = _plain_table(path.with_name("plain.db"))
    with (
        LiveServer(build_app(segmentry)) as live,
        httpx.Client(base_url=live.url, headers=headers, timeout=60) as client,
    ):
        client.get("/v1/customers", params={"limit": 1})  # connect and warm up
        ours, peer = [], []
        for doc in docs:
            body = {k: v for k, v in doc.items() if k not in {"id", "loyalty_status"}}
            if "loyalty_status" in doc:  # a custom attribute travels under "attributes"
                body["attributes"] = {"loyalty_status": doc["loyalty_status"]}
            started = time.perf_counter()
            answer = client.put(f"/v1/customers/{doc['id']}", json=body)
            ours.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"PUT answered {answer.status_code}: {answer.text}")
            peer.append(_plain_write(plain, doc))
    plain.close()
    return np.array(ours), np.array(peer)


def _plain_table(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE plain_customers (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
    return conn


def _plain_write(conn: sqlite3.Connection, doc: dict[str, Any]) -> float:
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute(
        "INSERT OR REPLACE INTO plain_customers VALUES (?, ?)", (doc["id"], json.dumps(doc))
    )
    conn.execute("COMMIT")
    return time.perf_counter() - started
