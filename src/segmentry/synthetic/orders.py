"""Generated orders for the demo shop, the tests and the benchmarks, vectorised.

A shop's order history over the two years before ``now``, with the shape of
real ones: most customers never order or order once, repeat buyers come back
(each buyer has a weight drawn log-normal, so a few order often), a few big
spenders (one buyer in 200) order often and in quantity, guest checkouts carry
no customer, and the days follow the seasons (a peak in late November and
December, a smaller one in early summer, a slow January; the calendar of the
two years before the generator's ``NOW``, shifted to the moment asked for). Products are chosen
with a Zipf skew, so a few sell most; each line's unit price is the product's
price. Most orders are placed; some are cancelled or refunded.

``documents`` gives any slice of the orders in the API's shape, ordered by
``placed_at`` (the ids ``o0000001``… follow it), as a shop would send them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from segmentry.model.temporal import to_micros
from segmentry.synthetic.generate import DAY_US, NOW, zipf_choice

DAYS = 2 * 365
CHANNELS = ["web", "app", "store"]
STATUSES = ["placed", "cancelled", "refunded"]
GUEST = 0
"""The customer number of a guest order (customers are numbered from 1)."""
BUYERS = 0.4  # the share of customers who ever order
BIG_SPENDERS = 0.005  # of the buyers
GUESTS = 0.08  # of the orders


@dataclass(frozen=True)
class OrderColumns:
    """Orders column by column, in ``placed_at`` order; line ``k`` of order ``i`` is
    row ``line_start[i] + k`` of the line columns."""

    customer: np.ndarray  # int64: the customer's number, GUEST for a guest
    placed_at: np.ndarray  # int64 microseconds, whole seconds
    status: np.ndarray  # int8 index into STATUSES
    channel: np.ndarray  # int8 index into CHANNELS
    line_start: np.ndarray  # int64, one more than there are orders
    product: np.ndarray  # int64: the product's number, from 1
    quantity: np.ndarray  # int64 ≥ 1
    price_cents: np.ndarray  # int64

    @property
    def size(self) -> int:
        return len(self.customer)

    @property
    def lines(self) -> int:
        return len(self.product)

    def order_id(self, row: int) -> str:
        return f"o{row + 1:07d}"

    def documents(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """Orders ``start`` to ``stop`` as a shop would send them."""
        stop = self.size if stop is None else min(stop, self.size)
        for row in range(start, stop):
            yield self.document(row)

    def document(self, row: int) -> dict[str, Any]:
        first, last = int(self.line_start[row]), int(self.line_start[row + 1])
        lines = [
            {
                "product_id": str(int(self.product[k])),
                "quantity": int(self.quantity[k]),
                "unit_price": int(self.price_cents[k]) / 100,
            }
            for k in range(first, last)
        ]
        doc: dict[str, Any] = {
            "id": self.order_id(row),
            "placed_at": _iso(int(self.placed_at[row])),
            "channel": CHANNELS[int(self.channel[row])],
            "lines": lines,
        }
        if self.customer[row] != GUEST:
            doc["customer_id"] = str(int(self.customer[row]))
        if self.status[row]:
            doc["status"] = STATUSES[int(self.status[row])]
        return doc

    def totals_cents(self) -> np.ndarray:
        """Each order's total in cents (the sum of its lines)."""
        amounts = self.quantity * self.price_cents
        return np.add.reduceat(amounts, self.line_start[:-1]) if self.lines else amounts

    def spent_cents(self, customers: int) -> np.ndarray:
        """What each customer (by number, index 0 the guests) spent in placed orders."""
        placed = self.status == 0
        return np.bincount(
            self.customer[placed], weights=self.totals_cents()[placed], minlength=customers + 1
        )


def orders(
    count: int,
    *,
    customers: int,
    prices: np.ndarray,
    seed: int = 13,
    now: datetime = NOW,
) -> OrderColumns:
    """``count`` orders of customers numbered 1 to ``customers`` buying the products
    numbered 1 to ``len(prices)`` (``prices[k]`` is product ``k + 1``'s unit price)."""
    rng = np.random.default_rng(seed)
    customer, big = _buyers(rng, count, customers)
    placed_at = np.sort(_moments(rng, count, to_micros(now)))
    per_order = np.minimum(rng.geometric(0.5, count), 8)
    line_start = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(per_order, out=line_start[1:])
    lines = int(line_start[-1])
    popular = rng.permutation(len(prices))  # which products are the bestsellers
    product = popular[zipf_choice(rng, len(prices), lines, 1.05)].astype(np.int64) + 1
    quantity = np.minimum(rng.geometric(0.7, lines), 12).astype(np.int64)
    bulk = np.repeat(big, per_order)
    quantity[bulk] *= rng.integers(2, 6, int(bulk.sum()))
    price_cents = np.round(np.asarray(prices, dtype=np.float64)[product - 1] * 100)
    return OrderColumns(
        customer=customer,
        placed_at=placed_at,
        status=rng.choice(3, count, p=[0.94, 0.04, 0.02]).astype(np.int8),
        channel=rng.choice(3, count, p=[0.55, 0.35, 0.10]).astype(np.int8),
        line_start=line_start,
        product=product,
        quantity=quantity,
        price_cents=price_cents.astype(np.int64),
    )


def _buyers(rng: np.random.Generator, count: int, customers: int) -> tuple[np.ndarray, np.ndarray]:
    """Each order's customer (or GUEST), and whether it is a big spender's."""
    buyers = np.flatnonzero(rng.random(customers) < BUYERS) + 1
    if len(buyers) == 0:
        buyers = np.arange(1, customers + 1)
    weight = rng.lognormal(0.0, 1.0, len(buyers))
    big = rng.random(len(buyers)) < BIG_SPENDERS
    weight[big] *= 15
    pick = rng.choice(len(buyers), count, p=weight / weight.sum())
    guest = rng.random(count) < GUESTS
    customer = np.where(guest, GUEST, buyers[pick]).astype(np.int64)
    return customer, big[pick] & ~guest


def _moments(rng: np.random.Generator, count: int, now_us: int) -> np.ndarray:
    """Moments in the ``DAYS`` days before now (whole seconds), denser in the seasons'
    peaks. The seasons are those of the days before the generator's ``NOW``, shifted
    to ``now`` with the rest, so a shop built at any moment is the same shop."""
    now_s = now_us // 1_000_000
    calendar = to_micros(NOW) // DAY_US
    days = (calendar - np.arange(DAYS, dtype=np.int64)).astype("datetime64[D]")
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64)
    weight = (
        1.0
        + 1.5 * np.exp(-(((day_of_year - 340) / 18.0) ** 2))  # Black Friday to Christmas
        + 0.4 * np.exp(-(((day_of_year - 170) / 25.0) ** 2))  # summer sales
        - 0.3 * np.exp(-(((day_of_year - 15) / 12.0) ** 2))  # a slow January
    ) * (1.0 + 0.3 * (1 - np.arange(DAYS) / DAYS))  # the shop grew
    ago = rng.choice(DAYS, count, p=weight / weight.sum()) * 86_400
    return (now_s - ago - rng.integers(0, 86_400, count)) * 1_000_000


def _iso(micros: int) -> str:
    return str(np.datetime64(micros // 1_000_000, "s")) + "Z"
