"""Forward evaluation: the members of one rule over all customers.

* ``forward_vs_sqlite``: counting and listing the members of a three-condition
  rule with the columnar evaluator, against the same rule as a hand-written
  query on an in-memory SQLite table of the same customers (no index).
* ``forward_vs_floor``: the columnar count against the time the memory bus
  needs to read the bytes the scan must touch, at the bandwidth of numpy sums
  over 512 MB (far above the caches) with as many threads as the scan. The sums
  and the counts take turns, so the bandwidth is read beside the count it
  bounds: read once at the start of the run, it moved by a third between runs
  while the count stood still.
* ``recount_vs_scan``: the member count of a saved segment (its kept bitmap)
  against counting it afresh with the columnar evaluator.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from bench import shopdata
from bench.timing import bus_read, median_seconds, medians_in_turns
from segmentry.match import scan
from segmentry.match.eval_columnar import compile_columnar, count, select
from segmentry.model.temporal import to_micros
from segmentry.rules.load import prepare
from segmentry.synthetic import generate

RULE = "platform = 'ios' AND lifetime_value > 100 AND last_order_at > -90d"
BUS_BYTES = 512 * 2**20
SQL_WHERE = "platform = 'ios' AND lifetime_value > 100 AND last_order_at > ?"


@dataclass(frozen=True)
class ForwardResult:
    members: int
    count_s: float
    list_s: float
    sqlite_count_s: float
    sqlite_list_s: float
    scan_bytes: int
    floor_s: float
    recount_s: float
    floor_threads: int

    def vs_sqlite(self) -> float:
        return (self.sqlite_count_s + self.sqlite_list_s) / (self.count_s + self.list_s)

    @property
    def bandwidth(self) -> float:
        """Bytes a second the bus read, beside the count."""
        return self.scan_bytes / self.floor_s

    def vs_floor(self) -> float:
        return self.count_s / self.floor_s

    def recount_vs_scan(self) -> float:
        return self.count_s / self.recount_s


def run(data: shopdata.Shop, repeat: int) -> ForwardResult:
    tree = prepare(RULE, shopdata.SCHEMA).tree
    table = data.table

    def ours_count() -> int:
        return count(table, compile_columnar(tree, table, shopdata.CTX))

    def ours_list() -> object:
        return select(table, compile_columnar(tree, table, shopdata.CTX))

    members = select(table, compile_columnar(tree, table, shopdata.CTX))
    conn = shopdata.sqlite_customers(data)
    bound = (to_micros(generate.NOW - timedelta(days=90)),)

    def sql_count() -> int:
        return int(
            conn.execute(f"SELECT count(*) FROM customers WHERE {SQL_WHERE}", bound).fetchone()[0]
        )

    def sql_list() -> list[int]:
        return [r[0] for r in conn.execute(f"SELECT id FROM customers WHERE {SQL_WHERE}", bound)]

    if not (ours_count() == sql_count() == len(members) and sorted(members) == sql_list()):
        raise AssertionError("segmentry and SQLite disagree on the forward rule's members")
    saved = members  # a saved segment's kept member bitmap
    scan_bytes = shopdata.scan_bytes(table, tree)
    threads = scan.THREADS
    with ThreadPoolExecutor(threads) as pool:
        read = bus_read(BUS_BYTES, pool, threads)
        count_s, read_s = medians_in_turns([ours_count, read], repeat=repeat * 3)
    result = ForwardResult(
        members=len(members),
        count_s=count_s,
        list_s=median_seconds(ours_list, repeat=repeat),
        sqlite_count_s=median_seconds(sql_count, repeat=max(3, repeat // 2)),
        sqlite_list_s=median_seconds(sql_list, repeat=max(3, repeat // 2)),
        scan_bytes=scan_bytes,
        floor_s=read_s * scan_bytes / BUS_BYTES,
        recount_s=median_seconds(lambda: len(saved), repeat=repeat * 100) or 1e-9,
        floor_threads=threads,
    )
    conn.close()
    return result
