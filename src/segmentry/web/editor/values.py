"""What a row's value boxes hold, read as the rule's value: trimmed, as numbers for
number attributes, yes/no for booleans, a pair or a list for the operators that take
one. A value not typed yet is a :class:`MissingValueError` (an error only when saving);
one that cannot be read is a :class:`BadValueError`, shown at its row."""

from __future__ import annotations

import math
import re
from typing import Any

from segmentry.model.schema import Attribute, AttrType
from segmentry.rules.operators import Arity


class BadValueError(ValueError):
    pass


class MissingValueError(BadValueError):
    """A row whose value is not typed yet: an error only when saving."""


def read(texts: list[str], arity: Arity, attribute: Attribute | None) -> Any:
    """The value of the boxes of a row whose operator takes ``arity``."""
    kind = attribute.type if attribute is not None else AttrType.STRING
    if arity is Arity.ONE:
        text = texts[0].strip() if texts else ""  # "-30d " and "Westton 4 " mean no space
        if not text:
            raise MissingValueError("Enter a value.")
        return _scalar(text, kind)
    if arity is Arity.PAIR:
        if len(texts) < 2 or not all(t.strip() for t in texts[:2]):
            raise MissingValueError("Enter both ends of the range.")
        return [_scalar(t.strip(), kind) for t in texts[:2]]
    items = texts if len(texts) > 1 else [t.strip() for t in texts[0].split(",")] if texts else []
    items = [i.strip() for i in items if i.strip()]
    if not items:
        raise MissingValueError("Enter one or more values, separated by commas.")
    return [_scalar(i, kind) for i in items]


BOOLEANS = {"yes": True, "true": True, "no": False, "false": False}
INTEGER = re.compile(r"[+-]?\d{1,18}")


def _scalar(text: str, kind: AttrType) -> Any:
    if kind.is_numeric:
        return number(text.strip())
    if kind is AttrType.BOOLEAN:
        if text.strip().casefold() not in BOOLEANS:
            raise BadValueError("Choose yes or no.")
        return BOOLEANS[text.strip().casefold()]
    return text


def number(text: str) -> int | float:
    """``100`` or ``19.99`` as a number; anything else is a :class:`BadValueError`."""
    if INTEGER.fullmatch(text):
        return int(text)
    try:
        found = float(text)
    except ValueError:
        raise BadValueError(f"{text!r} is not a number; write it like 100 or 19.99") from None
    if not math.isfinite(found):
        raise BadValueError(f"{text!r} is not a number; write it like 100 or 19.99")
    return found
