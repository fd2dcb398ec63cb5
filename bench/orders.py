"""``order_ingest_rate`` and ``order_state_bytes_per_line``.

``order_ingest_rate``: orders written through ``Shop.put_orders`` in batches into
an SQLite file holding 1,000 active segments, 200 of them on purchase behaviour
(:mod:`bench.order_rules`: rules with behaviour functions such as
``amount_spent(since: -1y) > 500`` and ``purchased(IN SEGMENT ...)``), so
every batch validates, stores the orders and lines, keeps the derived values and
re-checks the segments the orders can move. The peer inserts the same order
lines, plain, with SQLAlchemy Core into equivalent tables (orders and lines,
with the same indexes: a customer's orders by time, orders by time, a product's
lines) of the same database file with the same durability (WAL,
``synchronous=FULL``), one transaction per batch. The tenant's first order (the
switch to derived values, every customer recomputed once) is written before
the timing starts. The same orders are also written into a shop with no
segments (``order_ingest_vs_no_segments``, not a target): what the order write
itself costs, apart from the segments. The three ways take turns batch by
batch, so a machine busy with something else for a while weighs on all alike.

``order_state_bytes_per_line``: the tenant's orders in memory
(``match.purchases.Purchases``) holding the generated lines, as its
``array_bytes()`` per line (its arrays, indexes and order records, strings aside)
and as the growth of the process's resident memory (RSS, ``/proc/self/statm``)
while it was filled, per line (everything: strings, Python objects, slack).
``tracemalloc`` would see the same allocations but slows the fill threefold.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench import order_rules
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.match.purchases import NO_SEQ, PurchaseLine, Purchases
from segmentry.model.schema import Kind, Schema
from segmentry.synthetic import generate, segments, vocabulary
from segmentry.synthetic.orders import CHANNELS, GUEST, STATUSES, OrderColumns, orders

BATCH = 2_000
SEGMENTS = 1_000
BEHAVIOURAL = 200
PRODUCT_ATTRIBUTE_SEGMENTS = 50


@dataclass(frozen=True)
class OrderIngestResult:
    orders: int
    lines: int
    segments: int
    behavioural: int
    behaviour_functions: bool
    """Always True: the behavioural segments run their behaviour-function rules (their
    attribute stand-ins, from before the language read the functions, are not used)."""
    segmentry_per_s: float
    plain_per_s: float
    no_segments_per_s: float
    """The same orders into a shop with no segments: what the write costs before them."""

    @property
    def ratio(self) -> float:
        return self.segmentry_per_s / self.plain_per_s


def history(count: int, *, customers: int, products: int, seed: int = 29) -> OrderColumns:
    prices = generate.products(products).number["price"]
    return orders(count, customers=customers, prices=prices, seed=seed)


def run_ingest(count: int, segment_count: int = SEGMENTS) -> OrderIngestResult:
    customers, products = _catalog_sizes(count + 1)
    made = history(count + 1, customers=customers, products=products)
    docs = list(made.documents())
    first, rest = docs[:1], docs[1:]
    batches = [rest[i : i + BATCH] for i in range(0, len(rest), BATCH)]
    behavioural = max(1, segment_count * BEHAVIOURAL // SEGMENTS)
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        path = Path(folder) / "orders.db"
        with (
            Segmentry(f"sqlite:///{path}") as ours,
            Segmentry(f"sqlite:///{Path(folder) / 'bare.db'}") as bare,
        ):
            writers = {
                "ours": _shop_writer(ours, customers, products, first,
                                     segment_count=segment_count, behavioural=behavioural),
                "plain": _plain_writer(plain_engine(path)),
                "bare": _shop_writer(bare, customers, products, first,
                                     segment_count=0, behavioural=0),
            }  # fmt: skip
            seconds = _taking_turns(writers, batches)
    return OrderIngestResult(
        orders=len(rest),
        lines=made.lines - int(made.line_start[1]),
        segments=segment_count,
        behavioural=behavioural,
        behaviour_functions=True,
        segmentry_per_s=len(rest) / seconds["ours"],
        plain_per_s=len(rest) / seconds["plain"],
        no_segments_per_s=len(rest) / seconds["bare"],
    )


Writer = Callable[[list[dict[str, Any]]], object]


def _taking_turns(
    writers: dict[str, Writer], batches: list[list[dict[str, Any]]]
) -> dict[str, float]:
    """Seconds each writer took for every batch, the writers taking turns batch by batch
    (each goes first in turn), so a machine busy for a while weighs on all alike."""
    seconds = dict.fromkeys(writers, 0.0)
    names = list(writers)
    for number, batch in enumerate(batches):
        turn = number % len(names)
        for name in names[turn:] + names[:turn]:
            start = time.perf_counter()
            writers[name](batch)
            seconds[name] += time.perf_counter() - start
    return seconds


def _shop_writer(
    segmentry: Segmentry,
    customers: int,
    products: int,
    first: list[dict[str, Any]],
    *,
    segment_count: int,
    behavioural: int,
) -> Writer:
    """``Shop.put_orders`` on a shop holding the customers, products and
    ``segment_count`` segments, after its first order."""
    shop = segmentry.default_shop()
    _catalog(shop, customers, products)
    _segments(shop, segment_count, behavioural)
    shop.put_orders(first)  # the switch to derived values, once per tenant
    return shop.put_orders


def _catalog_sizes(orders: int) -> tuple[int, int]:
    """How many customers and products the orders are drawn from."""
    return max(1_000, orders // 2), max(500, orders // 10)


def _catalog(shop: Shop, customers: int, products: int) -> None:
    shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
    for columns in (generate.products(products), generate.customers(customers)):
        docs = list(columns.documents())
        for start in range(0, len(docs), 5_000):
            shop.upsert_many(columns.kind, docs[start : start + 5_000])


def _segments(shop: Shop, count: int, behavioural: int) -> None:
    """``count`` active segments: the product segments the behaviour rules name, product
    and customer attribute segments, and ``behavioural`` on purchase behaviour."""
    specs = [SegmentSpec(kind="product", code=c, name=c, rule=r)
             for c, r in order_rules.product_segments()]  # fmt: skip
    product_rules = max(0, min(PRODUCT_ATTRIBUTE_SEGMENTS, count // 20) - len(specs))
    for number, rule in enumerate(segments.rules(Kind.PRODUCT, product_rules, seed=6)):
        specs.append(SegmentSpec(kind="product", code=f"p{number}", name=f"P {number}", rule=rule))
    customer_rules = max(0, count - behavioural - len(specs))
    for number, rule in enumerate(segments.rules(Kind.CUSTOMER, customer_rules, seed=5)):
        specs.append(SegmentSpec(kind="customer", code=f"c{number}", name=f"C {number}", rule=rule))
    for number, order_rule in enumerate(order_rules.rules(behavioural)):
        kind, rule = order_rule.kind.value, order_rule.behaviour
        specs.append(SegmentSpec(kind=kind, code=f"b{number}", name=f"B {number}", rule=rule))
    for spec in specs:
        shop.create_segment(spec)


METADATA = sa.MetaData()
PLAIN_ORDERS = sa.Table(
    "plain_orders",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text),
    sa.Column("placed_at", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("channel", sa.Text),
    sa.Column("total_cents", sa.BigInteger, nullable=False),
    sa.Index(None, "customer_id", "placed_at"),
    sa.Index(None, "placed_at"),
)
PLAIN_LINES = sa.Table(
    "plain_lines",
    METADATA,
    sa.Column("order_id", sa.Text, primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Text, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("unit_price_cents", sa.BigInteger, nullable=False),
    sa.Index(None, "product_id"),
)
PLAIN_PRODUCTS = sa.Table(
    "plain_products",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
)


def plain_engine(path: Path) -> sa.Engine:
    """An SQLAlchemy engine on ``path`` with segmentry's durability (WAL, FULL)."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    METADATA.create_all(engine)
    return engine


def plain_rows(batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch of order documents as rows of the plain tables."""
    order_rows, line_rows = [], []
    for doc in batch:
        cents = [round(line["unit_price"] * 100) for line in doc["lines"]]
        order_rows.append({
            "id": doc["id"], "customer_id": doc.get("customer_id"),
            "placed_at": _micros(doc["placed_at"]), "status": doc.get("status", "placed"),
            "channel": doc.get("channel"),
            "total_cents": sum(c * line["quantity"] for c, line in zip(cents, doc["lines"],
                                                                       strict=True)),
        })  # fmt: skip
        line_rows.extend(
            {"order_id": doc["id"], "line": number, "product_id": line["product_id"],
             "quantity": line["quantity"], "unit_price_cents": cents[number]}
            for number, line in enumerate(doc["lines"])
        )  # fmt: skip
    return order_rows, line_rows


def _micros(iso: str) -> int:
    return int(np.datetime64(iso.rstrip("Z"), "us").astype(np.int64))


def _plain_writer(engine: sa.Engine) -> Writer:
    """Plain SQLAlchemy Core inserts of a batch's orders and lines in one transaction
    (the rows built from the documents inside the timing, as the engine builds its own)."""

    def write(batch: list[dict[str, Any]]) -> None:
        order_rows, line_rows = plain_rows(batch)
        with engine.begin() as conn:
            conn.execute(PLAIN_ORDERS.insert(), order_rows)
            conn.execute(PLAIN_LINES.insert(), line_rows)

    return write


# -- the order state in memory ---------------------------------------------------------------


@dataclass(frozen=True)
class OrderStateResult:
    lines: int
    orders: int
    array_bytes: int
    rss_bytes: int

    @property
    def array_bytes_per_line(self) -> float:
        return self.array_bytes / self.lines

    @property
    def rss_bytes_per_line(self) -> float:
        return self.rss_bytes / self.lines


def fill(made: OrderColumns, purchases: Purchases, *, products: int) -> None:
    """Put every generated order into ``purchases`` as the engine would (order seq = row
    + 1; a product seq is its number while it exists, and the last tenth of the product
    numbers do not exist yet)."""
    totals = made.totals_cents() * 10_000
    starts, product = made.line_start, made.product
    existing = products - products // 10
    for row in range(made.size):
        lines = [
            PurchaseLine(
                str(int(product[k])),
                int(product[k]) if product[k] <= existing else NO_SEQ,
                int(made.quantity[k]),
                int(made.price_cents[k]) * 10_000,
            )
            for k in range(int(starts[row]), int(starts[row + 1]))
        ]
        customer = int(made.customer[row])
        placed = int(made.placed_at[row])
        record = {
            "id": made.order_id(row), "customer_id": None if customer == GUEST else str(customer),
            "placed_at": placed, "status": STATUSES[int(made.status[row])],
            "channel": CHANNELS[int(made.channel[row])], "total": int(totals[row]) / 1e6,
        }  # fmt: skip
        purchases.put(
            row + 1,
            record=record,
            customer_seq=NO_SEQ if customer == GUEST else customer,
            placed_at=placed,
            total_micros=int(totals[row]),
            counted=bool(made.status[row] == 0),
            lines=lines,
        )


def run_state(lines: int) -> OrderStateResult:
    """The order state holding about ``lines`` generated lines (two lines an order)."""
    count = max(10, lines // 2)
    customers, products = max(1_000, count // 3), max(500, count // 50)
    made = history(count, customers=customers, products=products, seed=31)
    gc.collect()
    before = _resident_bytes()
    purchases = Purchases(Schema(Kind.ORDER), capacity=count + 1)
    fill(made, purchases, products=products)
    grown = _resident_bytes() - before
    return OrderStateResult(made.lines, made.size, purchases.array_bytes(), grown)


def _resident_bytes() -> int:
    """The process's resident memory (Linux); 0 where ``/proc`` is absent."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")
