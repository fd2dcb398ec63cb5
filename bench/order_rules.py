"""Behaviour segment rules for the order benchmarks, each with its stand-in and its SQL.

A template gives three spellings of one segment:

- ``behaviour``: the rule with behaviour functions (docs/behaviour.md), what the
  benchmarks run once the language reads them;
- ``stand_in``: an attribute rule on the customers' and products' order-derived
  values (``orders_count``, ``lifetime_value``, ``last_order_at``, ``units_sold``)
  that an order moves the same way, run while the language does not;
- ``sql``: the same members computed afresh by ``GROUP BY`` over the plain order
  tables of :mod:`bench.orders` (``plain_orders``, ``plain_lines``,
  ``plain_products``), the peer of ``behaviour_update_vs_recompute``; ``:since``
  is bound to the window's start in microseconds.

Product segments ``pseg0`` .. are attribute rules on price (``price > X``), so the
SQL of ``purchased(IN SEGMENT 'psegK')`` joins on the same price test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from segmentry.errors import RuleError
from segmentry.model.schema import Kind
from segmentry.rules.parser import parse

PRODUCT_SEGMENT_PRICES = (25, 50, 100, 200)
DAYS = (7, 30, 90, 365)
CHANNELS = ("web", "app", "store")


@dataclass(frozen=True)
class OrderRule:
    kind: Kind
    behaviour: str
    stand_in: str
    sql: str
    days: int
    """The window, in days before now: ``:since`` of the SQL."""

    def since_micros(self, now: datetime) -> int:
        return int((now - timedelta(days=self.days)).timestamp()) * 1_000_000


def behaviour_parses() -> bool:
    """Whether the rule language reads behaviour functions (else the stand-ins run)."""
    try:
        parse("orders_placed(since: -30d) >= 1 AND purchased(IN SEGMENT 'x')")
    except RuleError:
        return False
    return True


def product_segments() -> list[tuple[str, str]]:
    """The product segments the behaviour rules name: (code, rule)."""
    return [(f"pseg{k}", f"price > {p}") for k, p in enumerate(PRODUCT_SEGMENT_PRICES)]


PLACED = "o.status = 'placed' AND o.placed_at >= :since"


def _orders_placed(rng: np.random.Generator) -> OrderRule:
    days, least = int(rng.choice(DAYS)), int(rng.integers(1, 4))
    return OrderRule(
        Kind.CUSTOMER,
        f"orders_placed(since: -{days}d) >= {least}",
        f"last_order_at > -{days}d AND orders_count >= {least}",
        f"SELECT o.customer_id FROM plain_orders o WHERE {PLACED} AND o.customer_id IS NOT NULL "
        f"GROUP BY o.customer_id HAVING count(*) >= {least}",
        days,
    )


def _amount_spent(rng: np.random.Generator) -> OrderRule:
    days, over = int(rng.choice(DAYS[1:])), int(rng.choice([50, 100, 250, 500, 1000]))
    return OrderRule(
        Kind.CUSTOMER,
        f"amount_spent(since: -{days}d) > {over}",
        f"lifetime_value > {over} AND last_order_at > -{days}d",
        f"SELECT o.customer_id FROM plain_orders o WHERE {PLACED} AND o.customer_id IS NOT NULL "
        f"GROUP BY o.customer_id HAVING sum(o.total_cents) > {over * 100}",
        days,
    )


def _channel(rng: np.random.Generator) -> OrderRule:
    days, channel = int(rng.choice(DAYS)), str(rng.choice(CHANNELS))
    return OrderRule(
        Kind.CUSTOMER,
        f"orders_placed(channel = '{channel}', since: -{days}d) >= 1",
        f"last_order_at > -{days}d",
        f"SELECT o.customer_id FROM plain_orders o WHERE {PLACED} AND o.customer_id IS NOT NULL "
        f"AND o.channel = '{channel}' GROUP BY o.customer_id",
        days,
    )


def _purchased(rng: np.random.Generator) -> OrderRule:
    days, k = int(rng.choice(DAYS)), int(rng.integers(0, len(PRODUCT_SEGMENT_PRICES)))
    price = PRODUCT_SEGMENT_PRICES[k]
    return OrderRule(
        Kind.CUSTOMER,
        f"purchased(IN SEGMENT 'pseg{k}', since: -{days}d)",
        f"last_order_at > -{days}d AND average_order_value > {price}",
        "SELECT o.customer_id FROM plain_orders o JOIN plain_lines l ON l.order_id = o.id "
        f"JOIN plain_products p ON p.id = l.product_id WHERE {PLACED} "
        f"AND o.customer_id IS NOT NULL AND p.price_cents > {price * 100} GROUP BY o.customer_id",
        days,
    )


def _units_sold(rng: np.random.Generator) -> OrderRule:
    days, over = int(rng.choice(DAYS)), int(rng.choice([2, 5, 10, 25]))
    return OrderRule(
        Kind.PRODUCT,
        f"units_sold(since: -{days}d) > {over}",
        f"units_sold > {over} AND last_sold_at > -{days}d",
        "SELECT l.product_id FROM plain_lines l JOIN plain_orders o ON o.id = l.order_id "
        f"WHERE {PLACED} GROUP BY l.product_id HAVING sum(l.quantity) > {over}",
        days,
    )


CUSTOMER_TEMPLATES = (_orders_placed, _amount_spent, _channel, _purchased)


def rules(count: int, seed: int = 17) -> list[OrderRule]:
    """``count`` behaviour segments: nine customer segments in ten, the rest product."""
    rng = np.random.default_rng(seed)
    out = []
    for number in range(count):
        if number % 10 == 9:
            out.append(_units_sold(rng))
        else:
            out.append(CUSTOMER_TEMPLATES[int(rng.integers(0, len(CUSTOMER_TEMPLATES)))](rng))
    return out
