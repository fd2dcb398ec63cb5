"""Forward evaluation: the members of one rule over all customers.

* ``forward_vs_sqlite``: counting and listing the members of a three-condition
  rule with the columnar evaluator, against the same rule as a hand-written
  query on an in-memory SQLite table of the same customers (no index).
* ``forward_vs_floor``: the columnar count against the time the memory bus
  needs to read the bytes the scan must touch, at the measured bandwidth.
* ``recount_vs_scan``: the member count of a saved segment (its kept bitmap)
  against counting it afresh with the columnar evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bench import shopdata
from bench.timing import median_seconds
from segmentry.match.eval_columnar import compile_columnar, count, select
from segmentry.model.temporal import to_micros
from segmentry.rules.load import prepare
from segmentry.synthetic import generate

RULE = "platform = 'ios' AND lifetime_value > 100 AND last_order_at > -90d"
SQL_WHERE = "platform = 'ios' AND lifetime_value > 100 AND last_order_at > ?"


@dataclass(frozen=True)
class ForwardResult:
    members: int
    count_s: float
    list_s: float
    sqlite_count_s: float
    sqlite_list_s: float
    scan_bytes: int
    recount_s: float

    def vs_sqlite(self) -> float:
        return (self.sqlite_count_s + self.sqlite_list_s) / (self.count_s + self.list_s)

    def vs_floor(self, bandwidth: float) -> float:
        return self.count_s / (self.scan_bytes / bandwidth)

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
    result = ForwardResult(
        members=len(members),
        count_s=median_seconds(ours_count, repeat=repeat),
        list_s=median_seconds(ours_list, repeat=repeat),
        sqlite_count_s=median_seconds(sql_count, repeat=max(3, repeat // 2)),
        sqlite_list_s=median_seconds(sql_list, repeat=max(3, repeat // 2)),
        scan_bytes=shopdata.scan_bytes(table, tree),
        recount_s=median_seconds(lambda: len(saved), repeat=repeat * 100) or 1e-9,
    )
    conn.close()
    return result
