"""Dates as people say them, for the rows of date and date-time attributes.

"in the last [30] [days]" is ``attr > -30d`` and "more than [90] [days] ago" is
``attr < -90d``: two builder operators of their own, written in the language's
relative literals, so the text form still shows ``-30d`` and a rule written so
comes back to these rows. Any other temporal value (``today``, ``-2w`` after
``>=``, a date and time) stays a plain value of the language's own operators.
"""

from __future__ import annotations

import re

from segmentry.model.schema import Attribute, AttrType
from segmentry.rules.operators import Op

IN_LAST, MORE_THAN_AGO = "in the last", "more than ago"
RELATIVE_OPS = {IN_LAST: Op.GT, MORE_THAN_AGO: Op.LT}
LABELS = {IN_LAST: "in the last", MORE_THAN_AGO: "more than … ago"}
ON = {"=": "on", "!=": "not on"}
"""How a day is said beside "before" and "after" (the registry's time labels)."""
UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years", "h": "hours"}
RELATIVE = re.compile(r"-(\d{1,6})([hdwmy])")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class RelativeValueError(ValueError):
    """The number of a relative row is not a whole number."""


def units(attribute: Attribute | None) -> list[tuple[str, str]]:
    """The units a row offers: hours only for a date and time."""
    hours = attribute is not None and attribute.type is AttrType.DATETIME
    return [(u, name) for u, name in UNITS.items() if u != "h" or hours]


def value(values: list[str]) -> str | None:
    """``-30d`` from ``["30", "d"]``; ``None`` while the number is not typed yet."""
    number = values[0].strip() if values else ""
    unit = values[1].strip() if len(values) > 1 else "d"
    if not number:
        return None
    if not number.isdigit() or unit not in UNITS or len(number) > 6:
        raise RelativeValueError(f"{number!r} is not a whole number; write it like 30")
    return f"-{int(number)}{unit}"


def row_of(op: str, written: object) -> tuple[str, list[str]] | None:
    """The builder operator and values of ``> -30d`` or ``< -90d``, else ``None``."""
    if not isinstance(written, str):
        return None
    found = RELATIVE.fullmatch(written)
    for own, language in RELATIVE_OPS.items():
        if found and op == language.value:
            return own, [found[1], found[2]]
    return None


def is_day(text: str) -> bool:
    """Whether a value can be shown in a date picker (empty, or a calendar day)."""
    return not text or DAY.fullmatch(text) is not None
