"""Realistic synthetic shops, generated with a fixed seed and vectorised.

Customers and products are produced as columns (numpy arrays) so that ten
million of them take seconds, with the skew of real shops: a few brands,
countries and tags account for most entities (Zipf), prices and lifetime values
are log-normal, a third of customers never ordered, and many attributes are
missing. ``documents`` turns any slice into the raw JSON-like values the API
and the library take; ``load_table`` fills a columnar table directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import ListColumn, TextColumn
from segmentry.model import derived
from segmentry.model.bitmaps import array_of
from segmentry.model.schema import Kind
from segmentry.model.temporal import to_micros
from segmentry.model.values import fold
from segmentry.synthetic.vocabulary import (
    CATEGORIES,
    CITY_ROOTS,
    CITY_STEMS,
    COUNTRIES,
    CUSTOMER_TAGS,
    DOMAINS,
    FIRST_NAMES,
    LANGUAGES,
    LAST_NAMES,
    LOYALTY,
    NOUNS,
    PLATFORMS,
    PRODUCT_TAGS,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY_US = 86_400_000_000
MISSING = -1  # code of a missing string in the generated columns
DERIVED = ("discount_percent", "average_order_value")  # computed by the engine, not sent
UNIQUE_TEXT_LIMIT = 2_000_000
"""Above this many entities, unique strings (emails, SKUs) are left out: each
costs a dictionary entry per entity in the columnar snapshot."""


def zipf_choice(rng: np.random.Generator, n: int, size: int, a: float = 1.1) -> np.ndarray:
    """Indices in ``range(n)`` with a Zipf-like skew (index 0 most frequent)."""
    weights = 1.0 / np.arange(1, n + 1) ** a
    return rng.choice(n, size=size, p=weights / weights.sum())


def with_missing(rng: np.random.Generator, codes: np.ndarray, share: float) -> np.ndarray:
    out = codes.astype(np.int32)
    out[rng.random(len(out)) < share] = MISSING
    return out


@dataclass
class Columns:
    """Generated entities of one kind, column by column.

    ``text`` columns are integer codes into a vocabulary (-1 for missing),
    ``number`` and ``time`` columns carry NaN / -1 for missing, ``lists`` are a
    bitmap of rows per vocabulary item.
    """

    kind: Kind
    size: int
    ids: np.ndarray
    text: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    number: dict[str, np.ndarray] = field(default_factory=dict)
    integer: dict[str, np.ndarray] = field(default_factory=dict)
    time: dict[str, np.ndarray] = field(default_factory=dict)  # microseconds, -1 missing
    date: dict[str, np.ndarray] = field(default_factory=dict)  # day numbers, INT32 min missing
    boolean: dict[str, np.ndarray] = field(default_factory=dict)  # int8 -1 missing
    lists: dict[str, tuple[list[BitMap], list[str]]] = field(default_factory=dict)

    def documents(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """Raw values of entities ``start`` to ``stop``, as a shop would send them."""
        stop = self.size if stop is None else min(stop, self.size)
        rows = range(start, stop)
        listed = {
            key: _row_lists(bitmaps, vocab, start, stop)
            for key, (bitmaps, vocab) in self.lists.items()
        }
        for row in rows:
            yield self._document(row, listed)

    def _document(self, row: int, listed: dict[str, dict[int, list[str]]]) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": str(self.ids[row])}
        for key, (codes, vocab) in self.text.items():
            if codes[row] != MISSING:
                doc[key] = vocab[codes[row]]
        for columns, show in self._scalar_columns():
            for key, values in columns.items():
                value = show(values[row])
                if value is not None and key not in DERIVED:
                    doc[key] = value
        for key, items in listed.items():
            if row in items:
                doc[key] = items[row]
        return doc

    def _scalar_columns(self) -> list[tuple[dict[str, np.ndarray], Any]]:
        """Each family of columns with how a value is shown (``None`` when missing)."""
        int32_min = np.iinfo(np.int32).min
        return [
            (self.number, lambda v: None if np.isnan(v) else float(v)),
            (self.integer, lambda v: None if v < 0 else int(v)),
            (self.time, lambda v: None if v < 0 else _iso(int(v))),
            (self.date, lambda v: None if v == int32_min else str(np.datetime64(int(v), "D"))),
            (self.boolean, lambda v: None if v < 0 else bool(v)),
        ]

    def load_table(self, table: ColumnarTable) -> None:
        """Fill a columnar table with these entities as rows 1 .. size (row = seq)."""
        n = self.size
        table.put(n, None)  # makes room for rows 0 .. n
        table.alive[1 : n + 1] = True
        for key, column in table.columns.items():
            self._load(key, column, table, n)

    def _load(self, key: str, column: Any, table: ColumnarTable, n: int) -> None:
        rows = slice(1, n + 1)
        if key == "id" and isinstance(column, TextColumn):
            base = len(column.values)
            column.values.extend(str(i).casefold() for i in self.ids)
            column.index.update((v, base + k) for k, v in enumerate(column.values[base:]))
            column.codes[rows] = np.arange(base, base + n, dtype=np.uint32)
        elif key in self.text and isinstance(column, TextColumn):
            codes, vocab = self.text[key]
            mapping = np.array([0] + [column.code(fold(v)) for v in vocab], dtype=np.uint32)
            column.codes[rows] = mapping[codes + 1]
        elif key in self.number:
            column.values[rows] = self.number[key]
        elif key in self.integer:
            values = self.integer[key].astype(np.float64)
            values[self.integer[key] < 0] = np.nan
            column.values[rows] = values
        elif key in self.time:
            values = self.time[key].copy()
            values[values < 0] = np.iinfo(np.int64).min
            column.values[rows] = values
        elif key in self.date:
            values = self.date[key].astype(np.int64)
            values[self.date[key] == np.iinfo(np.int32).min] = np.iinfo(np.int64).min
            column.values[rows] = values
        elif key in self.boolean:
            column.values[rows] = self.boolean[key]
        elif key in self.lists and isinstance(column, ListColumn):
            bitmaps, vocab = self.lists[key]
            for bitmap, item in zip(bitmaps, vocab, strict=True):
                shifted = BitMap(array_of(bitmap) + 1)
                column.items.setdefault(fold(item), BitMap()).update(shifted)
                column.present.update(shifted)
                column.counts[array_of(bitmap) + 1] += 1  # a row holds an item once


def _row_lists(
    bitmaps: list[BitMap], vocab: list[str], start: int, stop: int
) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for bitmap, item in zip(bitmaps, vocab, strict=True):
        for row in bitmap.iter_equal_or_larger(start):
            if row >= stop:
                break
            out.setdefault(row, []).append(item)
    return out


def _iso(micros: int) -> str:
    seconds = micros // 1_000_000
    return str(np.datetime64(seconds, "s")) + "Z"


def _times(rng: np.random.Generator, n: int, max_days_ago: float, now_us: int) -> np.ndarray:
    """Moments up to ``max_days_ago`` before now, in whole seconds (as documents print them)."""
    ago = (rng.random(n) * max_days_ago * 86_400).astype(np.int64) * 1_000_000
    return (now_us // 1_000_000) * 1_000_000 - ago


def _list_bitmaps(rng: np.random.Generator, n: int, vocab: list[str], mean: float) -> list[BitMap]:
    counts = rng.poisson(mean, n)
    owners = np.repeat(np.arange(n, dtype=np.uint32), counts)
    items = zipf_choice(rng, len(vocab), len(owners), 1.0)
    return [BitMap(owners[items == i]) for i in range(len(vocab))]


def customers(n: int, seed: int = 7, now: datetime = NOW) -> Columns:
    rng = np.random.default_rng(seed)
    now_us = to_micros(now)
    cols = Columns(Kind.CUSTOMER, n, np.arange(1, n + 1))
    platform = with_missing(rng, rng.choice(3, n, p=[0.45, 0.4, 0.15]), 0.05)
    cols.text["platform"] = (platform, PLATFORMS)
    cols.text["country"] = (with_missing(rng, zipf_choice(rng, len(COUNTRIES), n), 0.08), COUNTRIES)
    cities = [f"{s}{r}" for s in CITY_STEMS for r in CITY_ROOTS] * 5
    cities = [f"{c} {i // 100}" if i >= 100 else c for i, c in enumerate(cities)]
    cols.text["city"] = (with_missing(rng, zipf_choice(rng, len(cities), n, 0.9), 0.15), cities)
    cols.text["language"] = (with_missing(rng, zipf_choice(rng, len(LANGUAGES), n), 0.1), LANGUAGES)
    cols.text["first_name"] = (
        with_missing(rng, rng.integers(0, len(FIRST_NAMES), n), 0.1),
        FIRST_NAMES,
    )
    cols.text["last_name"] = (
        with_missing(rng, rng.integers(0, len(LAST_NAMES), n), 0.1),
        LAST_NAMES,
    )
    cols.text["loyalty_status"] = (
        with_missing(rng, rng.choice(3, n, p=[0.6, 0.3, 0.1]), 0.4),
        LOYALTY,
    )
    if n <= UNIQUE_TEXT_LIMIT:
        emails = [f"user{i}@{DOMAINS[i % len(DOMAINS)]}" for i in range(1, n + 1)]
        cols.text["email"] = (with_missing(rng, np.arange(n), 0.05), emails)
    buyer = rng.random(n) > 0.33
    orders = np.where(buyer, rng.geometric(0.25, n), 0)
    ltv = np.where(buyer, rng.lognormal(4.0, 1.2, n) * np.maximum(orders, 1) / 3, 0.0)
    cols.number["lifetime_value"] = np.round(ltv, 2)
    cols.integer["orders_count"] = orders
    ltv = cols.number["lifetime_value"]
    with np.errstate(invalid="ignore", divide="ignore"):
        average = np.where(orders > 0, ltv / orders, np.nan)
    cols.number["average_order_value"] = _exact_hundredths(
        average, lambda row: derived.average_order_value(float(ltv[row]), int(orders[row]))
    )
    created = _times(rng, n, 5 * 365, now_us)
    first = np.where(buyer, np.maximum(created, _times(rng, n, 3 * 365, now_us)), -1)
    last = np.where(buyer, first + ((now_us - first) * rng.random(n) ** 2).astype(np.int64), -1)
    last = last // 1_000_000 * 1_000_000
    cols.time["created_at"], cols.time["first_order_at"], cols.time["last_order_at"] = (
        created,
        first,
        last,
    )
    birth = (to_micros(now) // DAY_US - rng.integers(18 * 365, 80 * 365, n)).astype(np.int32)
    birth[rng.random(n) < 0.2] = np.iinfo(np.int32).min
    cols.date["birthday"] = birth
    mobile = platform < 2
    cols.boolean["app_installed"] = np.where(
        platform == MISSING, -1, (mobile & (rng.random(n) < 0.7)).astype(np.int8)
    )
    cols.boolean["accepts_marketing"] = with_missing(
        rng, (rng.random(n) < 0.6).astype(np.int8), 0.1
    ).astype(np.int8)
    cols.lists["tags"] = (_list_bitmaps(rng, n, CUSTOMER_TAGS, 1.5), CUSTOMER_TAGS)
    return cols


def products(n: int, seed: int = 11, now: datetime = NOW) -> Columns:
    rng = np.random.default_rng(seed)
    now_us = to_micros(now)
    cols = Columns(Kind.PRODUCT, n, np.arange(1, n + 1))
    brands = [
        f"{a}{b}"
        for a in ["Nor", "Vel", "Ast", "Bri", "Cal", "Dun", "Ely", "Fio", "Gra", "Hal"]
        for b in ["ka", "ra", "tex", "mo", "line", "co", "wear", "lab", "gen", "form"]
    ]
    brands = [f"{b} {i // 100}" if i >= 100 else b for i, b in enumerate(brands * 20)]
    brand = with_missing(rng, zipf_choice(rng, len(brands), n), 0.02)
    cols.text["brand"] = (brand, brands)
    top = list(CATEGORIES)
    subs = [s for t in top for s in CATEGORIES[t]]
    top_code = zipf_choice(rng, len(top), n, 0.8)
    sub_code = np.array([subs.index(CATEGORIES[top[t]][0]) for t in range(len(top))])[top_code]
    sub_code = (
        sub_code + rng.integers(0, 4, n) % np.array([len(CATEGORIES[t]) for t in top])[top_code]
    )
    cat_bitmaps = [BitMap(np.flatnonzero(top_code == i).astype(np.uint32)) for i in range(len(top))]
    cat_bitmaps += [
        BitMap(np.flatnonzero(sub_code == i).astype(np.uint32)) for i in range(len(subs))
    ]
    cols.lists["categories"] = (cat_bitmaps, top + subs)
    cols.lists["tags"] = (_list_bitmaps(rng, n, PRODUCT_TAGS, 1.0), PRODUCT_TAGS)
    price = np.round(rng.lognormal(3.4, 1.0, n), 2) + 0.99
    discounted = rng.random(n) < 0.3
    original = np.where(discounted, np.round(price / (1 - rng.uniform(0.05, 0.6, n)), 2), price)
    original[rng.random(n) < 0.2] = np.nan
    cols.number["price"], cols.number["original_price"] = price, original
    cols.number["discount_percent"] = _exact_hundredths(
        np.where(np.isnan(original), np.nan, 100 * (original - price) / original),
        lambda row: derived.discount_percent(float(price[row]), float(original[row])),
    )
    rating = np.round(rng.uniform(1, 5, n), 1)
    rating[rng.random(n) < 0.3] = np.nan
    cols.number["rating_value"] = rating
    cols.integer["rating_count"] = np.where(np.isnan(rating), -1, rng.poisson(40, n))
    stock = rng.poisson(25, n)
    stock[rng.random(n) < 0.1] = 0
    cols.integer["stock"] = stock
    cols.boolean["available"] = (stock > 0).astype(np.int8)
    cols.text["name"] = (
        rng.integers(0, len(NOUNS) * 50, n).astype(np.int32),
        [f"{NOUNS[i % len(NOUNS)]} {i // len(NOUNS)}" for i in range(len(NOUNS) * 50)],
    )
    if n <= UNIQUE_TEXT_LIMIT:
        cols.text["sku"] = (np.arange(n, dtype=np.int32), [f"SK-{i:07d}" for i in range(1, n + 1)])
    cols.time["created_at"] = _times(rng, n, 4 * 365, now_us)
    cols.time["published_at"] = np.where(rng.random(n) < 0.9, cols.time["created_at"] + DAY_US, -1)
    return cols


def columns(kind: Kind, n: int, seed: int | None = None) -> Columns:
    if kind is Kind.CUSTOMER:
        return customers(n, 7 if seed is None else seed)
    return products(n, 11 if seed is None else seed)


def _exact_hundredths(ratio: np.ndarray, exact: Callable[[int], float | None]) -> np.ndarray:
    """The engine's derived value for every row: ``ratio`` (the float estimate, NaN where
    there is none) rounded to the hundredth agrees with the decimal computation except
    near a tie between two hundredths, so only those rows ask ``exact(row)``."""
    out = np.round(ratio, 2)
    scaled = np.abs(ratio) * 100
    near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for row in np.flatnonzero(near_tie & np.isfinite(ratio)):
        value = exact(int(row))
        out[row] = np.nan if value is None else value
    return out
