"""react-querybuilder's match modes over list fields, both ways.

A rule with ``match: {"mode", "threshold"}`` on a list field tests the list's
items with the rule group in its ``value`` (react-querybuilder calls it a
subquery; for a list of strings its rules name the item with ``field: ""``)::

    {"field": "tags", "operator": "=", "match": {"mode": "some"},
     "value": {"combinator": "and", "rules": [{"field": "", "operator": "beginsWith",
                                               "value": "sale-"}]}}

``all``, ``some`` and ``none`` with one string test of the item are ``ALL``, ``ANY``
and ``NONE``; the three negated tests (``doesNotContain`` ...) are said through their
positive twins (some item fails a test ⇔ the list has items and not all pass it).
``atLeast``, ``atMost`` and ``exactly`` count the items that pass, which the language
cannot say unless every item passes (a group with no rules, or ``notNull``): then
they are ``count(list)``. As react-querybuilder's own exports do, ``atLeast 1`` is
``some`` and ``atMost 0`` is ``none``; a threshold between 0 and 1, a fraction of the
items there, is refused.
"""

from __future__ import annotations

import math
from typing import Any

from segmentry.model.schema import Attribute, AttrType, Schema
from segmentry.rules.ast import And, Condition, Node, Not, Scalar
from segmentry.rules.convert.common import condition, refuse
from segmentry.rules.operators import Each, Fn, Op

Json = Any

MODES = ("all", "some", "none", "atLeast", "atMost", "exactly")
QUANTIFIERS = {"all": Each.ALL, "some": Each.ANY, "none": Each.NONE}
ITEM_TESTS: dict[str, tuple[Op, bool]] = {
    "=": (Op.EQ, False),
    "!=": (Op.NE, False),
    "contains": (Op.CONTAINS, False),
    "beginsWith": (Op.STARTS_WITH, False),
    "endsWith": (Op.ENDS_WITH, False),
    "doesNotContain": (Op.CONTAINS, True),
    "doesNotBeginWith": (Op.STARTS_WITH, True),
    "doesNotEndWith": (Op.ENDS_WITH, True),
}
"""A subquery's operator → the string test of the item, and whether it is negated."""
COUNTS = {"atLeast": Op.GE, "atMost": Op.LE, "exactly": Op.EQ}


def read(data: dict[str, Json], attr: Attribute, schema: Schema, path: str) -> Node:
    """The rule a match-mode rule on ``attr`` means, or a ConversionError naming it."""
    where = f"{path}.match"
    match = data["match"]
    if not isinstance(match, dict) or match.get("mode") not in MODES:
        why = f"a match is {{'mode': ..., 'threshold': ...}}; modes are {', '.join(MODES)}"
        raise refuse(f"match {_show(match)}", where, why)
    if attr.type is not AttrType.STRING_LIST:
        raise refuse(f"match on {attr.key}", where, f"{attr.key} is not a list")
    mode, threshold = _coerced(match["mode"], match.get("threshold"), where)
    subquery = data.get("value")
    if not isinstance(subquery, dict) or not isinstance(subquery.get("rules"), list):
        why = 'the value of a match is a rule group over the items: {"rules": [...]}'
        raise refuse(_show(subquery), f"{path}.value", why)
    if _every_item(subquery):  # every item passes: only the number of items counts
        op, n = {"all": (Op.GE, 1), "some": (Op.GE, 1), "none": (Op.LE, 0)}.get(
            mode, (COUNTS.get(mode, Op.EQ), threshold)
        )
        return condition(attr, op, n, schema, where, fn=Fn.COUNT)
    if mode in COUNTS:
        why = "segmentry counts all the items of a list (count(list)), not those passing a test"
        raise refuse(f"match mode {mode!r}", where, why)
    op, negated, value = _item_test(subquery, f"{path}.value")
    each = QUANTIFIERS[mode]
    if not negated:
        return condition(attr, op, value, schema, path, each=each)
    return _negated_test(attr.key, each, op, value)


def _coerced(mode: str, threshold: Json, where: str) -> tuple[str, int]:
    if mode == "atLeast" and threshold == 1:
        return "some", 0
    if mode == "atMost" and threshold == 0:
        return "none", 0
    if mode not in COUNTS:
        return mode, 0
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold < 0:
        raise refuse(f"threshold {threshold!r}", f"{where}.threshold",
                     f"{mode} takes a whole number of items, 0 or more")  # fmt: skip
    if not float(threshold).is_integer():
        why = "a threshold between 0 and 1 is a fraction of the items, which segmentry cannot say"
        raise refuse(f"threshold {threshold!r}", f"{where}.threshold", why)
    return mode, int(threshold)


def _every_item(subquery: dict[str, Json]) -> bool:
    """Whether the subquery holds for every item: no rules, or only ``notNull`` ones
    (an item of a list is never missing)."""
    if subquery.get("not") is True:
        return False
    rules = [r for r in subquery["rules"] if not _inactive(r)]
    return all(
        isinstance(r, dict) and r.get("operator") == "notNull" and not r.get("field") for r in rules
    )


def _item_test(subquery: dict[str, Json], path: str) -> tuple[Op, bool, Scalar]:
    rules = [(i, r) for i, r in enumerate(subquery["rules"]) if not _inactive(r)]
    if subquery.get("not") is True or len(rules) != 1 or not isinstance(rules[0][1], dict):
        why = "one string test of the item per rule (ANY tags = 'a' AND ANY tags = 'b' is two)"
        raise refuse("a subquery of several tests", f"{path}.rules", why)
    index, rule = rules[0]
    where = f"{path}.rules[{index}]"
    if rule.get("field"):
        why = "the items of a segmentry list are strings, with no fields"
        raise refuse(f"field {rule['field']!r}", f"{where}.field", why)
    name = rule.get("operator")
    if name not in ITEM_TESTS:
        why = f"an item is tested by {', '.join(ITEM_TESTS)}"
        raise refuse(f"operator {name!r} in a subquery", f"{where}.operator", why)
    value = rule.get("value")
    if not isinstance(value, str):
        raise refuse(_show(value), f"{where}.value", "an item is tested against a string")
    op, negated = ITEM_TESTS[name]
    return op, negated, value


def _negated_test(key: str, each: Each, op: Op, value: Scalar) -> Node:
    """all/some/none items failing ``op value``, said with ANY and ALL of it passing."""
    has_items = Condition(key, Op.GE, 1, fn=Fn.COUNT)
    if each is Each.ALL:  # items, and none passes
        return And((has_items, Condition(key, op, value, each=Each.NONE)))
    some_fails = And((has_items, Not(Condition(key, op, value, each=Each.ALL))))
    return some_fails if each is Each.ANY else Not(some_fails)


def _inactive(entry: Json) -> bool:
    return isinstance(entry, dict) and bool(entry.get("disabled") or entry.get("muted"))


# -- writing ----------------------------------------------------------------------------

WRITTEN_TESTS = {op: name for name, (op, negated) in ITEM_TESTS.items() if not negated}
EVERY_ITEM: Json = {"combinator": "and", "rules": [{"field": "", "operator": "notNull"}]}
"""The subquery every item passes, for ``count(list)``."""


def write(cond: Condition, path: str) -> Json:
    """A quantifier or ``count(list)`` as match-mode rules."""
    if cond.fn is not None and cond.fn is not Fn.COUNT:  # anniversary(): no such field test
        raise refuse(cond.subject, path, f"react-querybuilder has no {cond.fn.value}()")
    if cond.fn is Fn.COUNT:
        return _count(cond, path)
    assert cond.each is not None
    name = WRITTEN_TESTS.get(cond.op)
    if name is None:
        why = "react-querybuilder has no default operator for it"
        raise refuse(f"{cond.subject} {cond.op.text}", path, why)
    mode = {Each.ALL: "all", Each.ANY: "some", Each.NONE: "none"}[cond.each]
    test = {"field": "", "operator": name, "value": cond.value}
    return _match(cond.attr, {"mode": mode}, {"combinator": "and", "rules": [test]})


def _count(cond: Condition, path: str) -> Json:
    """``count(list) op n`` as thresholds of items passing ``notNull``; NOT, ``!=`` and
    ``NOT BETWEEN`` as a negated group."""
    positive = cond.op.positive
    if positive is Op.BETWEEN:
        assert isinstance(cond.value, tuple)
        low, high = cond.value
        parts = [_threshold(cond, Op.GE, low, path), _threshold(cond, Op.LE, high, path)]
        out: Json = {"combinator": "and", "rules": parts}
    else:
        out = _threshold(cond, positive, cond.value, path)
    if not cond.op.is_negative:
        return out
    group = out if "rules" in out else {"combinator": "and", "rules": [out]}
    return {**group, "not": True}


def _threshold(cond: Condition, op: Op, value: object, path: str) -> Json:
    """``count op value`` as one whole threshold (``> 1.5`` is ``atLeast 2``)."""
    assert isinstance(value, int | float)
    mode, threshold = {
        Op.GE: ("atLeast", math.ceil(value)),
        Op.GT: ("atLeast", math.floor(value) + 1),
        Op.LE: ("atMost", math.floor(value)),
        Op.LT: ("atMost", math.ceil(value) - 1),
        Op.EQ: ("exactly", value),
    }[op]
    if op in (Op.GE, Op.GT) and threshold < 0:
        threshold = 0  # every count is at least 0
    if threshold < 0 or not float(threshold).is_integer():
        why = "no whole number of items is that many"
        raise refuse(f"{cond.subject} {op.text} {value}", path, why)
    return _match(cond.attr, {"mode": mode, "threshold": int(threshold)}, EVERY_ITEM)


def _match(attr: str, match: Json, subquery: Json) -> Json:
    return {"field": attr, "operator": "=", "match": match, "value": subquery}


def _show(data: Json) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."
