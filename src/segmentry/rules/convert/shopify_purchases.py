"""Shopify's ``products_purchased(...)`` as the language's ``purchased(...)``, both ways.

    products_purchased(id: (2012162031638, 1012132033639), date: >= -30d) = true
    purchased(id IN ('2012162031638', '1012132033639'), since: -30d)

Parameters: ``id:`` one product id or a parenthesised list (``id IN (...)``; the
shop's products carry Shopify's ids as their ``id``), ``tag:`` one tag or a list
(``tags CONTAINS ANY (...)``), and ``date:`` with ``>=`` (``since:``), ``<=``
(``until:``), ``BETWEEN a AND b`` (both) or ``=`` a day (both that day), all with
the language's temporal literals; ``= true`` is the function, ``= false`` its NOT.
What has no exact equivalent (both ``id`` and ``tag``, ``date: > ...``, other
parameters) is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from segmentry.errors import ConversionError, RuleError
from segmentry.model.temporal import AbsoluteDate, DayWord, read_temporal
from segmentry.rules.ast import Behaviour, Condition, Node, Not, Scalar
from segmentry.rules.check import check
from segmentry.rules.convert.common import refuse
from segmentry.rules.lexer import Token, TokenKind
from segmentry.rules.operators import Act, Op
from segmentry.rules.printer import quote

if TYPE_CHECKING:
    from segmentry.rules.convert.shopify import _Parser

NAME = "products_purchased"
DATE_OPS = {">=": "since", "<=": "until"}


def read(parser: _Parser, name: Token, where: str) -> Node:
    """The call after its name (``parser`` stands at ``(``) and its ``= true|false``."""
    expect(parser, TokenKind.LPAREN, "'(' after products_purchased")
    given: dict[str, Token] = {}
    conditions: list[Condition] = []
    since: str | None = None
    until: str | None = None
    while parser.peek().kind is not TokenKind.RPAREN:
        if given:
            expect(parser, TokenKind.COMMA, "',' between parameters")
        param = parser.advance()
        at = f"line {param.span.line}, column {param.span.column}"
        if param.kind is not TokenKind.IDENT or param.text in given:
            raise parser.fail(param, f"expected a parameter name, found {param.text!r}",
                              "parameters are id:, tag: and date:")  # fmt: skip
        given[param.text] = param
        expect(parser, TokenKind.COLON, f"':' after {param.text}")
        if param.text == "id":
            ids = values(parser)
            conditions.append(Condition("id", Op.IN, tuple(str(v) for v in ids)))
        elif param.text == "tag":
            tags = values(parser)
            conditions.append(Condition("tags", Op.CONTAINS_ANY, tuple(str(v) for v in tags)))
        elif param.text == "date":
            since, until = window(parser, at)
        else:
            raise refuse(f"{NAME}({param.text}:)", at, "its parameters are id:, tag: and date:")
    parser.advance()
    if len(conditions) == 2:
        tag = given["tag"].span
        why = "Shopify does not say whether both must hold; write purchased() in segmentry"
        raise refuse(f"{NAME}(id:, tag:)", f"line {tag.line}, column {tag.column}", why)
    bought = Behaviour(Act.PURCHASED, conditions[0] if conditions else None, since, until)
    try:
        checked = check(bought, parser.schema)
    except RuleError as exc:
        message = "; ".join(d.message for d in exc.diagnostics)
        raise ConversionError(message, construct=f"{NAME}()", location=where) from None
    return checked if truth(parser, name) else Not(checked)


def expect(parser: _Parser, kind: TokenKind, what: str) -> Token:
    token = parser.advance()
    if token.kind is not kind:
        raise parser.fail(token, f"expected {what}, found {token.text!r}")
    return token


def values(parser: _Parser) -> list[Scalar]:
    """One value, or a parenthesised list of them."""
    if parser.peek().kind is not TokenKind.LPAREN:
        return [parser.value()]
    parser.advance()
    items = [parser.value()]
    while parser.peek().kind is TokenKind.COMMA:
        parser.advance()
        items.append(parser.value())
    expect(parser, TokenKind.RPAREN, "')' closing the list")
    return items


def window(parser: _Parser, where: str) -> tuple[str | None, str | None]:
    """``date: >= a`` / ``<= b`` / ``BETWEEN a AND b`` / ``= day``, as since/until."""
    token = parser.advance()
    if token.kind is TokenKind.IDENT and token.word == "BETWEEN":
        low = temporal(parser, where)
        if not parser.word("AND"):
            raise parser.fail(parser.peek(), "expected AND between the two dates of BETWEEN")
        parser.advance()
        return low, temporal(parser, where)
    if token.kind is TokenKind.OP and token.value in DATE_OPS:
        moment = temporal(parser, where)
        return (moment, None) if token.value == ">=" else (None, moment)
    if token.kind is TokenKind.OP and token.value == "=":
        day = temporal(parser, where)
        if not isinstance(read_temporal(day), AbsoluteDate | DayWord):
            raise refuse(f"date: = {day}", where, "= takes a day: 2024-03-01, today, yesterday")
        return day, day
    why = "a window is date: >= a, date: <= b, date: BETWEEN a AND b or date: = a day"
    raise refuse(f"date: {token.text}", where, why)


def temporal(parser: _Parser, where: str) -> str:
    token = parser.advance()
    if token.kind is TokenKind.TEMPORAL:
        return str(token.value)
    if token.kind is TokenKind.IDENT and read_temporal(token.text.lower()) is not None:
        return token.text.lower()  # today, yesterday
    raise parser.fail(token, f"expected a date, found {token.text!r}", "dates look like -30d")


def truth(parser: _Parser, name: Token) -> bool:
    """``= true`` / ``!= false`` (True) or ``= false`` / ``!= true`` (False)."""
    op = parser.advance()
    value = parser.advance()
    if (op.kind is not TokenKind.OP or op.value not in ("=", "!=")
            or value.word not in ("TRUE", "FALSE")):  # fmt: skip
        raise parser.fail(op, f"expected = true or = false after {name.text}(...)")
    return (op.value == "=") is (value.word == "TRUE")


# -- writing ----------------------------------------------------------------------------


def write(node: Behaviour, path: str, *, negated: bool, dated: Callable[[str], str]) -> str:
    """``purchased(...)`` as ``products_purchased(...) = true|false``; ``dated`` writes
    a temporal literal as Shopify does (whole days)."""
    params: list[str] = []
    where = node.where
    match where:
        case None:
            pass
        case Condition("id", Op.IN | Op.EQ, value, fn=None, each=None):
            ids = value if isinstance(value, tuple) else (value,)
            if not all(str(i).isdigit() for i in ids):
                why = "Shopify product ids are numbers"
                raise refuse(f"purchased(id {where.op.text} ...)", path, why)
            params.append("id: " + _listed([str(i) for i in ids]))
        case Condition("tags", Op.CONTAINS | Op.CONTAINS_ANY, value, fn=None, each=None):
            tags = value if isinstance(value, tuple) else (value,)
            params.append("tag: " + _listed([quote(str(t)) for t in tags]))
        case _:
            why = "Shopify's products_purchased takes product ids or tags only"
            raise refuse("purchased() with this condition", path, why)
    if node.since is not None and node.until is not None:
        params.append(f"date: BETWEEN {dated(node.since)} AND {dated(node.until)}")
    elif node.since is not None:
        params.append(f"date: >= {dated(node.since)}")
    elif node.until is not None:
        params.append(f"date: <= {dated(node.until)}")
    return f"{NAME}({', '.join(params)}) = {'false' if negated else 'true'}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})"
