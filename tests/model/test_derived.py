"""The derived values against a computation in plain decimal arithmetic, over prices
as shops write them (up to two decimals) and over any finite numbers."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from segmentry.model.derived import average_order_value, average_order_values, discount_percent

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


def exactly(value: float) -> Decimal:
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def by_decimal(numerator: Decimal, denominator: Decimal) -> float | None:
    """The decimal way alone, as the module documents it (``None`` beyond a float)."""
    ratio = numerator / denominator
    try:
        found = float(ratio.quantize(HUNDREDTH, ROUND_HALF_UP))
    except InvalidOperation:
        found = float(ratio)
    return found if math.isfinite(found) else None


numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda x: round(x, 3)),
    st.integers(min_value=-(2**60), max_value=2**60),
    cents.map(float),
)


@settings(max_examples=500)
@given(value=numbers, orders=st.integers(min_value=-(2**60), max_value=2**60))
def test_any_average_is_the_decimal_one(value: float, orders: int) -> None:
    """Floating point answers first where it cannot differ from decimal: it never does,
    halves (0.005 over 1), negatives, zeros of either sign and huge numbers included."""
    found = average_order_value(value, orders)
    if orders == 0:
        assert found is None
    else:
        expected = by_decimal(exactly(value), Decimal(orders))
        assert found == expected
        assert str(found) == str(expected)  # -0.0 stays -0.0


@settings(max_examples=500)
@given(price=numbers, original=numbers)
def test_any_discount_is_the_decimal_one(price: float, original: float) -> None:
    found = discount_percent(price, original)
    if original == 0:
        assert found is None
    else:
        expected = by_decimal(100 * (exactly(original) - exactly(price)), exactly(original))
        assert found == expected
        assert str(found) == str(expected)  # -0.0 stays -0.0


def test_halves_round_away_from_zero_both_ways() -> None:
    assert average_order_value(0.01, 2) == 0.01  # 0.005
    assert average_order_value(-0.01, 2) == -0.01
    assert average_order_value(1.0, 8) == 0.13  # 0.125
    assert str(average_order_value(-0.001, 1)) == "-0.0"
    assert str(average_order_value(-0.0, 3)) == "-0.0"
    assert discount_percent(0.995, 1.0) == 0.5  # 0.5 exactly
    assert discount_percent(1.00005, 1.0) == -0.01  # -0.005


@given(
    k=st.integers(min_value=0, max_value=10**6),
    orders=st.integers(min_value=1, max_value=10**4),
    beside=st.sampled_from([-1, 0, 1]),
)
def test_averages_of_three_decimals_at_and_beside_halves(k: int, orders: int, beside: int) -> None:
    """Values in mills whose average is a half cent, or a mill away: where floating
    point may round the wrong way, so the decimal way must decide."""
    value = Decimal((2 * k + 1) * 5 * orders + beside) / 1000
    found = average_order_value(float(value), orders)
    assert str(found) == str(by_decimal(value, Decimal(orders)))


@given(
    j=st.integers(min_value=1, max_value=10**5),
    k=st.integers(min_value=0, max_value=9_999),
    beside=st.sampled_from([-1, 0, 1]),
)
def test_discounts_of_three_decimals_at_and_beside_halves(j: int, k: int, beside: int) -> None:
    original = Decimal(20 * j)
    price = original - Decimal(j * (2 * k + 1) + beside) / 1000
    found = discount_percent(float(price), float(original))
    assert str(found) == str(by_decimal(100 * (original - price), original))


@settings(max_examples=300)
@given(
    pairs=st.lists(
        st.tuples(
            st.one_of(st.none(), numbers, st.just(0.0), st.just(-0.0)),
            st.one_of(st.none(), st.integers(min_value=-(2**60), max_value=2**60), st.just(0)),
        ),
        max_size=40,
    )
)
def test_averages_of_a_column_are_those_of_each_pair(
    pairs: list[tuple[float | None, int | None]],
) -> None:
    """An import derives its customers' averages a column at a time: each equals the
    average of its pair alone, zeros' signs included, ``None`` without a value or orders."""
    found = average_order_values([v for v, _ in pairs], [o for _, o in pairs])
    expected = [None if v is None else average_order_value(v, o or 0) for v, o in pairs]
    assert list(map(str, found)) == list(map(str, expected))
