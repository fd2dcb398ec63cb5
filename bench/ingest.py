"""``ingest_rate``: a bulk import with 1,000 active segments against plain inserts.

segmentry imports customers through ``Shop.upsert_many`` in batches into an
embedded SQLite file holding 1,000 active dynamic customer segments, so every
batch also validates, derives, encodes, updates the columnar snapshot, finds
every segment's new members and writes member chunks, events and history in
its transaction. The peer inserts the same documents, as JSON, into a plain
table of the same database file with the same durability settings (WAL,
``synchronous=FULL``), one transaction per batch.

The same import into a file with no segments is measured too: its rate over
the plain inserts is what validating, encoding and storing cost before any
segment work, and the rate with segments over it is what the segments cost.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec
from segmentry.model.schema import Kind
from segmentry.synthetic import generate, segments, vocabulary

BATCH = 5_000


@dataclass(frozen=True)
class IngestResult:
    entities: int
    segments: int
    segmentry_per_s: float
    plain_per_s: float
    no_segments_per_s: float

    @property
    def ratio(self) -> float:
        return self.segmentry_per_s / self.plain_per_s

    @property
    def vs_no_segments(self) -> float:
        """The rate with the segments over the rate of the same import without any."""
        return self.segmentry_per_s / self.no_segments_per_s


def documents(count: int) -> list[list[dict[str, Any]]]:
    """The customers to import, in batches."""
    columns = generate.customers(count, seed=23)
    docs = list(columns.documents())
    return [docs[i : i + BATCH] for i in range(0, count, BATCH)]


def run(count: int, segment_count: int = 1_000) -> IngestResult:
    batches = documents(count)
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        path = Path(folder) / "ingest.db"
        ours = import_seconds(path, batches, segment_count)
        plain = plain_seconds(path, batches)
        bare = import_seconds(Path(folder) / "no-segments.db", batches, 0)
    return IngestResult(count, segment_count, count / ours, count / plain, count / bare)


def import_seconds(
    path: Path,
    batches: list[list[dict[str, Any]]],
    segment_count: int,
    *,
    during: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> float:
    """Seconds to import ``batches`` through segmentry into a new file at ``path`` with
    ``segment_count`` segments; ``during`` surrounds the timed import only."""
    with Segmentry(f"sqlite:///{path}") as segmentry:
        shop = segmentry.default_shop()
        shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
        for number, rule in enumerate(segments.rules(Kind.CUSTOMER, segment_count, seed=5)):
            spec = SegmentSpec(kind="customer", code=f"s{number}", name=f"S {number}", rule=rule)
            shop.create_segment(spec)
        with during():
            start = time.perf_counter()
            for batch in batches:
                shop.upsert_many("customer", batch)
            return time.perf_counter() - start


def plain_seconds(
    path: Path,
    batches: list[list[dict[str, Any]]],
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE plain_customers (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        start = clock()
        for batch in batches:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO plain_customers VALUES (?, ?)",
                [(doc["id"], json.dumps(doc)) for doc in batch],
            )
            conn.execute("COMMIT")
        return clock() - start
    finally:
        conn.close()
