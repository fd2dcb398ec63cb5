"""Rows of the condition shapes beyond attribute / operator / value.

* **Another attribute**: "Unit Price | less than | Original Price | compare with
  another attribute" is ``price < original_price``. The row's "Compare with"
  choice ("a value" or "another attribute") is offered for the operators that
  compare two attributes, and the other attribute is chosen among those of the
  same family (numbers, strings and enums, dates, date-times), as the checker
  allows.
* **A function of an attribute**: "Number of Tags | at least | 2" is
  ``count(tags) >= 2`` and "Anniversary of Birthday | between | today | +7d" is
  ``anniversary(birthday) BETWEEN today AND +7d``. The function is a pseudo
  attribute of the Attribute select, ``count(tags)``, which rows treat as an
  attribute of the type the function gives (an integer, a day) with the
  function's operators.
* **A list quantifier**: "Tags | any item starts with | vip" is
  ``ANY tags STARTS WITH 'vip'``: each quantifier and string test is an
  operator of a list attribute, ``any starts with``.

Each comes back from the rule's JSON form as the same row (:func:`shown`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from segmentry.model.schema import Attribute, AttrType
from segmentry.rules.check import FAMILIES
from segmentry.rules.operators import (
    ATTRIBUTE_OPS,
    BY_FN,
    BY_OP,
    EACH_OPS,
    FUNCTIONS,
    OPERATORS,
    Each,
    Fn,
    Op,
)

Attributes = Mapping[str, Attribute]
Found = tuple[str, str, list[str], str]
"""A row's attribute, operator, values and the other attribute it compares with."""

# -- another attribute ----------------------------------------------------------------------

VALUE, ATTRIBUTE = "", "attribute"
AGAINST = [(VALUE, "a value"), (ATTRIBUTE, "another attribute")]
"""The "Compare with" choices of a row whose operator compares two attributes."""


def others(
    attributes: Iterable[Attribute], attribute: Attribute | None, op: str
) -> list[tuple[str, str]]:
    """The attributes a row may compare with (same family, not itself), or none when
    its operator does not compare two attributes, or it is a function."""
    if attribute is None or function_of(attribute.key) is not None:
        return []
    family = FAMILIES.get(attribute.type)
    if family is None or op not in {o.value for o in ATTRIBUTE_OPS}:
        return []
    same = [a for a in attributes if a.key != attribute.key and FAMILIES.get(a.type) == family]
    return [(a.key, a.label) for a in same]


# -- functions of an attribute --------------------------------------------------------------

FUNCTION_KEY = re.compile(r"(count|anniversary)\(([^()]{1,64})\)")
FUNCTION_LABELS = {Fn.COUNT: "Number of {}", Fn.ANNIVERSARY: "Anniversary of {}"}
ANNIVERSARY_HINTS = ("today", "+7d")
"""What an anniversary row's boxes hold at first: ``= today``, ``BETWEEN today AND +7d``."""


def function_of(attr: str) -> tuple[Fn, str] | None:
    """The function and attribute key a row's pseudo attribute names: ``count(tags)``."""
    found = FUNCTION_KEY.fullmatch(attr)
    return (Fn(found[1]), found[2]) if found else None


def is_anniversary(attr: str) -> bool:
    found = function_of(attr)
    return found is not None and found[0] is Fn.ANNIVERSARY


def function_choices(attributes: Iterable[Attribute]) -> list[tuple[str, str]]:
    """The Attribute select's functions: "Number of Tags", "Anniversary of Birthday"."""
    known = list(attributes)
    return [
        (f"{row.fn.value}({a.key})", FUNCTION_LABELS[row.fn].format(a.label))
        for row in FUNCTIONS
        for a in known
        if a.type in row.takes
    ]


def function_attribute(attributes: Attributes, attr: str) -> Attribute | None:
    """A function of a known attribute, as the attribute of the type it gives."""
    found = function_of(attr)
    if found is None:
        return None
    fn, key = found
    base = attributes.get(key) or attributes.get(key.lower())
    if base is None or base.type not in BY_FN[fn].takes:
        return None
    name = f"{fn.value}({base.key})"
    return Attribute(name, FUNCTION_LABELS[fn].format(base.label), BY_FN[fn].gives)


def function_operators(attr: str) -> list[str] | None:
    """The operators of a function row, or ``None`` when ``attr`` is no function."""
    found = function_of(attr)
    if found is None:
        return None
    return [row.op.value for row in OPERATORS if row.op in BY_FN[found[0]].ops]


def head(attr: str) -> dict[str, Any]:
    """The start of a condition's JSON form: ``{"attr": "tags", "fn": "count"}``."""
    found = function_of(attr)
    return {"attr": found[1], "fn": found[0].value} if found else {"attr": attr}


# -- list quantifiers -------------------------------------------------------------------------

EACH_WORDS = {Each.ANY: "any item", Each.ALL: "every item", Each.NONE: "no item"}
EACH_ROW_OPS: dict[str, tuple[Each, Op]] = {
    f"{each.value} {row.op.value}": (each, row.op)
    for each in Each
    for row in OPERATORS
    if row.op in EACH_OPS
}
"""The quantified operators of a list row, ``any starts with``, in the language's order."""
EACH_LABELS = {name: f"{EACH_WORDS[e]} {BY_OP[op].label}" for name, (e, op) in EACH_ROW_OPS.items()}


def each_operators(attribute: Attribute | None) -> list[str]:
    """A list attribute's quantified operators ("any item starts with"…), else none."""
    listed = attribute is not None and attribute.type is AttrType.STRING_LIST
    return list(EACH_ROW_OPS) if listed else []


def each_json(attr: str, op: str, value: str) -> dict[str, Any]:
    each, test = EACH_ROW_OPS[op]
    return {"attr": attr, "each": each.value, "op": test.value, "value": value}


# -- a JSON form to a row ---------------------------------------------------------------------


def shown(node: Mapping[str, Any], attributes: Attributes) -> Found | None:
    """The row of a function, quantifier or attribute-against-attribute condition, or
    ``None`` when rows cannot show it (a value with spaces around it, a function
    compared with an attribute, an unknown function)."""
    attr = str(node["attr"])
    base = attributes.get(attr) or attributes.get(attr.lower())
    key = base.key if base is not None else attr
    value = node.get("value")
    if "each" in node:
        op = f"{node['each']} {node['op']}"
        return (key, op, [str(value)], "") if op in EACH_ROW_OPS and _clean(value) else None
    if "fn" in node:
        texts = _texts(value)
        name = f"{node['fn']}({key})"
        return None if texts is None else (name, node["op"], texts, "")
    if isinstance(value, Mapping) and set(value) == {"attr"}:
        other = attributes.get(str(value["attr"])) or attributes.get(str(value["attr"]).lower())
        return key, node["op"], [], other.key if other else str(value["attr"])
    return None


def _texts(value: Any) -> list[str] | None:
    """A function's value as its boxes show it: ``2``, ``today``, a pair of them."""
    values = value if isinstance(value, list) else [value]
    numbers = (isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not all(_clean(v) or number for v, number in zip(values, numbers, strict=True)):
        return None
    return [str(v) for v in values]


def _clean(value: Any) -> bool:
    return isinstance(value, str) and value == value.strip() and bool(value)
