"""``behaviour_forward_vs_duckdb`` and ``behaviour_update_vs_recompute``.

Both need the behaviour functions in the rule language and its evaluators; until
then ``run_forward`` and ``run_update`` return the reason they were skipped
instead of a result (``skip_reason``), and the report says so.

``behaviour_forward_vs_duckdb``: a preview of ``RULE`` (its members, the count
and the first ten ids) over N customers and the generated order lines, with the
columnar evaluator reading the order state (``match.purchases.Purchases``,
filled as the engine keeps it), against DuckDB running the equivalent SQL over
the same customers, orders, lines and product segment, copied into its own
in-memory tables. The member lists are checked equal; each way is the median of
warm runs.

``behaviour_update_vs_recompute``: one order written with ``Shop.put_order``
into an SQLite file holding 1,000 behavioural segments (:mod:`bench.order_rules`;
each write re-checks the customer's and products' segments in its transaction),
the median over several orders, against recomputing those 1,000 segments with
SQL ``GROUP BY`` over plain tables of the same orders in the same kind of
database (:mod:`bench.orders`), the way a shop without segmentry refreshes them.
A sample of the segments is checked equal to its SQL first.
"""

from __future__ import annotations

import inspect
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import sqlalchemy as sa
from pyroaring import BitMap

from bench import order_rules
from bench.orders import (
    PLAIN_LINES,
    PLAIN_ORDERS,
    PLAIN_PRODUCTS,
    fill,
    history,
    plain_engine,
    plain_rows,
)
from bench.timing import collector_paused, median_seconds
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.match import eval_columnar
from segmentry.match.columnar import ColumnarTable
from segmentry.match.order_view import OrderView
from segmentry.match.purchases import Purchases
from segmentry.model.schema import Kind, Schema, declare
from segmentry.model.temporal import EvalContext
from segmentry.rules.check import SegmentInfo
from segmentry.rules.load import prepare
from segmentry.synthetic import generate, vocabulary
from segmentry.synthetic.orders import OrderColumns

RULE = "purchased(IN SEGMENT 'x', since: -30d) AND amount_spent(since: -1y) > 500"
SEGMENT_X = 100  # 'x': the products with a price above this
PRODUCTS = 20_000
NOW = generate.NOW
CUSTOMER_SCHEMA = Schema(
    Kind.CUSTOMER,
    (declare(Kind.CUSTOMER, "loyalty_status", "enum", values=vocabulary.LOYALTY),),
)


def skip_reason() -> str | None:
    """Why the behaviour benchmarks cannot run on this tree, or None when they can."""
    if not order_rules.behaviour_parses():
        return "the rule language does not parse behaviour functions yet"
    if "orders" not in inspect.signature(eval_columnar.compile_columnar).parameters:
        return "the columnar evaluator does not read the order state (no orders= argument) yet"
    return None


@dataclass(frozen=True)
class BehaviourForwardResult:
    customers: int
    lines: int
    members: int
    segmentry_s: float
    duckdb_s: float

    @property
    def ratio(self) -> float:
        return self.duckdb_s / self.segmentry_s


def run_forward(customers: int, lines: int, repeat: int = 5) -> BehaviourForwardResult | str:
    reason = skip_reason()
    if reason is not None:
        return reason
    people = generate.customers(customers)
    catalog = generate.products(PRODUCTS)
    made = history(max(1, lines // 2), customers=customers, products=PRODUCTS)
    tables = {Kind.CUSTOMER: ColumnarTable(CUSTOMER_SCHEMA, customers + 1),
              Kind.PRODUCT: ColumnarTable(Schema(Kind.PRODUCT), PRODUCTS + 1)}  # fmt: skip
    people.load_table(tables[Kind.CUSTOMER])
    catalog.load_table(tables[Kind.PRODUCT])
    purchases = Purchases(Schema(Kind.ORDER), capacity=made.size + 1)
    fill(made, purchases, products=PRODUCTS)
    existing = PRODUCTS - PRODUCTS // 10  # fill leaves the last tenth of the products unknown
    prices = catalog.number["price"]
    x = BitMap(int(p) for p in np.flatnonzero(prices[:existing] > SEGMENT_X) + 1)
    preview = _segmentry_preview(tables, purchases, x)
    con = _duckdb(made, purchases, x)
    ours, theirs = preview(), _duckdb_preview(con)
    if ours != theirs:
        raise AssertionError(f"segmentry and DuckDB disagree on {RULE}: {ours[0]} against "
                             f"{theirs[0]} members")  # fmt: skip
    with collector_paused():
        segmentry_s = median_seconds(preview, repeat=repeat)
        duckdb_s = median_seconds(lambda: _duckdb_preview(con), repeat=repeat)
    return BehaviourForwardResult(customers, made.lines, ours[0], segmentry_s, duckdb_s)


def _segmentry_preview(
    tables: dict[Kind, ColumnarTable], purchases: Purchases, x: BitMap
) -> Callable[[], tuple[int, list[int]]]:
    """What ``Shop.preview`` does with the rule, on the tables and the order state: the
    rule compiled against the tenant's orders and 'x''s members, the count and ten
    seqs. The one call to adapt if the evaluator's signature lands otherwise."""
    customers = tables[Kind.CUSTOMER]
    tree = prepare(RULE, customers.schema, segments={"x": SegmentInfo(Kind.PRODUCT)}).tree
    view = OrderView(purchases, tables)
    ctx = EvalContext(NOW)

    def members(code: str) -> BitMap:
        return x if code == "x" else BitMap()

    def preview() -> tuple[int, list[int]]:
        expr = eval_columnar.compile_columnar(  # type: ignore[call-arg]
            tree, customers, ctx, members, orders=view
        )
        found = eval_columnar.select(customers, expr)
        return len(found), list(found[:10]) if len(found) else []

    return preview


def _duckdb(made: OrderColumns, purchases: Purchases, x: BitMap) -> duckdb.DuckDBPyConnection:
    """The same orders, lines and product segment in DuckDB's own in-memory tables."""
    size, line_count = purchases.size, purchases.lines
    orders = {"seq": np.arange(size, dtype=np.int64), "customer": purchases.customer[:size],
              "placed_at": purchases.placed_at[:size], "total": purchases.total[:size],
              "counted": purchases.counted[:size]}  # fmt: skip
    lines = {"order_seq": purchases.line_order[:line_count],
             "product": purchases.line_product[:line_count]}  # fmt: skip
    segment = {"seq": np.fromiter(x, dtype=np.int64, count=len(x))}
    con = duckdb.connect()
    for name, columns in (("orders", orders), ("lines", lines), ("segment_x", segment)):
        con.register("source", columns)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM source")
        con.unregister("source")
    return con


DUCKDB_SQL = """
WITH buyers AS (
  SELECT DISTINCT o.customer FROM lines l
  JOIN orders o ON o.seq = l.order_seq
  JOIN segment_x x ON x.seq = l.product
  WHERE o.counted AND o.customer >= 0 AND o.placed_at >= $month
), spenders AS (
  SELECT customer FROM orders
  WHERE counted AND customer >= 0 AND placed_at >= $year
  GROUP BY customer HAVING sum(total) > 500000000
)
SELECT customer FROM buyers JOIN spenders USING (customer) ORDER BY customer
"""


def _duckdb_preview(con: duckdb.DuckDBPyConnection) -> tuple[int, list[int]]:
    bounds = {"month": _micros_before(days=30), "year": _micros_before(days=365)}
    found = con.execute(DUCKDB_SQL, bounds).fetchnumpy()["customer"]
    return len(found), [int(c) for c in found[:10]]


def _micros_before(*, days: int) -> int:
    return int((NOW - timedelta(days=days)).timestamp()) * 1_000_000


# -- one order against recomputing the segments -----------------------------------------------


@dataclass(frozen=True)
class BehaviourUpdateResult:
    segments: int
    orders: int
    order_s: float
    recompute_s: float

    @property
    def ratio(self) -> float:
        return self.recompute_s / self.order_s


def run_update(customers: int, orders: int, segments: int = 1_000, writes: int = 30) -> (
    BehaviourUpdateResult | str
):  # fmt: skip
    if not order_rules.behaviour_parses():
        return "the rule language does not parse behaviour functions yet"
    products = max(500, customers // 10)
    made = history(orders + writes, customers=customers, products=products, seed=37)
    docs = list(made.documents())
    loaded, timed = docs[:orders], docs[orders:]
    rules = order_rules.rules(segments)
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        path = Path(folder) / "behaviour.db"
        with Segmentry(f"sqlite:///{path}", clock=lambda: NOW) as segmentry:
            shop = segmentry.default_shop()
            catalog = generate.products(products)
            product_docs = list(catalog.documents())
            shop.upsert_many("product", product_docs)
            for start in range(0, len(loaded), 5_000):
                shop.put_orders(loaded[start : start + 5_000])
            for code, rule in order_rules.product_segments():
                shop.create_segment(SegmentSpec(kind="product", code=code, name=code, rule=rule))
            for number, order_rule in enumerate(rules):
                spec = SegmentSpec(
                    kind=order_rule.kind.value,
                    code=f"b{number}",
                    name=f"B {number}",
                    rule=order_rule.behaviour,
                )
                shop.create_segment(spec)
            engine = plain_engine(Path(folder) / "plain.db")
            _plain_load(engine, loaded, product_docs)
            _check_sample(shop, engine, rules[:20])
            seconds = []
            with collector_paused():
                for doc in timed:
                    start = time.perf_counter()
                    shop.put_order(doc["id"], doc)
                    seconds.append(time.perf_counter() - start)
            recompute = median_seconds(lambda: _recompute(engine, rules), repeat=1, warmup=0)
            engine.dispose()
    return BehaviourUpdateResult(segments, orders, statistics.median(seconds), recompute)


def _plain_load(
    engine: sa.Engine, docs: list[dict[str, Any]], products: list[dict[str, Any]]
) -> None:
    order_rows, line_rows = plain_rows(docs)
    with engine.begin() as conn:
        conn.execute(PLAIN_ORDERS.insert(), order_rows)
        conn.execute(PLAIN_LINES.insert(), line_rows)
        conn.execute(PLAIN_PRODUCTS.insert(), [
            {"id": p["id"], "price_cents": round(float(p["price"]) * 100)} for p in products
        ])  # fmt: skip


def _recompute(engine: sa.Engine, rules: list[order_rules.OrderRule]) -> int:
    """Every segment's members afresh, one ``GROUP BY`` each, fetched."""
    found = 0
    with engine.connect() as conn:
        for rule in rules:
            found += len(conn.execute(sa.text(rule.sql), {"since": rule.since_micros(NOW)}).all())
    return found


def _check_sample(shop: Shop, engine: sa.Engine, rules: list[order_rules.OrderRule]) -> None:
    """The first segments' members equal their SQL, before anything is timed."""
    with engine.connect() as conn:
        for number, rule in enumerate(rules):
            since = rule.since_micros(NOW)
            expected = {str(r[0]) for r in conn.execute(sa.text(rule.sql), {"since": since})}
            members = _members(shop, f"b{number}")
            if members != expected:
                raise AssertionError(
                    f"segment b{number} ({rule.behaviour}) has "
                    f"{len(members)} members, its SQL {len(expected)}"
                )


def _members(shop: Shop, code: str) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        page = shop.members(code, limit=1_000, cursor=cursor)
        found.update(m.id for m in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found
