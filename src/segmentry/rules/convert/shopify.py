"""Shopify's customer segment query language, read (customer rules only).

    number_of_orders >= 3 AND customer_tags CONTAINS 'vip'
    last_order_date > -30d AND customer_countries CONTAINS 'ES'

A small recursive-descent parser over the rule language's own tokens (the two
languages share strings, numbers, dates and offsets such as ``-30d`` and
``30_days_ago``), with errors at line and column. :data:`FILTERS` maps each
Shopify filter we read to a segmentry attribute; :data:`REFUSED` names the
filters and functions we do not have, and why; ``products_purchased(...)`` is the
language's ``purchased(...)`` (:mod:`.shopify_purchases`), ``anniversary('date')``
its ``anniversary(date attribute)`` where the two mean the same
(:mod:`.shopify_anniversary`). Writing is :mod:`.shopify_write`. Filter names,
operators and value formats follow Shopify's reference of its segment filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from segmentry.errors import RuleError
from segmentry.model.schema import Kind, Schema
from segmentry.rules.ast import (
    Node,
    Not,
    Scalar,
    Value,
)
from segmentry.rules.convert import shopify_anniversary, shopify_purchases
from segmentry.rules.convert.common import Depth, condition, join, refuse
from segmentry.rules.lexer import Positions, Token, TokenKind, error, tokenize
from segmentry.rules.operators import Op
from segmentry.rules.parser import LITERAL_WORDS


@dataclass(frozen=True, slots=True)
class Filter:
    """A Shopify filter read as one of our attributes; ``translate`` turns a Shopify
    operator and value into ours (and whether to negate) where the two differ."""

    attr: str
    translate: Callable[[Op, Value], tuple[Op, Value, bool]] | None = None


def _country(op: Op, value: Value) -> tuple[Op, Value, bool]:
    # A customer has one country here: "has an address in ES" is country = 'ES'.
    twins = {Op.CONTAINS: Op.EQ, Op.NOT_CONTAINS: Op.NE}
    return twins.get(op, op), value, False


def _email_domain(op: Op, value: Value) -> tuple[Op, Value, bool]:
    if op in (Op.EQ, Op.NE) and isinstance(value, str):
        written = Op.NOT_ENDS_WITH if op is Op.NE else Op.ENDS_WITH
        return written, "@" + value.lstrip("@"), False
    return op, value, False


def _subscription(op: Op, value: Value) -> tuple[Op, Value, bool]:
    if op in (Op.EQ, Op.NE) and isinstance(value, str) and value.upper() == "SUBSCRIBED":
        return op, True, False
    raise ValueError("only = 'SUBSCRIBED' and != 'SUBSCRIBED' map to accepts_marketing")


FILTERS: dict[str, Filter] = {
    "amount_spent": Filter("lifetime_value"),
    "number_of_orders": Filter("orders_count"),
    "customer_tags": Filter("tags"),
    "customer_countries": Filter("country", _country),
    "last_order_date": Filter("last_order_at"),
    "customer_added_date": Filter("created_at"),
    "customer_language": Filter("language"),
    "customer_email_domain": Filter("email", _email_domain),
    "email_subscription_status": Filter("accepts_marketing", _subscription),
}
REFUSED: dict[str, str] = {
    "orders_placed": "Shopify's parameters are not read; write it in segmentry's language: "
    "orders_placed(since: -30d) >= 2",
    "customer_cities": "Shopify city codes (US-NY-NewYorkCity) are not city names",
    "customer_regions": "segmentry keeps no state or province",
    "abandoned_checkout_date": "segmentry keeps no abandoned checkouts",
    "companies": "segmentry keeps no companies",
    "customer_account_status": "segmentry keeps no account status",
    "customer_within_distance": "segmentry keeps no addresses",
    "predicted_spend_tier": "segmentry has no predicted spend tier",
    "rfm_group": "segmentry has no RFM groups",
    "sms_subscription_status": "segmentry keeps no SMS subscription",
    "product_subscription_status": "segmentry keeps no product subscriptions",
    "store_credit_accounts": "segmentry keeps no store credit",
    "created_by_app_id": "segmentry does not record which app created a customer",
}
FUNCTION_RE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|([A-Za-z_][\w.]*)\s*\(")
COMPARISON_OPS = {"=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}


def read(text: str, schema: Schema) -> Node:
    """The rule a Shopify segment query means; errors name line and column."""
    if schema.kind is not Kind.CUSTOMER:
        raise refuse("a Shopify segment query", "rule", "Shopify segments are of customers")
    if not isinstance(text, str):
        raise refuse("a non-text rule", "rule", "a Shopify query is text")
    _refuse_functions(text)
    return _Parser(text, schema).rule()


def _refuse_functions(text: str) -> None:
    positions = Positions(text)
    for match in FUNCTION_RE.finditer(text):
        name = match.group(1)
        known = ("AND", "OR", "NOT", "CONTAINS", "IN", "BETWEEN", shopify_purchases.NAME.upper(),
                 shopify_anniversary.NAME.upper())  # fmt: skip
        if name and name.upper() not in known:
            span = positions.span(match.start(1), match.end(1))
            why = REFUSED.get(name, "Shopify functions and event filters are not read")
            raise refuse(f"{name}()", f"line {span.line}, column {span.column}", why)


class _Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self.text = text
        self.schema = schema
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = Depth()

    def peek(self) -> Token:
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def word(self, *words: str) -> bool:
        return self.peek().kind is TokenKind.IDENT and self.peek().word in words

    def fail(self, token: Token, message: str, hint: str = "") -> RuleError:
        return error(self.text, token.span, message, hint)

    def rule(self) -> Node:
        if self.peek().kind is TokenKind.EOF:
            raise self.fail(self.peek(), "the query is empty")
        node = self.chain("OR")
        if self.peek().kind is not TokenKind.EOF:
            raise self.fail(self.peek(), f"expected AND, OR or the end, found {self.peek().text!r}")
        return node

    def chain(self, word: str) -> Node:
        items = [self.item(word)]
        while self.word(word):
            self.advance()
            items.append(self.item(word))
        return join(items, any_of=word == "OR")

    def item(self, word: str) -> Node:
        return self.chain("AND") if word == "OR" else self.unary()

    def unary(self) -> Node:
        token = self.peek()
        self.depth.enter(f"line {token.span.line}, column {token.span.column}")
        try:
            return self.unary_at()
        finally:
            self.depth.leave()

    def unary_at(self) -> Node:
        if self.word("NOT"):
            self.advance()
            return Not(self.unary())
        if self.peek().kind is TokenKind.LPAREN:
            opening = self.advance()
            node = self.chain("OR")
            if self.peek().kind is not TokenKind.RPAREN:
                raise self.fail(opening, "'(' is never closed")
            self.advance()
            return node
        return self.filter()

    def filter(self) -> Node:
        name = self.advance()
        if name.kind is not TokenKind.IDENT:
            raise self.fail(name, f"expected a filter name, found {name.text!r}")
        where = f"line {name.span.line}, column {name.span.column}"
        if name.text.lower() == shopify_purchases.NAME:
            return shopify_purchases.read(self, name, where)
        if name.text.lower() == shopify_anniversary.NAME:
            return shopify_anniversary.read(self, name, where)
        known = FILTERS.get(name.text.lower())
        if known is None:
            why = REFUSED.get(name.text.lower(), "not a Shopify filter segmentry reads; "
                              f"those are {', '.join(FILTERS)}")  # fmt: skip
            raise refuse(f"filter {name.text!r}", where, why)
        op, value = self.operator(name)
        negated = False
        if known.translate is not None:
            try:
                op, value, negated = known.translate(op, value)
            except ValueError as exc:
                raise refuse(f"{name.text} {op.value.upper()}", where, str(exc)) from None
        attr = self.schema.by_key[known.attr]
        node = condition(attr, op, value, self.schema, where)
        return Not(node) if negated else node

    def operator(self, name: Token) -> tuple[Op, Value]:
        token = self.advance()
        if token.kind is TokenKind.OP and token.value in COMPARISON_OPS:
            return COMPARISON_OPS[str(token.value)], self.value()
        word = token.word if token.kind is TokenKind.IDENT else ""
        if word == "CONTAINS":
            return Op.CONTAINS, self.value()
        if word == "NOT" and self.word("CONTAINS"):
            self.advance()
            return Op.NOT_CONTAINS, self.value()
        if word == "BETWEEN":
            low = self.value()
            if not self.word("AND"):
                raise self.fail(self.peek(), "expected AND between the two values of BETWEEN")
            self.advance()
            return Op.BETWEEN, (low, self.value())
        if word == "IS":
            negated = self.word("NOT")
            if negated:
                self.advance()
            if not self.word("NULL"):
                raise self.fail(self.peek(), "expected NULL after IS")
            self.advance()
            return (Op.IS_NOT_NULL if negated else Op.IS_NULL), None
        raise self.fail(token, f"expected an operator after {name.text}, found {token.text!r}",
                        "operators are =, !=, <, <=, >, >=, BETWEEN, CONTAINS, NOT CONTAINS, "
                        "IS NULL, IS NOT NULL")  # fmt: skip

    def value(self) -> Scalar:
        token = self.advance()
        if token.kind in (TokenKind.STRING, TokenKind.NUMBER, TokenKind.TEMPORAL):
            return token.value
        if token.kind is TokenKind.IDENT and token.word in LITERAL_WORDS:
            return LITERAL_WORDS[token.word]
        raise self.fail(token, f"expected a value, found {token.text!r}")
