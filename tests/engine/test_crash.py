"""A writer killed with SIGKILL in the middle of a large batch loses the whole
batch or none of it, and what it leaves is consistent.

A child process (``sys.executable``) opens the store, declares segments, writes
a small committed batch, then one batch of 10,000 customers that also updates
the small batch's customers (so the transaction writes entities, member
chunks, entered and exited events, counts and history). The parent kills it:

* after the ``done`` marker (the kill lands after commit: the batch must be there);
* while the child is held right after a given statement of the batch, or just
  before COMMIT is sent (the kill lands inside the transaction for certain:
  the batch must be absent);
* after a random delay from the child's ``start`` marker, drawn inside the window
  in which the previous round wrote and committed (either outcome, never a part).

After every kill the parent reopens the store and checks integrity, all or
nothing for the batch, and that the kept memberships, the member counts, the
count history and the event feed all agree with a full re-evaluation.
The child reports its progress (``sql <statement head>``, ``commit``) through
SQLAlchemy events it installs on its own engine; nothing in segmentry is mocked.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import pytest
import sqlalchemy as sa

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import Change, Page
from segmentry.store.tables import entities, segments, tenants

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX SIGKILL")

T = TypeVar("T")
BATCH = 10_000
BEFORE = 600  # the first ids of the batch exist before it (so it also updates and exits)
PAGE = 1_000
MARKER_TIMEOUT = 60.0
INSERTED = "sql INSERT INTO entities"

Doc = dict[str, Any]
SEGMENTS: tuple[tuple[str, str], ...] = (
    ("ios_big", "platform = 'ios' AND lifetime_value > 250"),
    ("loyal", "orders_count >= 5 AND accepts_marketing = yes"),
    ("ios_big_not_loyal", "IN SEGMENT 'ios_big' AND NOT IN SEGMENT 'loyal'"),
)


def _ios_big(doc: Doc) -> bool:
    return doc.get("platform") == "ios" and doc.get("lifetime_value", 0) > 250


def _loyal(doc: Doc) -> bool:
    return doc.get("orders_count", 0) >= 5 and doc.get("accepts_marketing") is True


# The same rules written by hand in Python: an oracle independent of the engine.
ORACLE: dict[str, Callable[[Doc], bool]] = {
    "ios_big": _ios_big,
    "loyal": _loyal,
    "ios_big_not_loyal": lambda d: _ios_big(d) and not _loyal(d),
}

CHILD = r"""
import json, sys, time
import sqlalchemy as sa
from segmentry.engine.types import SegmentSpec
from segmentry.engine.segmentry import Segmentry

cfg = json.loads(sys.argv[1])
with open(cfg["items"], encoding="utf-8") as f:
    items = json.load(f)


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def hold():
    say("paused")
    time.sleep(60)  # the parent kills us here


segmentry = Segmentry(cfg["url"])
shop = segmentry.shop(cfg["tenant"])
existing = {s.code for s in shop.segments()}
for code, rule in cfg["segments"]:
    if code not in existing:
        shop.create_segment(SegmentSpec(kind="customer", code=code, name=code, rule=rule))
shop.upsert_many("customer", items["before"])


def after_execute(conn, cursor, statement, parameters, context, executemany):
    head = " ".join(statement.split()[:3])
    say("sql " + head)
    if cfg["pause"] and head.startswith(cfg["pause"]):
        hold()


def before_commit(conn):  # SQLAlchemy calls this before it sends COMMIT
    say("commit")
    if cfg["pause"] == "COMMIT":
        hold()


sa.event.listen(segmentry.database, "after_cursor_execute", after_execute)
sa.event.listen(segmentry.database, "commit", before_commit)
say("start")
shop.upsert_many("customer", items["batch"])
say("done")
time.sleep(60)  # the parent kills us here too
"""


@dataclass(frozen=True)
class Plan:
    """How one round's kill is timed."""

    name: str
    pause: str | None = None  # the child holds after a statement starting so, or at "COMMIT"
    delay: float | None = None  # seconds after the child's "start" marker
    wait_done: bool = False  # kill only after the child reports the commit done


@dataclass
class Result:
    """What the child printed, each line with the moment it arrived."""

    lines: list[tuple[float, str]]

    def has(self, text: str) -> bool:
        return any(line == text for _, line in self.lines)

    @property
    def last_step(self) -> str:
        return self.lines[-1][1] if self.lines else "(nothing)"


class _Reader(threading.Thread):
    """Collects the child's stdout lines with the moment each arrived."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.queue: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self.lines: list[tuple[float, str]] = []

    def run(self) -> None:
        for raw in self.stream:
            self.queue.put((time.monotonic(), raw.rstrip("\n")))
        self.queue.put(None)

    def wait_for(self, predicate: Callable[[str], bool], what: str) -> float:
        deadline = time.monotonic() + MARKER_TIMEOUT
        while True:
            try:
                item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"child gave no {what!r} within {MARKER_TIMEOUT}s") from None
            if item is None:
                raise AssertionError(f"child ended before {what!r}")
            self.lines.append(item)
            if predicate(item[1]):
                return item[0]

    def drain(self) -> None:
        while (item := self.queue.get(timeout=MARKER_TIMEOUT)) is not None:
            self.lines.append(item)


def _run_child(
    url: str, tenant_id: int, items_file: Path, plan: Plan, log_dir: Path
) -> tuple[Result, float]:
    """Run one child and kill it as planned; returns its output and, for a random
    round, how long after "start" the kill was sent."""
    config = {
        "url": url,
        "tenant": tenant_id,
        "items": str(items_file),
        "segments": SEGMENTS,
        "pause": plan.pause,
    }
    err_path = log_dir / f"{plan.name}.stderr"
    with err_path.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert child.stdout is not None
    reader = _Reader(child.stdout)
    reader.start()
    waited = 0.0
    try:
        try:
            start = reader.wait_for(lambda line: line == "start", "start")
            if plan.wait_done:
                reader.wait_for(lambda line: line == "done", "done")
            elif plan.pause is not None:
                reader.wait_for(lambda line: line == "paused", "paused")
            else:
                assert plan.delay is not None
                time.sleep(max(0.0, plan.delay - (time.monotonic() - start)))
                waited = time.monotonic() - start
            os.kill(child.pid, signal.SIGKILL)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; stderr:\n{err_path.read_text()[-3000:]}") from None
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        reader.drain()
        reader.join(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL, (child.returncode, err_path.read_text()[-3000:])
    return Result(reader.lines), waited


# -- what a round writes --------------------------------------------------------------------


def _items(tag: str) -> tuple[list[Doc], list[Doc]]:
    before = [
        {
            "id": f"{tag}-{i:05d}",
            "platform": "ios",
            "lifetime_value": 500.0,
            "orders_count": 1,
            "accepts_marketing": False,
            "city": "before",
        }
        for i in range(BEFORE)
    ]
    batch = [
        {
            "id": f"{tag}-{i:05d}",
            "platform": ("ios", "android", "web")[i % 3],
            "lifetime_value": float(i * 37 % 400),
            "orders_count": i % 6,
            "accepts_marketing": i % 4 != 0,
            "city": tag,
        }
        for i in range(BATCH)
    ]
    return before, batch


# -- the checks after a kill ----------------------------------------------------------------


def _pages(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _batch_applied(segmentry: Segmentry, tenant_id: int, tag: str, batch: list[Doc]) -> bool:
    """Whether the round's batch is in the store: all of it or none of it, else fail."""
    with segmentry.database.connect() as conn:
        rows = conn.execute(
            sa.select(entities.c.id, entities.c.doc).where(
                entities.c.tenant_id == tenant_id,
                entities.c.kind == "customer",
                entities.c.id.like(f"{tag}-%"),
            )
        ).all()
    docs = {row.id: row.doc for row in rows}
    written = sum(1 for doc in docs.values() if doc and doc.get("city") == tag)
    assert written in (0, BATCH), f"{written:,} of the {BATCH:,} batch items are stored"
    if written == 0:
        assert len(docs) == BEFORE
        assert all(
            doc and doc["city"] == "before" and doc["orders_count"] == 1 for doc in docs.values()
        )
        return False
    assert len(docs) == BATCH
    for item in batch:
        stored = docs[item["id"]]
        assert {k: stored.get(k) for k in item} == item
    return True


def _check_consistent(shop: Shop) -> None:
    """Kept memberships = a full re-evaluation; counts, history and the feed agree."""
    segmentry, tenant_id = shop.segmentry, shop.tenant_id
    docs = [e.attributes for e in _pages(lambda c: shop.entities("customer", limit=PAGE, cursor=c))]
    with segmentry.database.connect() as conn:
        stored_codes = set(
            conn.scalars(sa.select(segments.c.code).where(segments.c.tenant_id == tenant_id))
        )
        next_event_id = conn.execute(
            sa.select(tenants.c.next_event_id).where(tenants.c.tenant_id == tenant_id)
        ).scalar_one()
    replayed = _replay_events(shop)
    assert next_event_id == replayed.last_id + 1, "the event counter and the feed disagree"
    assert stored_codes == {code for code, _ in SEGMENTS}

    for code, _ in SEGMENTS:
        segment = shop.segment(code)
        assert segment.rule_text is not None
        kept_list = _member_ids(shop, code)
        kept = set(kept_list)
        assert len(kept) == len(kept_list), f"{code}: a member is listed twice"
        expected = {d["id"] for d in docs if ORACLE[code](d)}
        assert kept == expected, (
            f"{code}: kept {len(kept):,} members, the rule selects {len(expected):,} "
            f"(missing {sorted(expected - kept)[:5]}, extra {sorted(kept - expected)[:5]})"
        )
        selected = _entity_ids(shop, segment.rule_text)
        assert set(selected) == kept, f"{code}: entities(rule) and the kept members differ"
        assert shop.preview("customer", segment.rule_text).count == len(kept)
        assert segment.member_count == len(kept)
        history = shop.history(code)
        assert history, f"{code}: no count history"
        assert history[-1].member_count == len(kept), f"{code}: last history point is stale"
        assert replayed.members.get(code, set()) == kept, f"{code}: the event feed disagrees"


def _member_ids(shop: Shop, code: str) -> list[str]:
    return [m.id for m in _pages(lambda c: shop.members(code, limit=PAGE, cursor=c))]


def _entity_ids(shop: Shop, rule: str) -> list[str]:
    return [e.id for e in _pages(lambda c: shop.entities("customer", rule, limit=PAGE, cursor=c))]


@dataclass
class _Replay:
    members: dict[str, set[str]]
    last_id: int


def _replay_events(shop: Shop) -> _Replay:
    members: dict[str, set[str]] = {}
    last_id = 0
    for event in _pages(lambda c: shop.events(after=c, limit=PAGE)):
        assert event.id == last_id + 1, f"event ids jump from {last_id} to {event.id}"
        last_id = event.id
        current = members.setdefault(event.segment, set())
        if event.change is Change.ENTERED:
            assert event.entity_id not in current, f"event {event.id}: entered twice"
            current.add(event.entity_id)
        else:
            assert event.entity_id in current, f"event {event.id}: exited without entering"
            current.remove(event.entity_id)
    return _Replay(members, last_id)


# -- the rounds -------------------------------------------------------------------------------


def _window(result: Result) -> tuple[float, float] | None:
    """When, after "start", a round that reached COMMIT began writing (the statement just
    before the batch's INSERT INTO entities) and when it sent COMMIT, plus a tenth to land
    on the COMMIT itself now and then. The latest round that reached COMMIT calibrates the
    next ones (the first round is slower: cold caches, no planner statistics yet)."""
    names = [line for _, line in result.lines]
    if "commit" not in names or INSERTED not in names:
        return None
    start = result.lines[names.index("start")][0]
    low = result.lines[names.index(INSERTED) - 1][0] - start
    high = result.lines[names.index("commit")][0] - start
    return low, high + (high - low) / 10


def _plans(rng: random.Random) -> list[Plan]:
    """The random rounds' ``delay`` is a fraction of the write window (see ``_window``)."""
    return [
        Plan("after-commit", wait_done=True),
        Plan("held-after-entities", pause="INSERT INTO entities"),
        Plan("held-after-event-blocks", pause="INSERT INTO event_blocks"),
        Plan("held-before-commit", pause="COMMIT"),
        *(Plan(f"random-{n}", delay=rng.random()) for n in range(2)),
    ]


def _crash_rounds(
    url: str, new_tenant: Callable[[Segmentry, int], int], tmp_path: Path, label: str
) -> None:
    seed = int(os.environ.get("SEGMENTRY_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    window: tuple[float, float] | None = None
    report: list[str] = []
    outcomes: dict[str, bool] = {}
    for number, plan in enumerate(_plans(rng)):
        tag = f"r{number}"
        context = f"{label} round {plan.name} (SEGMENTRY_CRASH_SEED={seed})"
        with Segmentry(url) as segmentry:
            tenant_id = new_tenant(segmentry, number)
        before, batch = _items(tag)
        items_file = tmp_path / f"{tag}.json"
        items_file.write_text(json.dumps({"before": before, "batch": batch}))
        if plan.delay is not None:
            assert window is not None
            low, high = window
            timed = Plan(plan.name, delay=low + plan.delay * (high - low))
        else:
            timed = plan
        began = time.monotonic()
        result, waited = _run_child(url, tenant_id, items_file, timed, tmp_path)
        ran = time.monotonic() - began

        window = _window(result) or window

        wal = ""
        if url.startswith("sqlite"):
            path = sa.make_url(url).database
            assert path
            wal_file = Path(f"{path}-wal")
            wal = f", WAL {wal_file.stat().st_size // 1024:,} KiB" if wal_file.exists() else ""
            with closing(sqlite3.connect(path)) as raw:  # recovers the WAL first
                assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)], context

        with Segmentry(url) as segmentry:
            shop = segmentry.shop(tenant_id)
            try:
                applied = _batch_applied(segmentry, tenant_id, tag, batch)
                if result.has("done"):
                    assert applied, "the batch was acknowledged, then lost"
                if not result.has("commit"):
                    assert not applied, "the batch is there though COMMIT was never sent"
                _check_consistent(shop)
                # The store takes writes again (PostgreSQL: the dead session's row lock
                # is gone) and they keep it consistent; the next round checks that.
                shop.upsert(
                    "customer",
                    f"after-{tag}",
                    {"platform": "ios", "lifetime_value": 999.0, "orders_count": 4},
                )
                assert {m.code for m in shop.segments_of("customer", f"after-{tag}")} == {
                    "ios_big",
                    "ios_big_not_loyal",
                }
            except AssertionError as exc:
                steps = [line for _, line in result.lines][-8:]
                raise AssertionError(f"{context}: {exc}\nchild's last steps: {steps}") from exc
        outcomes[plan.name] = applied
        report.append(
            f"{label} {plan.name}: killed after {result.last_step!r}"
            + (f" ({waited * 1000:.0f} ms after start)" if plan.delay is not None else "")
            + f"{wal} -> {'applied' if applied else 'absent'}"
            + f" [child {ran:.1f} s, checks {time.monotonic() - began - ran:.1f} s]"
        )
    with Segmentry(url) as segmentry:
        _check_consistent(segmentry.shop(tenant_id))  # after the last follow-up write
    assert outcomes["after-commit"]
    assert not any(v for k, v in outcomes.items() if k.startswith("held-"))
    print("\n".join(report))  # shown with -s: where each kill landed


def test_sqlite_store_survives_sigkill_mid_batch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    # One file for every round: each reopens what the previous kill left.
    _crash_rounds(url, lambda segmentry, _n: segmentry.default_shop().tenant_id, tmp_path, "sqlite")


@pytest.mark.postgres
def test_postgresql_rolls_back_a_killed_batch(pg_url: str, tmp_path: Path) -> None:
    def new_tenant(segmentry: Segmentry, number: int) -> int:
        return segmentry.create_tenant(f"crash round {number}").tenant_id

    _crash_rounds(pg_url, new_tenant, tmp_path, "postgresql")
