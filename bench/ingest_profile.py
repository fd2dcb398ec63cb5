"""Where an import's time goes: ``python -m bench.ingest_profile [--customers N]``.

The profile behind ``ingest_rate``. It runs the same import as ``bench.ingest``
(customers in batches of 5,000, 1,000 active segments) with a timer around each
step of ``Shop.upsert_many``, and prints microseconds per customer beside the
plain insert's microseconds per row, measured in the same run on the same file.

The steps are grouped by what they are for. ``storage`` is what any store of these
entities must do: the rows and the commit. ``segments`` is the segments' own
bookkeeping: the pass that finds new members, and the member chunks, events, counts
and history it writes. ``python`` is validation, encoding and the columnar snapshot.
If ``storage`` and ``segments`` alone already cost three plain inserts, then no
speed-up of the Python steps can bring ``ingest_rate`` to 0.33.

The timers wrap functions by name and put them back afterwards. This is a
measuring tool, not something the engine depends on.
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine.default import DefaultDialect

from bench import ingest
from segmentry.engine import entities, entity_rows, matcher, shop, transaction
from segmentry.match import columnar
from segmentry.store import entities as entity_store

# (group, step, owner of the function, its name); nested steps are subtracted from
# the step that calls them, so each microsecond is counted once. A step may time more
# than one function (new rows go to the store as columns, others a row at a time).
STEPS: tuple[tuple[str, str, Any, str], ...] = (
    ("python", "validation, derived values, stamps", entities, "_documents"),
    ("python", "records and row tuples", entity_rows, "store"),
    ("python", "columnar snapshot", columnar.ColumnarTable, "put_many"),
    ("storage", "id lookup", entity_store, "rows_by_ids"),
    ("storage", "entity rows (orjson, executemany)", entity_store, "insert_rows"),
    ("storage", "entity rows (orjson, executemany)", entity_store, "insert_new"),
    ("storage", "commit (WAL, synchronous=FULL)", DefaultDialect, "do_commit"),
    ("segments", "rule index of the segments (built once)", matcher.Matcher, "__init__"),
    ("segments", "pass over the batch, bitmaps", matcher.Matcher, "update_many"),
    ("segments", "member chunks", transaction.Transaction, "_write_chunks"),
    ("segments", "event blocks", transaction.Transaction, "_write_events"),
    ("segments", "counts and history", transaction.Transaction, "_write_counts"),
)
INSIDE = {"records and row tuples": "entity rows (orjson, executemany)"}
"""Steps timed inside another: step -> the nested step to subtract from it."""


Clock = Callable[[], float]


@contextmanager
def timed(seconds: defaultdict[str, float], clock: Clock = time.perf_counter) -> Iterator[None]:
    """Every step's function wrapped with a timer adding to ``seconds``, and
    ``Shop.upsert_many`` as the total."""
    with ExitStack() as stack:
        for _, step, owner, name in STEPS:
            stack.enter_context(_wrapped(owner, name, step, seconds, clock))
        stack.enter_context(_wrapped(shop.Shop, "upsert_many", "total", seconds, clock))
        yield


@contextmanager
def _wrapped(
    owner: Any, name: str, step: str, seconds: defaultdict[str, float], clock: Clock
) -> Iterator[None]:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def timer(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[step] += clock() - start

    setattr(owner, name, timer)
    try:
        yield
    finally:
        setattr(owner, name, original)


def profile(
    count: int, segment_count: int = 1_000, clock: Clock = time.perf_counter
) -> dict[str, float]:
    """Microseconds per customer of each step, ``total``, ``rest``, ``plain`` and
    ``stored`` (the rows as segmentry stores them, inserted plainly), by ``clock``
    (``time.process_time``: this process's CPU time, steadier on a shared machine,
    without the waits for the disk)."""
    batches = ingest.documents(count)
    seconds: defaultdict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory(prefix="segmentry-profile-") as folder:
        path = Path(folder) / "ingest.db"
        ingest.import_seconds(
            path, batches, segment_count, during=functools.partial(timed, seconds, clock)
        )
        plain = ingest.plain_seconds(path, batches, clock=clock)
        stored = stored_seconds(path, len(batches[0]), clock)
    for step, nested in INSIDE.items():
        seconds[step] -= seconds[nested]
    micros = {step: 1e6 * s / count for step, s in seconds.items()}
    micros["rest"] = micros["total"] - sum(micros[step] for step in _steps())
    micros["plain"] = 1e6 * plain / count
    micros["stored"] = 1e6 * stored / count
    return micros


def stored_seconds(path: Path, batch: int, clock: Clock = time.perf_counter) -> float:
    """Seconds to store, with no other step, the rows the import stored: each entity's
    document and record (read back, then written as JSON again, as the import writes
    them) inserted into a table of the same shape as segmentry's (a row id, the key
    ``(tenant, kind, seq)`` and the unique ``(tenant, kind, id)``), one transaction per
    ``batch``, with the same durability: the floor of the storage step."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(
            "CREATE TABLE stored_entities (tenant_id INTEGER, kind TEXT, seq BIGINT, "
            "id TEXT NOT NULL, doc JSON, record JSON, created_at BIGINT, updated_at BIGINT, "
            "revision BIGINT, PRIMARY KEY (tenant_id, kind, seq), UNIQUE (tenant_id, kind, id))"
        )
        found = conn.execute("SELECT seq, id, doc, record FROM entities ORDER BY seq").fetchall()
        rows = [(s, i, orjson.loads(d), orjson.loads(r)) for s, i, d, r in found]
        start = clock()
        for at in range(0, len(rows), batch):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO stored_entities VALUES (1, 'customer', ?, ?, ?, ?, 0, 0, 1)",
                [
                    (seq, i, orjson.dumps(d).decode(), orjson.dumps(r).decode())
                    for seq, i, d, r in rows[at : at + batch]
                ],
            )
            conn.execute("COMMIT")
        return clock() - start
    finally:
        conn.close()


def _steps() -> dict[str, str]:
    """Each step once, with its group, in order."""
    return {step: group for group, step, *_ in STEPS}


def groups(micros: dict[str, float]) -> dict[str, float]:
    """The steps summed by group."""
    out: defaultdict[str, float] = defaultdict(float)
    for step, group in _steps().items():
        out[group] += micros[step]
    return dict(out)


def table(micros: dict[str, float]) -> str:
    lines = ["| group | step | µs per customer |", "|---|---|---:|"]
    lines += [f"| {g} | {s} | {micros[s]:.1f} |" for s, g in _steps().items()]
    lines.append(f"| | the rest (transaction, state) | {micros['rest']:.1f} |")
    lines.append(f"| | **total** | **{micros['total']:.1f}** |")
    lines.append(f"| peer | plain insert, per row | {micros['plain']:.1f} |")
    stored = micros["stored"]
    lines.append(
        f"| floor | the same rows inserted as segmentry stores them, per row | {stored:.1f} |"
    )
    summed = groups(micros)
    floor = summed["storage"] + summed["segments"]
    lines.append("")
    lines.append(
        f"storage {summed['storage']:.1f} + segments {summed['segments']:.1f} = {floor:.1f} µs, "
        f"{floor / micros['plain']:.2f} plain inserts before any Python step "
        f"(ingest_rate 0.33 allows {3 * micros['plain']:.1f} µs in all); "
        f"python {summed['python']:.1f} µs; ingest_rate {micros['plain'] / micros['total']:.3f}; "
        f"the rows alone as stored: {stored / micros['plain']:.2f} plain inserts"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_profile", description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--segments", type=int, default=1_000)
    parser.add_argument(
        "--cpu", action="store_true", help="time by this process's CPU time, not the wall clock"
    )
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu else time.perf_counter
    print(table(profile(args.customers, args.segments, clock)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
