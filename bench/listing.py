"""``listing_vs_preview``: the first page of a listing with a selective rule against a
preview of the same rule, on N customers stored in an SQLite file.

The rule, ``lifetime_value > T``, selects the 25 customers of highest lifetime
value: fewer than a page, so every way must look at every customer. Timed, each
the median of warm runs in the same process on the same file:

- the listing (``Shop.entities(kind, rule, limit=50)``: the columnar snapshot,
  then the page's documents read by seq), the figure's numerator;
- a preview of the rule (``Shop.preview``: the count and a sample of ten ids),
  the denominator; the target is ≤ 2;
- the listing as it was answered before, the rule as a SQL clause over the stored
  records paged by the database (``listings.list_entities_sql``), reported as
  ``listing_sql_ms`` beside ``listing_ms``;
- SQLite's own ``SELECT … WHERE json_extract(doc, '$.lifetime_value') > T ORDER BY
  seq LIMIT 51`` on the stored documents of the same rows, hand-written, through
  the standard library's ``sqlite3``: ``listing_vs_sqlite_json`` is its time over
  the listing's.

The file is reopened before anything is timed, as ``segmentry serve`` finds a shop
built by the demo or an import. The four answers are checked equal first; the
garbage collector is paused while timing, as in the other benchmarks.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.timing import collector_paused, median_seconds
from segmentry.engine import listings
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.model.schema import Kind
from segmentry.synthetic import generate, vocabulary

PAGE = 50
SELECTED = 25
BATCH = 5_000


@dataclass(frozen=True)
class ListingResult:
    customers: int
    rule: str
    listing_s: float
    preview_s: float
    sql_listing_s: float
    sqlite_json_s: float

    @property
    def vs_preview(self) -> float:
        return self.listing_s / self.preview_s

    @property
    def vs_sqlite_json(self) -> float:
        return self.sqlite_json_s / self.listing_s


def _load(shop: Shop, customers: int) -> str:
    """Store the customers, a batch at a time; the rule that selects the ``SELECTED``
    most valuable."""
    shop.declare_attribute("customer", "loyalty_status", "enum", values=vocabulary.LOYALTY)
    columns = generate.customers(customers)
    values: list[float] = []
    for start in range(0, customers, BATCH):
        docs = list(columns.documents(start, min(customers, start + BATCH)))
        shop.upsert_many("customer", docs)
        values.extend(d.get("lifetime_value", 0.0) for d in docs)
    ranked = np.sort(np.array(values, dtype=np.float64))
    return f"lifetime_value > {float(ranked[-SELECTED - 1])!r}"


def _sqlite_json(path: Path, tenant_id: int, threshold: float) -> list[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id, doc FROM entities WHERE tenant_id = ? AND kind = 'customer' "
            "AND doc IS NOT NULL AND json_extract(doc, '$.lifetime_value') > ? "
            "ORDER BY seq LIMIT ?",
            (tenant_id, threshold, PAGE + 1),
        ).fetchall()
    return [entity_id for entity_id, _ in rows]


def run(customers: int) -> ListingResult:
    with tempfile.TemporaryDirectory(prefix="segmentry-bench-") as folder:
        path = Path(folder) / "listing.db"
        with Segmentry(f"sqlite:///{path}") as loading:
            tenant_id = loading.tenants()[0].tenant_id
            rule = _load(loading.shop(tenant_id), customers)
        # Timed on the file reopened, as `segmentry serve` finds a shop the demo or an
        # import built: right after the load, the gigabyte of WAL it left behind (not yet
        # checkpointed) made every page read search it, and the listing reads more rows.
        with Segmentry(f"sqlite:///{path}") as segmentry:
            return _timed(segmentry, path, tenant_id, rule, customers)


def _timed(
    segmentry: Segmentry, path: Path, tenant_id: int, rule: str, customers: int
) -> ListingResult:
    shop = segmentry.shop(tenant_id)
    threshold = float(rule.rsplit(" ", 1)[1])

    def listing() -> list[str]:
        return [e.id for e in shop.entities("customer", rule, limit=PAGE).items]

    def sql_listing() -> list[str]:
        with segmentry.view(tenant_id) as view:
            page = listings.list_entities_sql(view, Kind.CUSTOMER, rule, PAGE, None)
        return [e.id for e in page.items]

    def preview() -> list[str]:
        return shop.preview("customer", rule).sample

    found = listing()
    if len(found) != SELECTED or found != sql_listing():
        raise RuntimeError(f"the listings of {rule} differ or miss: {found}")
    if found != _sqlite_json(path, tenant_id, threshold) or preview() != found[:10]:
        raise RuntimeError(f"SQLite's SELECT or the preview of {rule} differs")
    with collector_paused():  # a full collection over a million customers' state
        return ListingResult(  # would be charged to whichever way it fell in
            customers=customers,
            rule=rule,
            listing_s=median_seconds(listing, repeat=7, warmup=2),
            preview_s=median_seconds(preview, repeat=7, warmup=2),
            sql_listing_s=median_seconds(sql_listing, repeat=3, warmup=1),
            sqlite_json_s=median_seconds(
                lambda: _sqlite_json(path, tenant_id, threshold), repeat=3, warmup=1
            ),
        )
