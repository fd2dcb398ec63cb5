"""Shopify's ``anniversary('date')`` as the language's ``anniversary(date attribute)``,
both ways.

    anniversary('metafields.facts.birth_date') BETWEEN today AND +30d
    anniversary(birthday) BETWEEN today AND +30d

Shopify compares the month and day of a date, the year not considered, in whole days
of the shop's zone; segmentry's anniversary is the next day, today included, with the
date's month and day. The two agree on every day from today to 364 days ahead, where a
month-day falls at most once: ``= today``, ``= +3w``, ``!= +10d``, ``BETWEEN today AND
+30d``. What would mean something else is refused, naming it: an absolute date (every
year's 3 May in Shopify, one day in segmentry), a day before today (Shopify's
``-3d`` is a month-day, segmentry's anniversary is never in the past), a day a year or
more ahead, and ``<``, ``>`` (Shopify orders month-days within a calendar year).
So is a ``BETWEEN`` whose days could swap (``+1m AND +30d``). ``IS NULL`` and
``IS NOT NULL`` test the date itself. :data:`DATES` names the dates
both ways; ``metafields.<namespace>.<key>`` is the tenant's declared date attribute
``<key>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmentry.model.schema import Attribute, Schema
from segmentry.model.temporal import DayWord, Relative, read_temporal
from segmentry.rules.ast import Condition, Node, Not, Value
from segmentry.rules.convert.common import condition, refuse
from segmentry.rules.convert.shopify_purchases import expect, temporal
from segmentry.rules.lexer import Token, TokenKind
from segmentry.rules.operators import Fn, Op
from segmentry.rules.printer import quote

if TYPE_CHECKING:
    from segmentry.rules.convert.shopify import _Parser

NAME = "anniversary"
DATES: dict[str, str] = {
    "customer_added_date": "created_at",
    "last_order_date": "last_order_at",
    "metafields.facts.birth_date": "birthday",
}
"""Shopify's dates with an attribute of their own, both ways."""
METAFIELDS = "metafields."
WRITTEN_NAMESPACE = "custom"
"""The namespace a declared date attribute is written under (Shopify's for a
merchant's own metafield definitions)."""
AHEAD = {"d": 364, "w": 52, "m": 11}
"""How far ahead of today a day may be, per unit, for the two meanings to agree."""
OPS = (Op.EQ, Op.NE, Op.BETWEEN)
WHY_ORDER = "the first day must come before the second on every day (+1m and +30d swap)"
WHY_AHEAD = (
    "Shopify's anniversary is a month and day of any year, segmentry's the next one from "
    "today: they agree on today, tomorrow and +Nd, +Nw, +Nm up to a year ahead "
    "(+364d, +52w, +11m)"
)


def read(parser: _Parser, name: Token, where: str) -> Node:
    """The call after its name (``parser`` stands at ``(``) and its comparison."""
    expect(parser, TokenKind.LPAREN, "'(' after anniversary")
    param = parser.advance()
    if param.kind is not TokenKind.STRING:
        raise parser.fail(param, f"expected the date to use, in quotes, found {param.text!r}",
                          "anniversary('metafields.facts.birth_date')")  # fmt: skip
    expect(parser, TokenKind.RPAREN, "')' after the date")
    attr = date_attribute(str(param.value), parser.schema, _at(param))
    op_token = parser.peek()
    op = _operator(parser, name)
    if op in (Op.IS_NULL, Op.IS_NOT_NULL):  # the date itself is missing or not
        return condition(attr, op, None, parser.schema, where)
    values = [temporal(parser, where)]
    if op is Op.BETWEEN:
        if not parser.word("AND"):
            raise parser.fail(parser.peek(), "expected AND between the two values of BETWEEN")
        parser.advance()
        values.append(temporal(parser, where))
    for day in values:
        if not ahead(day):
            raise refuse(f"{NAME}() {op.text} {day}", _at(op_token), WHY_AHEAD)
    if len(values) == 2 and not ordered(values[0], values[1]):
        construct = f"{NAME}() BETWEEN {values[0]} AND {values[1]}"
        raise refuse(construct, _at(op_token), WHY_ORDER)
    value: Value = (values[0], values[1]) if op is Op.BETWEEN else values[0]
    return condition(attr, op, value, parser.schema, where, fn=Fn.ANNIVERSARY)


def _operator(parser: _Parser, name: Token) -> Op:
    token = parser.advance()
    if token.kind is TokenKind.OP and token.value in ("=", "!="):
        return Op.EQ if token.value == "=" else Op.NE
    if token.kind is TokenKind.IDENT and token.word == "BETWEEN":
        return Op.BETWEEN
    if token.kind is TokenKind.IDENT and token.word == "IS":
        negated = parser.word("NOT")
        if negated:
            parser.advance()
        if not parser.word("NULL"):
            raise parser.fail(parser.peek(), "expected NULL after IS")
        parser.advance()
        return Op.IS_NOT_NULL if negated else Op.IS_NULL
    why = "Shopify's anniversary takes =, !=, BETWEEN, IS NULL and IS NOT NULL"
    if token.kind is TokenKind.EOF:
        raise parser.fail(token, "expected an operator after anniversary(...)", why)
    raise refuse(f"{NAME}() {token.text}", _at(token), why)


def date_attribute(shopify_name: str, schema: Schema, where: str) -> Attribute:
    """The attribute Shopify's date names: :data:`DATES`, or a declared date attribute
    for ``metafields.<namespace>.<key>``."""
    key = DATES.get(shopify_name)
    found = schema.get(key) if key is not None else None
    parts = shopify_name.split(".")
    if key is None and shopify_name.startswith(METAFIELDS) and len(parts) == 3:
        found = schema.get(parts[2])
        found = None if found is None or found.builtin else found
    if found is None or not found.type.is_temporal:
        why = (
            f"the date is one of {', '.join(DATES)}, or metafields.<namespace>.<key> "
            "naming a declared date or date-time attribute <key>"
        )
        raise refuse(f"{NAME}({quote(shopify_name)})", where, why)
    return found


def ahead(value: str) -> bool:
    """Whether ``value`` is a day from today to less than a year ahead, whatever day
    today is: there a month-day falls at most once, so both meanings agree."""
    match read_temporal(value):
        case DayWord(offset):
            return offset >= 0
        case Relative(amount, unit):
            return unit in AHEAD and 0 <= amount <= AHEAD[unit]
    return False


def ordered(low: str, high: str) -> bool:
    """Whether ``low`` is on or before ``high`` whatever day today is (``+1m`` and
    ``+30d`` swap with the month): otherwise the window is empty here on some days
    and Shopify does not say what it is."""
    return low == high or _reach(low)[1] <= _reach(high)[0]


def _reach(value: str) -> tuple[int, int]:
    """The fewest and most days ahead a value of :func:`ahead` can be."""
    match read_temporal(value):
        case DayWord(offset):
            return offset, offset
        case Relative(amount, "m"):
            return 28 * amount, 31 * amount
        case Relative(amount, unit):
            days = amount * (7 if unit == "w" else 1)
            return days, days
    raise AssertionError(f"not a day ahead: {value}")


def _at(token: Token) -> str:
    return f"line {token.span.line}, column {token.span.column}"


# -- writing ----------------------------------------------------------------------------


def write(node: Node, path: str, schema: Schema) -> str:
    """``anniversary(attr) op value`` (or ``NOT`` of ``=`` / ``!=``) as Shopify's."""
    negated = isinstance(node, Not)
    cond = node.item if isinstance(node, Not) else node
    assert isinstance(cond, Condition)
    op = cond.op
    if negated and op in (Op.EQ, Op.NE):
        op = Op.NE if op is Op.EQ else Op.EQ
    elif negated or op not in OPS:
        why = "Shopify's anniversary takes =, != and BETWEEN"
        raise refuse(("NOT " if negated else "") + f"{cond.subject} {op.text}", path, why)
    values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    written = [_day(str(v)) for v in values]
    construct = f"{cond.subject} {op.text} {' AND '.join(map(str, values))}"
    if None in written:
        raise refuse(construct, path, WHY_AHEAD)
    if len(values) == 2 and not ordered(str(values[0]), str(values[1])):
        raise refuse(construct, path, WHY_ORDER)
    call = f"{NAME}({quote(shopify_date(schema.by_key[cond.attr], path))})"
    if op is Op.BETWEEN:
        return f"{call} BETWEEN {written[0]} AND {written[1]}"
    return f"{call} {op.text} {written[0]}"


def shopify_date(attr: Attribute, path: str) -> str:
    """The name Shopify gives the date of ``attr``."""
    for name, key in DATES.items():
        if key == attr.key:
            return name
    if attr.builtin:
        raise refuse(f"{NAME}({attr.key})", path, f"Shopify has no date for {attr.key}")
    return f"{METAFIELDS}{WRITTEN_NAMESPACE}.{attr.key}"


def _day(value: str) -> str | None:
    """A day ahead as Shopify writes it (``today``, ``+1d``), or None."""
    if not ahead(value):
        return None
    parsed = read_temporal(value)
    if isinstance(parsed, DayWord):
        return "today" if parsed.offset == 0 else f"+{parsed.offset}d"
    return value
