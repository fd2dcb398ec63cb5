"""The derived attributes, exact as a person computes them (SPEC §2).

A person computing the discount of a product at 209.30 whose original price is
299.00 gets 30%: 100 * 89.70 / 299.00 is exactly 30. In binary floating point the
same sum gives 29.999999999999996, and the product falls out of
``discount_percent >= 30``. So each value is read back as the decimal it was sent
as (a float's shortest spelling is that decimal), the ratio is computed in decimal,
rounded half away from zero to the hundredth, and only then stored as the nearest
float; every evaluator then compares the same number.

The ratio is computed to ``PRECISION`` digits before it is rounded to the hundredth.
That second rounding cannot go wrong for numbers of up to 17 significant digits (all
a float holds) while the ratio's whole part has at most 20 digits: the expansion of
a/b with b below 10^17 cannot hold a run of 18 nines or zeros without ending there.

Every customer of an import has its average computed, and the decimal way costs
microseconds, so two exact shortcuts come first. Money sent in whole cents (at most
two decimals, as shops write it) is a whole number of cents, so the ratio in
hundredths is a fraction of integers, rounded by integer division. Otherwise the
ratio is taken in floating point with a bound on how far that can be from the
decimal one: the result is the decimal's whenever the ratio in hundredths is farther
than that bound from a half (where rounding could go either way). Only the rest,
and zeros (whose sign the decimal keeps), take the decimal way.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

import numpy as np

PRECISION = 40
EXACT = Context(prec=PRECISION, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
HUNDREDTH = Decimal("0.01")


def discount_percent(price: float, original: float) -> float | None:
    """100 * (original - price) / original, to the hundredth of a percent; ``None``
    without an original price (or one of 0)."""
    if not original:
        return None
    cents = _cents(original), _cents(price)
    if cents[0] is not None and cents[1] is not None:
        return _half_away(10_000 * (cents[0] - cents[1]), cents[0])
    if type(price) in QUICK and type(original) in QUICK and max(abs(price), abs(original)) < LARGE:
        # Each number is within half an ulp of the decimal it was sent as (relative
        # 2^-53 of it) and each of the three operations adds as much of its result.
        hundredths = 10_000 * (original - price) / original
        error = (10_000 * (abs(original) + abs(price)) / abs(original) + abs(hundredths)) * ERROR
        found = _rounded(hundredths, error)
        if found is not None:
            return found
    sent = _decimal(original)
    return _hundredths(
        EXACT.divide(EXACT.multiply(100, EXACT.subtract(sent, _decimal(price))), sent)
    )


def average_order_value(lifetime_value: float, orders_count: int) -> float | None:
    """Lifetime value / orders count, to the cent; ``None`` without orders."""
    if not orders_count:
        return None
    if type(orders_count) is not int or abs(orders_count) >= LARGE:
        return _hundredths(EXACT.divide(_decimal(lifetime_value), Decimal(orders_count)))
    cents = _cents(lifetime_value)
    if cents is not None:
        return _half_away(cents, orders_count)
    if type(lifetime_value) in QUICK and abs(lifetime_value) < LARGE:
        # As for the discount: the value and the two operations, 2^-53 each.
        hundredths = 100 * lifetime_value / orders_count
        found = _rounded(hundredths, abs(hundredths) * ERROR)
        if found is not None:
            return found
    return _hundredths(EXACT.divide(_decimal(lifetime_value), Decimal(orders_count)))


QUICK = (float, int)
LARGE = 2.0**52
"""Below this, a number (or a count) is held exactly by a float if it is an int."""
ERROR = 1e-15
"""Relative error bound of a floating-point ratio: four roundings of 2^-53 each
(1.1e-16), with room to spare."""


WHOLE_CENTS = 10**15
"""Below this many cents, a number of at most two decimals has no more than 15
significant digits, so it is the float nearest to no other such number: if it is
the float nearest to a whole number of cents, it was sent as that number."""


def _cents(value: float | int) -> int | None:
    """The number of cents ``value`` was sent as, if it was sent in whole cents (and is
    not 0, whose sign a float keeps and cents do not); else ``None``."""
    if type(value) is int:
        return 100 * value if 0 < abs(value) < WHOLE_CENTS // 100 else None
    if type(value) is not float or not 0 < abs(value) < WHOLE_CENTS // 100:
        return None
    cents = round(value * 100)
    return cents if cents / 100 == value else None


def _half_away(numerator: int, denominator: int) -> float:
    """``numerator / denominator`` hundredths rounded half away from zero, as a float:
    exact, in integers; a zero keeps the sign the decimal quotient gives it."""
    whole, rest = divmod(abs(numerator), abs(denominator))
    if 2 * rest >= abs(denominator):
        whole += 1
    value = whole / 100  # int / int: the float nearest the decimal
    return -value if (numerator < 0) != (denominator < 0) else value


def _rounded(hundredths: float, error: float) -> float | None:
    """``hundredths`` (the ratio times 100, within ``error`` of the decimal one)
    rounded half away from zero to a whole number, over 100: the decimal result, or
    ``None`` when the two could round differently (the ratio is within ``error`` of a
    half), for a zero (whose sign the decimal keeps) and beyond 2^52 hundredths."""
    size = abs(hundredths)
    if not 0 < size < LARGE:
        return None
    whole = math.floor(size)
    part = size - whole  # exact: the bits of size below the point
    if abs(part - 0.5) <= error:
        return None
    value = (int(whole) + (part > 0.5)) / 100  # int / int: the float nearest the decimal
    return value if hundredths > 0 else -value


def _decimal(value: float) -> Decimal:
    """The decimal a number was sent as: a float's ``repr`` is the shortest decimal
    that reads back as it, which is what was written when it had at most 15 digits."""
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _hundredths(ratio: Decimal) -> float | None:
    """``ratio`` rounded half away from zero to the hundredth, as the nearest float;
    ``None`` when no float holds it (a ratio over a denormal price)."""
    try:
        rounded = ratio.quantize(HUNDREDTH, context=EXACT)
    except InvalidOperation:
        rounded = ratio  # so large that its hundredths are beyond a float anyway
    value = float(rounded)
    return value if value not in (float("inf"), float("-inf")) else None


def average_order_values(values: list[Any], orders: list[Any]) -> list[float | None]:
    """:func:`average_order_value` of each pair (``None`` where either is missing),
    equal to it pair by pair. An import computes thousands: the pairs in whole cents
    with a whole count (as shops send them) are divided in integers for the whole
    column at once, the others one by one."""
    if not _plain_columns(values, orders):
        return [_one_average(v, o) for v, o in zip(values, orders, strict=True)]
    value = np.array(values, dtype=np.float64)  # None is NaN
    count = np.array(orders, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN for None; huge values are not quick
        cents = np.rint(value * 100)  # as ``round`` (half to even), as in ``_cents``
        size = np.abs(value)
        quick = (
            (size > 0) & (size < WHOLE_CENTS // 100) & (cents / 100 == value)
            & (count != 0) & (np.abs(count) < LARGE)
        )  # fmt: skip
    numerator, denominator = cents[quick].astype(np.int64), count[quick].astype(np.int64)
    whole, rest = np.divmod(np.abs(numerator), np.abs(denominator))
    whole += 2 * rest >= np.abs(denominator)
    found = whole / 100  # int64 below 2**53 over 100: the float nearest the decimal, as int / int
    found[(numerator < 0) != (denominator < 0)] *= -1
    out: list[float | None] = [None] * len(values)
    for at, average in zip(np.flatnonzero(quick).tolist(), found.tolist(), strict=True):
        out[at] = average
    for at in np.flatnonzero(~quick & ~np.isnan(count) & (count != 0)).tolist():
        out[at] = _one_average(values[at], orders[at])
    return out


def _plain_columns(values: list[Any], orders: list[Any]) -> bool:
    """Whether the values are numbers and the counts whole ones (or missing), asked of
    the whole columns with no Python step per item."""
    return set(map(type, values)) <= {float, int, type(None)} and set(map(type, orders)) <= {
        int,
        type(None),
    }


def _one_average(value: Any, orders: Any) -> float | None:
    return None if value is None else average_order_value(value, orders or 0)
