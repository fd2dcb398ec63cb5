"""The text form of behaviour functions (SPEC §8, docs/behaviour.md)::

    behaviour := act '(' [rule] [','] [window] ')' [comparison number]
    window    := since ':' temporal [',' until ':' temporal] | until ':' temporal

``amount_spent(channel = 'app', since: -1y) > 500``, ``purchased(IN SEGMENT 'p')``:
a function's name is a function only before '(', so an attribute may share it
(``revenue > 5`` compares the product attribute). Every function but
``purchased`` must be compared with a number; ``purchased`` takes no comparison.
The :class:`~segmentry.rules.parser.Parser` calls :func:`behaviour` and lends it
its token helpers and its rule grammar for the condition inside.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segmentry.model.suggest import suggest
from segmentry.rules import operators
from segmentry.rules.ast import NO_SPAN, Behaviour, Node, Span, WindowSpans
from segmentry.rules.lexer import Token, TokenKind, describe
from segmentry.rules.operators import Act, Op

if TYPE_CHECKING:
    from segmentry.rules.parser import Parser

WINDOW_WORDS = ("SINCE", "UNTIL")
DAY_WORDS = frozenset({"TODAY", "YESTERDAY", "TOMORROW"})
WINDOW_HINT = "since: and until: take -30d, 2024-01-01, 2024-01-01T10:00:00Z or today"
VALUE_HINT = "write a number without quotes: 500 or 99.99"


def starts_behaviour(parser: Parser) -> bool:
    """Whether the parser stands at a behaviour function: its name, then '('."""
    token, following = parser.peek(), parser.following()
    return token.word in operators.ACT_WORDS and following.kind is TokenKind.LPAREN


def behaviour(parser: Parser) -> Behaviour:
    """The behaviour function at the parser, with its condition, window and comparison."""
    name = parser.advance()
    act = operators.ACT_WORDS[name.word]
    opening = parser.advance()
    parser.enter(name)
    parser._count(name)
    where: Node | None = None
    if parser.peek().kind not in (TokenKind.RPAREN, TokenKind.EOF) and not _at_window(parser):
        where = parser.or_()
    since, until, ends = _window(parser, act, opening, where is not None)
    parser.advance()  # the ')' _window stopped at
    parser.depth -= 1
    op, value, op_span, value_span = _comparison(parser, act)
    spans = WindowSpans(name.span, ends[0], ends[1], op_span, value_span)
    return Behaviour(act, where, since, until, op, value, parser.span_from(name.span), spans)


def _at_window(parser: Parser) -> bool:
    """A named argument starts here: ``since:``, ``snce:``, or ``since -30d`` (no colon)."""
    token, following = parser.peek(), parser.following()
    if token.kind is not TokenKind.IDENT:
        return False
    if following.kind is TokenKind.COLON:
        return True
    return token.word in WINDOW_WORDS and _is_temporal(following)


def _is_temporal(token: Token) -> bool:
    return token.kind is TokenKind.TEMPORAL or (
        token.kind is TokenKind.IDENT and token.word in DAY_WORDS
    )


def _window(
    parser: Parser, act: Act, opening: Token, after_condition: bool
) -> tuple[str | None, str | None, tuple[Span, Span]]:
    """The named arguments up to the closing ')' (left for the caller to take)."""
    ends: dict[str, str] = {}
    spans: dict[str, Span] = {}
    previous = f"the condition of {act.value}()" if after_condition else ""
    while parser.peek().kind is not TokenKind.RPAREN:
        if parser.peek().kind is TokenKind.EOF:
            raise parser.fail(opening, "'(' is never closed", "add ')' after the arguments")
        if previous:
            _comma(parser, previous)
        word, value, span = _argument(parser, act)
        if word in ends:
            raise parser.fail(span, f"{word}: is given twice")
        if word == "since" and "until" in ends:
            raise parser.fail(span, "since: comes before until:",
                              f"{act.value}(since: -30d, until: -7d)")  # fmt: skip
        ends[word], spans[word] = value, span
        previous = f"{word}: {value}"
    return (
        ends.get("since"),
        ends.get("until"),
        (
            spans.get("since", NO_SPAN),
            spans.get("until", NO_SPAN),
        ),
    )


def _comma(parser: Parser, previous: str) -> None:
    token = parser.peek()
    if token.kind is TokenKind.COMMA:
        parser.advance()
        return
    raise parser.fail(
        token,
        f"expected ',' or ')' after {previous}, found {describe(token)}",
        "separate since: and until: from what comes before with a comma",
    )


def _argument(parser: Parser, act: Act) -> tuple[str, str, Span]:
    """``since: -30d``: the argument's name, its canonical literal and its span."""
    name = parser.peek()
    if name.kind is not TokenKind.IDENT or not _at_window(parser):
        raise parser.fail(
            name,
            f"expected since: or until:, found {describe(name)}",
            f"the condition comes first: {act.value}(brand = 'Nike', since: -30d)",
        )
    if name.word not in WINDOW_WORDS:
        close = suggest(name.text.lower(), ["since", "until"], quote=False)
        raise parser.fail(name, f"unknown argument {name.text!r} of {act.value}()",
                          close or "the arguments are since: and until:")  # fmt: skip
    word = name.word.lower()
    parser.advance()
    if parser.peek().kind is not TokenKind.COLON:
        raise parser.fail(parser.peek(), f"expected ':' after {word}", f"write {word}: -30d")
    parser.advance()
    value = parser.peek()
    if not _is_temporal(value):
        raise parser.fail(value, f"expected a date or relative time after {word}:, "
                          f"found {describe(value)}", WINDOW_HINT)  # fmt: skip
    parser.advance()
    literal = str(value.value).lower() if value.kind is TokenKind.IDENT else str(value.value)
    return word, literal, parser.span_from(name.span)


def _comparison(parser: Parser, act: Act) -> tuple[Op | None, int | float | None, Span, Span]:
    """The comparison after the function: none for ``purchased``, one number for others."""
    token = parser.peek()
    subject = f"{act.value}(...)"
    if act is Act.PURCHASED:
        if token.kind is TokenKind.OP:
            raise parser.fail(
                token,
                "purchased() is true or false on its own: it takes no comparison",
                "to compare the units bought, use units_purchased(...) >= 2",
            )
        return None, None, NO_SPAN, NO_SPAN
    allowed = operators.listed(operators.BEHAVIOUR_OPS)
    if token.kind is not TokenKind.OP:
        if token.kind is TokenKind.IDENT and token.word in operators.FIRST_WORDS:
            raise parser.fail(token, f"{act.value}() is compared with {allowed}",
                              f"{subject} > 100, or two of them joined by AND")  # fmt: skip
        raise parser.fail(
            token,
            f"expected a comparison after {subject}, found {describe(token)}",
            f"{act.value}() is a number: compare it with {allowed}, as in {act.value}() >= 1",
        )
    parser.advance()
    op = Op(str(token.value))
    number = parser.peek()
    if number.kind is not TokenKind.NUMBER:
        raise parser.fail(number, f"expected a number after {subject} {op.text}, "
                          f"found {describe(number)}", VALUE_HINT)  # fmt: skip
    parser.advance()
    assert isinstance(number.value, int | float)
    return op, number.value, token.span, number.span
