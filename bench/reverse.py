"""Reverse evaluation: one customer changes; which of M segments does it enter and leave?

Three ways to answer, run on the same event stream and checked to agree:

* **segmentry**: the rule index names the segments the change can flip and
  only those are re-checked: the conjunctions among them all at once from the
  record, the others with their compiled predicates; when too many could
  flip, one vectorised pass over all rules answers instead (what
  ``Matcher.update`` does for every single-entity write);
* **naive**: every segment's compiled Python predicate on the new record;
* **vectorised**: all M rules in one vectorised pass over the entity's row.

The mixed stream is what a shop sends: orders (order count, lifetime value,
last order date, average order value change together), small lifetime-value
adjustments (refunds, corrections), tag toggles, and category changes (a new
loyalty tier or country). The worst-case schema has every segment test the
lifetime value, and every event moves it far, so the index must fall back.

Timing is fair to all three: each answers the stream untimed first, they take
turns at running first after each write (the first finds the caches cold), and
the garbage collector is paused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from bench import shopdata, timing
from segmentry.engine.timeflow import SWEEP_INTERVAL
from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_python import Predicate, compile_predicate
from segmentry.match.rule_index import RuleIndex
from segmentry.model.temporal import EvalContext, to_micros
from segmentry.rules.ast import Node
from segmentry.rules.load import prepare
from segmentry.synthetic import generate, vocabulary

Record = dict[str, Any]
Answer = tuple[list[int], list[int]]  # positions of the segments entered, left
MIXED = {"order": 0.35, "adjustment": 0.25, "tag": 0.25, "category": 0.15}
REVALUE = {"revalue": 1.0}


@dataclass(frozen=True)
class ReverseResult:
    events: int
    segments: int
    ours_s: np.ndarray
    naive_s: np.ndarray
    vectorised_s: np.ndarray
    fallbacks: int

    def vs_naive(self) -> dict[str, float]:
        return {
            "mean": float(self.naive_s.mean() / self.ours_s.mean()),
            "p99": float(np.percentile(self.naive_s, 99) / np.percentile(self.ours_s, 99)),
        }

    def vs_vectorised(self) -> float:
        return float(self.vectorised_s.mean() / self.ours_s.mean())


def worst_case_rules(count: int, seed: int = 9) -> list[Node]:
    """Every segment tests the lifetime value: thresholds and bands where values lie."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        low = round(float(rng.lognormal(4.0, 1.2)), 2)
        if rng.random() < 0.5:
            text = f"lifetime_value > {low}"
        else:
            text = f"lifetime_value BETWEEN {low} AND {round(low * float(rng.uniform(1.2, 4)), 2)}"
        out.append(prepare(text, shopdata.SCHEMA).tree)
    return out


def stream(
    data: shopdata.Shop, count: int, sample: int, mix: dict[str, float], seed: int = 13
) -> tuple[np.ndarray, list[tuple[int, Record, Record, str]]]:
    """``count`` changes to ``sample`` random customers: (row, old, new, kind) in order."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.arange(1, data.size + 1), size=sample, replace=False))
    current = {int(row): data.record(int(row)) for row in rows}
    kinds, weights = list(mix), np.array(list(mix.values()))
    out = []
    for _ in range(count):
        row = int(rows[rng.integers(0, sample)])
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        old = current[row]
        new = CHANGES[kind](rng, dict(old))
        current[row] = new
        out.append((row, old, new, kind))
    return rows, out


def _order(rng: np.random.Generator, record: Record) -> Record:
    amount = round(float(rng.lognormal(4.0, 0.8)), 2)
    record["orders_count"] = record.get("orders_count", 0) + 1
    record["lifetime_value"] = round(record.get("lifetime_value", 0.0) + amount, 2)
    record["average_order_value"] = record["lifetime_value"] / record["orders_count"]
    moment = to_micros(generate.NOW) - int(rng.integers(0, 3_600_000_000))
    record.setdefault("first_order_at", moment)
    record["last_order_at"] = moment
    return record


def _adjustment(rng: np.random.Generator, record: Record) -> Record:
    value = record.get("lifetime_value", 0.0)
    record["lifetime_value"] = round(max(0.0, value * float(rng.uniform(0.98, 1.02))), 2)
    if record.get("orders_count"):
        record["average_order_value"] = record["lifetime_value"] / record["orders_count"]
    return record


def _tag(rng: np.random.Generator, record: Record) -> Record:
    tag = vocabulary.CUSTOMER_TAGS[int(rng.integers(0, len(vocabulary.CUSTOMER_TAGS)))].casefold()
    tags = set(record.get("tags", ()))
    tags ^= {tag}
    if tags:
        record["tags"] = tuple(sorted(tags))
    else:
        record.pop("tags", None)
    return record


def _category(rng: np.random.Generator, record: Record) -> Record:
    if rng.random() < 0.5:
        record["loyalty_status"] = vocabulary.LOYALTY[
            int(rng.integers(0, len(vocabulary.LOYALTY)))
        ].casefold()
    else:
        record["country"] = vocabulary.COUNTRIES[
            int(rng.integers(0, len(vocabulary.COUNTRIES)))
        ].casefold()
    return record


def _revalue(rng: np.random.Generator, record: Record) -> Record:
    record["lifetime_value"] = round(float(rng.lognormal(4.0, 1.5)), 2)
    return record


CHANGES: dict[str, Callable[[np.random.Generator, Record], Record]] = {
    "order": _order,
    "adjustment": _adjustment,
    "tag": _tag,
    "category": _category,
    "revalue": _revalue,
}


def run(
    data: shopdata.Shop, rules: list[Node], events: int, mix: dict[str, float]
) -> ReverseResult:
    index = RuleIndex(dict(enumerate(rules)), shopdata.SCHEMA, shopdata.CTX)
    # As in the engine: kept answers of time-moving rules date from the last sweep.
    since = shopdata.CTX.now - timedelta(seconds=SWEEP_INTERVAL)
    index.since = EvalContext(since, shopdata.CTX.tz)
    ways = Ways(
        index,
        [compile_predicate(rule, shopdata.SCHEMA, shopdata.CTX) for rule in rules],
        data.table,
    )
    rows, changes = stream(data, events, min(2_000, data.size), mix)
    # Each customer's answers as a row of its own, contiguous as the engine's kept
    # memberships are: a row of the pass's transposed matrix is strided, which slowed
    # the vectorised peer's full comparison about a hundredfold until its first update.
    member = dict(zip(rows.tolist(), np.ascontiguousarray(ways.all_rules(rows)), strict=True))
    times = np.zeros((3, len(changes)))
    _warm_up(ways, changes, member)
    with timing.collector_paused():
        fallbacks = _timed(ways, changes, member, times)
    return ReverseResult(len(changes), len(rules), times[0], times[1], times[2], fallbacks)


WARM_UP = 20
"""Changes the naive way answers untimed first; the two fast ways answer all of them."""


def _warm_up(
    ways: Ways, changes: list[tuple[int, Record, Record, str]], member: dict[int, np.ndarray]
) -> None:
    """Answer the changes untimed (not applied), so that no timed call pays for a first
    call's lazy import or cache (numpy's ``unique`` imports ``numpy.ma`` once: 10 ms)."""
    for n, (row, old, new, _) in enumerate(changes):
        ways.ours(row, old, new, member[row])
        ways.vectorised(row, old, new, member[row])
        if n < WARM_UP:
            ways.naive(row, old, new, member[row])


def _timed(
    ways: Ways,
    changes: list[tuple[int, Record, Record, str]],
    member: dict[int, np.ndarray],
    times: np.ndarray,
) -> int:
    """Time the three ways on every change (into ``times``); returns the fallbacks."""
    fallbacks = 0
    methods = (ways.ours, ways.naive, ways.vectorised)
    for n, (row, old, new, _) in enumerate(changes):
        ways.table.put(row, new, old)  # the snapshot write every way needs, untimed
        was = member[row]
        answers: list[Answer | None] = [None] * 3
        # The way that runs first after the write finds the caches cold: take turns.
        for way in (n % 3, (n + 1) % 3, (n + 2) % 3):
            start = time.perf_counter()
            answers[way] = methods[way](row, old, new, was)
            times[way, n] = time.perf_counter() - start
        if not answers[0] == answers[1] == answers[2]:
            raise AssertionError(f"the three ways disagree on event {n}: {answers}")
        fallbacks += ways.index.recheck(old, new) is None
        assert answers[0] is not None
        member[row] = _after(was, answers[0])
    return fallbacks


@dataclass(frozen=True)
class Ways:
    index: RuleIndex
    predicates: list[Predicate]
    table: ColumnarTable

    def all_rules(self, rows: np.ndarray) -> np.ndarray:
        return self.index.holds(self.table, rows, _no_segments)

    def ours(self, row: int, old: Record, new: Record, was: np.ndarray) -> Answer:
        found = self.index.recheck(old, new)
        if found is None:
            return self.vectorised(row, old, new, was)
        changed = found.holds != was[found.answered]
        positions, now = found.answered[changed], found.holds[changed]
        if len(found.others):  # rules of other shapes: their predicates
            others = found.others.tolist()
            again = np.array([self.predicates[p](new, row) for p in others], dtype=np.bool_)
            flipped = again != was[found.others]
            positions = np.concatenate([positions, found.others[flipped]])
            now = np.concatenate([now, again[flipped]])
            order = np.argsort(positions)
            positions, now = positions[order], now[order]
        return positions[now].tolist(), positions[~now].tolist()

    def naive(self, row: int, old: Record, new: Record, was: np.ndarray) -> Answer:
        now = np.fromiter(
            (p(new, row) for p in self.predicates), dtype=np.bool_, count=len(self.predicates)
        )
        return _difference(was, now)

    def vectorised(self, row: int, old: Record, new: Record, was: np.ndarray) -> Answer:
        return _difference(was, self.all_rules(np.array([row], dtype=np.int64))[0])


def _no_segments(code: str) -> np.ndarray:
    raise LookupError(f"the benchmark's rules have no IN SEGMENT {code!r}")


def _difference(was: np.ndarray, now: np.ndarray) -> Answer:
    changed = np.flatnonzero(was != now)
    return changed[now[changed]].tolist(), changed[~now[changed]].tolist()


def _after(was: np.ndarray, answer: Answer) -> np.ndarray:
    now = was.copy()
    now[answer[0]] = True
    now[answer[1]] = False
    return now
