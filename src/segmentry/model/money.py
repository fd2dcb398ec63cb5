"""Exact money: amounts are :class:`~decimal.Decimal` in memory and whole micro-units
(millionths) in storage, so sums are exact in Python and in SQL alike."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from segmentry.errors import ValidationError

MONEY_PLACES = 6
"""Decimal places a unit price or total may have (stored as whole millionths)."""
MAX_UNIT_PRICE = Decimal(10) ** 6
MAX_TOTAL = Decimal(10) ** 12
"""Largest unit price and total: far above any real order, and small enough that a
line's amount and a total in millionths fit a 64-bit integer."""
MICROS = Decimal(10) ** MONEY_PLACES
CENT = Decimal("0.01")

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def money_number(value: Decimal) -> int | float:
    """A JSON number for an exact amount: an integer when whole, else the float whose
    shortest spelling is the amount (exact for amounts of at most 15 digits)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def to_micros(value: Decimal) -> int:
    return int(value * MICROS)


def from_micros(value: int) -> Decimal:
    return Decimal(value) / MICROS


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, half up, as a person rounds."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def read_money(where: str, key: str, raw: Any, *, limit: Decimal = MAX_TOTAL) -> Decimal | None:
    """An amount of money (a number, or a decimal number in a string, as CSV gives it):
    at least 0, at most ``limit``, with at most :data:`MONEY_PLACES` decimals."""
    if raw is None or raw == "":
        return None
    value: Decimal | None = None
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw)) if math.isfinite(raw) else None
    elif isinstance(raw, Decimal):
        value = raw if raw.is_finite() else None
    elif isinstance(raw, str) and _DECIMAL_TEXT.fullmatch(raw.strip()):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            value = None
    if value is None:
        raise ValidationError(f"{where}: {key} must be a number, got {raw!r}", field=key)
    if value < 0:
        raise ValidationError(f"{where}: {key} must be at least 0, got {raw!r}", field=key)
    if value > limit:
        raise ValidationError(f"{where}: {key} must be at most {limit:,}", field=key)
    if not places_ok(value):
        raise ValidationError(
            f"{where}: {key} has more than {MONEY_PLACES} decimal places, got {raw!r}", field=key
        )
    return value


def places_ok(value: Decimal) -> bool:
    """At most :data:`MONEY_PLACES` decimals (trailing zeros do not count)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        exponent = value.normalize().as_tuple().exponent
    return not (isinstance(exponent, int) and exponent < -MONEY_PLACES)


__all__ = [
    "CENT",
    "MAX_TOTAL",
    "MAX_UNIT_PRICE",
    "MICROS",
    "MONEY_PLACES",
    "cents",
    "from_micros",
    "money_number",
    "places_ok",
    "read_money",
    "to_micros",
]
