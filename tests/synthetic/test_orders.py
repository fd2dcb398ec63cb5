"""The generated order history has the shape the demo and the benchmarks rely on
(repeat buyers, a few big spenders, guests, seasons), is the same for a seed, and
its totals are what the engine derives from the orders it is sent."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from segmentry.engine.segmentry import Segmentry
from segmentry.synthetic import generate
from segmentry.synthetic.orders import GUEST, OrderColumns, orders

CUSTOMERS = 5_000


def history(seed: int = 13, count: int = 20_000) -> OrderColumns:
    prices = generate.products(2_000).number["price"]
    return orders(count, customers=CUSTOMERS, prices=prices, seed=seed)


def test_a_seed_gives_the_same_history_and_another_seed_another() -> None:
    first, again, other = history(), history(), history(seed=14)
    assert [first.document(r) for r in range(50)] == [again.document(r) for r in range(50)]
    assert np.array_equal(first.product, again.product)
    assert not np.array_equal(first.customer, other.customer)


def test_repeat_buyers_big_spenders_and_guests() -> None:
    made = history()
    per_customer = np.bincount(made.customer[made.customer != GUEST], minlength=CUSTOMERS + 1)
    buyers = per_customer[per_customer > 0]
    assert 0.25 * CUSTOMERS < len(buyers) < 0.45 * CUSTOMERS  # most customers never order
    assert (buyers >= 5).sum() > 0.05 * len(buyers)  # repeat buyers
    spent = made.spent_cents(CUSTOMERS)[1:]
    assert np.sort(spent)[-1] > 20 * np.median(spent[spent > 0])  # a few big spenders
    assert 0.05 < (made.customer == GUEST).mean() < 0.11
    assert set(np.unique(made.status)) == {0, 1, 2}  # placed, cancelled, refunded
    assert made.quantity.min() >= 1
    assert np.all(np.diff(made.line_start) >= 1)  # every order has a line


def test_orders_follow_the_seasons_and_stay_in_the_two_years_before_now() -> None:
    made = history()
    days = (made.placed_at // generate.DAY_US).astype("datetime64[D]")
    months = (days.astype("datetime64[M]").astype(np.int64) % 12) + 1
    per_month = np.bincount(months, minlength=13)[1:]
    assert per_month[11] > 1.5 * per_month[1]  # December against February
    now = generate.NOW.timestamp() * 1_000_000
    assert made.placed_at.max() <= now
    assert made.placed_at.min() > now - 731 * generate.DAY_US
    assert np.all(np.diff(made.placed_at) >= 0)  # ids follow placed_at


def test_the_engine_derives_the_generated_totals() -> None:
    made = history(count=300)
    with Segmentry("sqlite://", clock=lambda: generate.NOW) as segmentry:
        shop = segmentry.default_shop()
        assert shop.put_orders(list(made.documents())) == 300
        spent = made.spent_cents(CUSTOMERS)
        counts = np.bincount(made.customer[made.status == 0], minlength=CUSTOMERS + 1)
        for number in np.unique(made.customer[made.customer != GUEST])[:40]:
            values = shop.get("customer", str(number)).attributes
            assert values["orders_count"] == counts[number]
            expected = Decimal(int(spent[number])) / 100
            assert Decimal(repr(values["lifetime_value"])) == expected, number
