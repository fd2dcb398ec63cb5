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
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

PRECISION = 40
EXACT = Context(prec=PRECISION, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
HUNDREDTH = Decimal("0.01")


def discount_percent(price: float, original: float) -> float | None:
    """100 * (original - price) / original, to the hundredth of a percent; ``None``
    without an original price (or one of 0)."""
    if not original:
        return None
    sent = _decimal(original)
    return _hundredths(
        EXACT.divide(EXACT.multiply(100, EXACT.subtract(sent, _decimal(price))), sent)
    )


def average_order_value(lifetime_value: float, orders_count: int) -> float | None:
    """Lifetime value / orders count, to the cent; ``None`` without orders."""
    if not orders_count:
        return None
    return _hundredths(EXACT.divide(_decimal(lifetime_value), Decimal(orders_count)))


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
