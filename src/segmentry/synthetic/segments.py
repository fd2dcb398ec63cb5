"""Realistic segment rules for the synthetic shops: what marketers write.

Each rule has one to three conditions drawn from templates weighted the way
real segment lists look: platform and country filters, lifetime-value and
order-count thresholds, recency windows with relative times, tags, loyalty
tiers; products by brand, price band, category, discount and rating. Values
follow the generators' vocabularies and skew, so rules select realistic
shares of the shop (a few large segments, many small ones).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from segmentry.model.schema import Kind
from segmentry.synthetic import generate, vocabulary


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pick(rng: np.random.Generator, vocab: list[str], skew: float = 1.0) -> str:
    return vocab[int(generate.zipf_choice(rng, len(vocab), 1, skew)[0])]


Template = Callable[[np.random.Generator], str]
CITIES = [f"{s}{r}" for s in vocabulary.CITY_STEMS for r in vocabulary.CITY_ROOTS]
BRANDS = [f"{a}{b}" for a in ["Nor", "Vel", "Ast", "Bri", "Cal"] for b in ["ka", "ra", "tex", "mo"]]
CATEGORY_WORDS = list(vocabulary.CATEGORIES) + [
    s for t in vocabulary.CATEGORIES for s in vocabulary.CATEGORIES[t]
]


def _some(rng: np.random.Generator, vocab: list[str]) -> str:
    return ", ".join(_quote(v) for v in sorted({_pick(rng, vocab) for _ in range(3)}))


def _band(rng: np.random.Generator, attr: str, low_max: int, width: tuple[int, int]) -> str:
    low = int(rng.integers(0, low_max))
    return f"{attr} BETWEEN {low} AND {low + int(rng.integers(*width))}"


CUSTOMER_TEMPLATES: list[Template] = [
    lambda r: f"platform = {_quote(_pick(r, vocabulary.PLATFORMS))}",
    lambda r: f"country = {_quote(_pick(r, vocabulary.COUNTRIES))}",
    lambda r: f"country IN ({_some(r, vocabulary.COUNTRIES)})",
    lambda r: f"lifetime_value > {int(r.choice([0, 50, 100, 250, 500, 1000]) + r.integers(0, 50))}",
    lambda r: _band(r, "lifetime_value", 400, (50, 600)),
    lambda r: f"orders_count >= {int(r.integers(1, 12))}",
    lambda r: f"tags CONTAINS {_quote(_pick(r, vocabulary.CUSTOMER_TAGS))}",
    lambda r: f"tags CONTAINS ANY ({_some(r, vocabulary.CUSTOMER_TAGS)})",
    lambda r: f"last_order_at > -{int(r.choice([7, 14, 30, 60, 90, 180, 365]))}d",
    lambda r: f"last_order_at < -{int(r.choice([30, 90, 180, 365]))}d",
    lambda r: f"loyalty_status = {_quote(_pick(r, vocabulary.LOYALTY, 0.5))}",
    lambda r: f"app_installed = {'true' if r.random() < 0.8 else 'false'}",
    lambda r: f"city = {_quote(_pick(r, CITIES))}",
    lambda r: f"created_at > -{int(r.choice([30, 90, 365, 730]))}d",
]

PRODUCT_TEMPLATES: list[Template] = [
    lambda r: f"brand = {_quote(_pick(r, BRANDS))}",
    lambda r: f"price > {int(r.choice([10, 25, 50, 100, 200, 500]))}",
    lambda r: _band(r, "price", 150, (10, 200)),
    lambda r: f"categories CONTAINS {_quote(_pick(r, CATEGORY_WORDS, 0.8))}",
    lambda r: f"discount_percent > {int(r.choice([10, 20, 30, 50]))}",
    lambda r: "available = true",
    lambda r: f"rating_value >= {float(r.choice([3.0, 3.5, 4.0, 4.5]))}",
    lambda r: f"tags CONTAINS {_quote(_pick(r, vocabulary.PRODUCT_TAGS))}",
    lambda r: f"stock < {int(r.choice([1, 5, 10]))}",
    lambda r: f"created_at > -{int(r.choice([7, 30, 90]))}d",
]


def rules(kind: Kind, count: int, seed: int = 3) -> list[str]:
    """``count`` rule texts for segments of ``kind``."""
    rng = np.random.default_rng(seed)
    templates = CUSTOMER_TEMPLATES if kind is Kind.CUSTOMER else PRODUCT_TEMPLATES
    out = []
    for _ in range(count):
        size = int(rng.choice([1, 2, 2, 3]))
        parts = [templates[int(rng.integers(0, len(templates)))](rng) for _ in range(size)]
        text = " AND ".join(parts)
        if size > 1 and rng.random() < 0.15:
            text = f"NOT ({parts[0]}) AND " + " AND ".join(parts[1:])
        out.append(text)
    return out
