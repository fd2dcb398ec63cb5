"""The derived values against a computation in plain decimal arithmetic, over prices
as shops write them (up to two decimals) and over any finite numbers."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from segmentry.model.derived import average_order_value, discount_percent

HUNDREDTH = Decimal("0.01")
cents = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n) / 100)


def by_hand(numerator: Decimal, denominator: Decimal) -> float:
    return float((numerator / denominator).quantize(HUNDREDTH, ROUND_HALF_UP))


@given(price=cents, original=cents)
def test_a_discount_is_the_decimal_one_to_the_hundredth(price: Decimal, original: Decimal) -> None:
    found = discount_percent(float(price), float(original))
    assert found == by_hand(100 * (original - price), original)


@given(value=cents, orders=st.integers(min_value=1, max_value=10**6))
def test_an_average_order_value_is_the_decimal_one_to_the_cent(value: Decimal, orders: int) -> None:
    assert average_order_value(float(value), orders) == by_hand(value, Decimal(orders))


@given(price=st.floats(allow_nan=False, allow_infinity=False),
       original=st.floats(allow_nan=False, allow_infinity=False))  # fmt: skip
def test_any_finite_prices_give_a_finite_discount_or_none(price: float, original: float) -> None:
    found = discount_percent(price, original)
    if original == 0:
        assert found is None
    else:
        assert found is None or math.isfinite(found)


def test_without_an_original_price_or_orders_there_is_no_value() -> None:
    assert discount_percent(10.0, 0) is None
    assert average_order_value(10.0, 0) is None
    assert discount_percent(209.30, 299.00) == 30
    assert discount_percent(0.01, 0.03) == 66.67  # 66.666... rounds up
    assert discount_percent(1.0, 8.0) == 87.5
    assert discount_percent(0.05, 0.2) == 75
    assert discount_percent(300.0, 200.0) == -50
