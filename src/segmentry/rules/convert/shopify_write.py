"""Shopify's customer segment query language, written from a checked customer rule.

Each attribute is written as the Shopify filter :data:`.shopify.FILTERS` reads
into it; a quantifier or ``count(tags)`` becomes the plain filter that means the
same where there is one (``ANY tags = 'a'`` is ``customer_tags CONTAINS 'a'``);
``NOT`` only where Shopify has the twin operator. What Shopify cannot say is a
:class:`~segmentry.errors.ConversionError` naming the part of the rule.
"""

from __future__ import annotations

import math

from segmentry.errors import ConversionError
from segmentry.model.schema import Kind, Schema
from segmentry.model.temporal import AbsoluteDateTime, read_temporal
from segmentry.rules.ast import (
    And,
    AttrRef,
    Behaviour,
    Condition,
    InSegment,
    Node,
    Not,
    Or,
    Scalar,
    Value,
)
from segmentry.rules.convert import shopify_anniversary, shopify_purchases
from segmentry.rules.convert.common import plain, refuse
from segmentry.rules.convert.shopify import FILTERS
from segmentry.rules.operators import Act, Each, Fn, Op
from segmentry.rules.printer import format_rule, format_scalar, quote

WRITTEN_NAMES = {f.attr: name for name, f in FILTERS.items()}
TWINS = {Op.EQ: Op.NE, Op.NE: Op.EQ, Op.CONTAINS: Op.NOT_CONTAINS, Op.NOT_CONTAINS: Op.CONTAINS,
         Op.IS_NULL: Op.IS_NOT_NULL, Op.IS_NOT_NULL: Op.IS_NULL}  # fmt: skip


def write(node: Node, schema: Schema) -> str:
    """The Shopify query of a checked customer rule, or a ConversionError."""
    if schema.kind is not Kind.CUSTOMER:
        raise refuse("a product rule", "rule", "Shopify segments are of customers")
    return _write(node, "rule", schema, top=True)


def _write(node: Node, path: str, schema: Schema, *, top: bool = False) -> str:
    if _is_anniversary(node):
        return shopify_anniversary.write(node, path, schema)
    node = _plain_form(node, path)
    plain(node, path, "Shopify")
    match node:
        case Behaviour(Act.PURCHASED) | Not(Behaviour(Act.PURCHASED)):
            bought = node.item if isinstance(node, Not) else node
            assert isinstance(bought, Behaviour)
            return shopify_purchases.write(bought, path, negated=isinstance(node, Not),
                                           dated=lambda v: _value(v, path, True))  # fmt: skip
        case And(items) | Or(items):
            word = " AND " if isinstance(node, And) else " OR "
            text = word.join(_write(i, f"{path}[{n}]", schema) for n, i in enumerate(items))
            return text if top else f"({text})"
        case Not(Condition(attr, op, value)) if op in TWINS:
            return _condition(Condition(attr, TWINS[op], value), path)
        case Not(Condition(attr, Op.ENDS_WITH, value)) if attr == "email":
            return _condition(Condition(attr, Op.ENDS_WITH, value), path, negated=True)
        case Not():
            raise refuse("NOT", path, "Shopify queries negate only =, CONTAINS and IS NULL")
        case InSegment(code):
            raise refuse(f"IN SEGMENT {code!r}", path, "Shopify queries cannot name segments")
        case Behaviour():
            why = "Shopify's event filters are not written from behaviour functions"
            raise refuse(f"{node.act.value}()", path, why)
        case Condition():
            return _condition(node, path)


def _is_anniversary(node: Node) -> bool:
    inner = node.item if isinstance(node, Not) else node
    return isinstance(inner, Condition) and inner.fn is Fn.ANNIVERSARY


def _plain_form(node: Node, path: str) -> Node:
    """A quantifier or ``count(tags)`` as the plain condition that means the same, where
    Shopify has one: ``ANY tags = 'a'`` is ``tags CONTAINS 'a'``, ``count(tags) = 0`` is
    ``tags IS NULL``; anything else is refused, naming it."""
    negated = isinstance(node, Not)
    cond = node.item if isinstance(node, Not) else node
    if not isinstance(cond, Condition) or (cond.fn is None and cond.each is None):
        return node
    assert cond.fn in (None, Fn.COUNT), "anniversaries are written on their own"
    plain_form: Condition | None = None
    if cond.each in (Each.ANY, Each.NONE) and cond.op is Op.EQ:
        contains = Op.CONTAINS if (cond.each is Each.ANY) is not negated else Op.NOT_CONTAINS
        plain_form = Condition(cond.attr, contains, cond.value)
    elif cond.fn is Fn.COUNT:
        empty, any_items = _counts(cond)
        if any_items is not None and empty is not any_items:  # it tells none from some
            holds_for_none = empty is not negated
            plain_form = Condition(cond.attr, Op.IS_NULL if holds_for_none else Op.IS_NOT_NULL)
    if plain_form is None:
        why = "Shopify's filters have no such test (only CONTAINS, and IS NULL for no items)"
        raise refuse(format_rule(cond), path, why)
    return plain_form


def _counts(cond: Condition) -> tuple[bool, bool | None]:
    """Whether ``count(list) op value`` holds for 0 items, and for every count from 1 on
    (True), for none (False) or for some only (None)."""
    positive, value = cond.op.positive, cond.value
    low, high = value if isinstance(value, tuple) else (value, value)
    assert isinstance(low, int | float)
    assert isinstance(high, int | float)
    holds_at_zero, from_one = {
        Op.EQ: (low == 0, False if not (low >= 1 and float(low).is_integer()) else None),
        Op.LT: (low > 0, False if low <= 1 else None),
        Op.LE: (low >= 0, False if low < 1 else None),
        Op.GT: (low < 0, True if low < 1 else None),
        Op.GE: (low <= 0, True if low <= 1 else None),
        Op.BETWEEN: (low <= 0 <= high, False if high < max(1, math.ceil(low)) else None),
    }[positive]
    if cond.op.is_negative:
        return not holds_at_zero, None if from_one is None else not from_one
    return holds_at_zero, from_one


LIST_TESTS = {
    Op.CONTAINS_ANY: (" OR ", "CONTAINS"),
    Op.CONTAINS_ALL: (" AND ", "CONTAINS"),
    Op.CONTAINS_NONE: (" AND ", "NOT CONTAINS"),
}
"""A list operator written as a group of single tests (NONE: no value is contained)."""
SHOPIFY_OPS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.BETWEEN, Op.IS_NULL,
                         Op.IS_NOT_NULL})  # fmt: skip
"""The operators Shopify's numeric and date filters take as they are."""


def _condition(cond: Condition, path: str, *, negated: bool = False) -> str:
    attr, op, value = cond.attr, cond.op, cond.value
    name = WRITTEN_NAMES.get(attr)
    text = f"{attr} {op.value.upper()}"
    if name is None:
        raise refuse(text, path, f"Shopify has no filter for {attr}")
    if op in LIST_TESTS and isinstance(value, tuple):
        word, test = LIST_TESTS[op]
        return "(" + word.join(f"{name} {test} {quote(str(v))}" for v in value) + ")"
    written = _translated(attr, op, value, path, negated)
    if written is None:
        raise refuse(text, path, f"Shopify's {name} cannot say this")
    shop_op, shop_value = written
    dated = attr in ("last_order_at", "created_at")
    if shop_op in (Op.IS_NULL, Op.IS_NOT_NULL):
        return f"{name} {shop_op.value.upper()}"
    if shop_op is Op.BETWEEN and isinstance(shop_value, tuple):
        low, high = shop_value
        return f"{name} BETWEEN {_value(low, path, dated)} AND {_value(high, path, dated)}"
    return f"{name} {shop_op.value.upper()} {_value(shop_value, path, dated)}"


def _translated(
    attr: str, op: Op, value: Value, path: str, negated: bool
) -> tuple[Op, Value] | None:
    if attr == "country":
        return {Op.EQ: (Op.CONTAINS, value), Op.NE: (Op.NOT_CONTAINS, value),
                Op.IS_NULL: (op, None), Op.IS_NOT_NULL: (op, None)}.get(op)  # fmt: skip
    if attr == "email":
        domain = value[1:] if isinstance(value, str) and value.startswith("@") else None
        if op.positive is Op.ENDS_WITH and domain and "@" not in domain:
            return (Op.NE if negated is not op.is_negative else Op.EQ), domain
        return (op, None) if op in (Op.IS_NULL, Op.IS_NOT_NULL) else None
    if attr == "accepts_marketing":
        if op in (Op.EQ, Op.NE) and value is True:
            return op, "SUBSCRIBED"
        return None
    if attr == "tags":
        return (
            (op, value)
            if op in (Op.CONTAINS, Op.NOT_CONTAINS, Op.IS_NULL, Op.IS_NOT_NULL)
            else None
        )
    return (op, value) if op in SHOPIFY_OPS else None


def _value(value: Scalar | Value, path: str, dated: bool) -> str:
    if isinstance(value, str) and not dated:
        return quote(value)
    if isinstance(value, str):
        try:
            parsed = read_temporal(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, AbsoluteDateTime):
            raise ConversionError(
                "Shopify dates are whole days", construct=f"date-time {value}", location=path
            )
        return value if parsed is not None else quote(value)
    assert value is not None
    assert not isinstance(value, tuple | AttrRef)
    return format_scalar(value)
