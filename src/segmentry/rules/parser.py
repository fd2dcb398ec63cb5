"""The rule text form: a hand-written recursive-descent parser.

Why hand-written rather than Lark: the grammar is small (about a dozen
productions), and a hand-written parser gives us exact control of what every
error says and where it points (did-you-mean for misspelt operators, "strings
need quotes" for bare words), a hard depth limit checked before recursing, and
speed (a fuzz run parses tens of thousands of inputs per CI run).

    rule      := or EOF
    or        := and (OR and)*
    and       := not (AND not)*
    not       := NOT not | primary
    primary   := '(' or ')' | IN SEGMENT string | behaviour | condition
    condition := word operator
    behaviour := see segmentry.rules.behaviour_text
"""

from __future__ import annotations

from collections.abc import Callable

from segmentry.errors import RuleError
from segmentry.model.limits import MAX_CONDITIONS, MAX_DEPTH, MAX_LIST_ITEMS
from segmentry.model.suggest import suggest
from segmentry.rules import operators
from segmentry.rules.ast import (
    And,
    AttrRef,
    Condition,
    ConditionSpans,
    InSegment,
    Node,
    Not,
    Or,
    Scalar,
    Span,
    Value,
)
from segmentry.rules.behaviour_text import behaviour, starts_behaviour
from segmentry.rules.lexer import Token, TokenKind, describe, error, tokenize
from segmentry.rules.operators import Arity, Fn, Op

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "SEGMENT"}) | operators.OPERATOR_WORDS
LITERAL_WORDS: dict[str, Scalar] = {
    "TRUE": True, "YES": True, "FALSE": False, "NO": False,
    "TODAY": "today", "YESTERDAY": "yesterday", "TOMORROW": "tomorrow",
}  # fmt: skip
NEGATION_HINT = "to negate a whole condition, put NOT before it: NOT brand = 'Nike'"


def parse(text: str) -> Node:
    """The rule tree of ``text``, or a RuleError pointing into ``text``."""
    return Parser(text).rule()


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = 0
        self.conditions = 0

    # -- token helpers -------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.at]

    def following(self) -> Token:
        """The token after the next one."""
        return self.tokens[min(self.at + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def is_word(self, *words: str) -> bool:
        return self.peek().kind is TokenKind.IDENT and self.peek().word in words

    def accept_word(self, word: str) -> Token | None:
        return self.advance() if self.is_word(word) else None

    def expect_word(self, word: str, after: str) -> Token:
        if not self.is_word(word):
            raise self.fail(
                self.peek(), f"expected {word} after {after}, found {describe(self.peek())}"
            )
        return self.advance()

    def expect(self, kind: TokenKind, after: str, hint: str = "") -> Token:
        if self.peek().kind is not kind:
            raise self.fail(
                self.peek(), f"expected {kind} after {after}, found {describe(self.peek())}", hint
            )
        return self.advance()

    def fail(self, token: Token | Span, message: str, hint: str = "") -> RuleError:
        span = token.span if isinstance(token, Token) else token
        return error(self.text, span, message, hint)

    def span_from(self, start: Span) -> Span:
        end = self.tokens[self.at - 1].span if self.at else start
        return Span(start.start, end.end, start.line, start.column)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(token, f"rule is nested too deeply: more than {MAX_DEPTH} levels")

    # -- grammar -------------------------------------------------------------

    def rule(self) -> Node:
        if self.peek().kind is TokenKind.EOF:
            raise self.fail(
                self.peek(), "the rule is empty", "write a condition such as price > 100"
            )
        node = self.or_()
        if self.peek().kind is TokenKind.RPAREN:
            raise self.fail(self.peek(), "unexpected ')': no '(' is open here")
        if self.peek().kind is not TokenKind.EOF:
            raise self.fail(
                self.peek(),
                f"expected AND, OR or the end of the rule, found {describe(self.peek())}",
            )
        return node

    def or_(self) -> Node:
        return self._chain("OR", self.and_, Or)

    def and_(self) -> Node:
        return self._chain("AND", self.not_, And)

    def _chain(self, word: str, item: Callable[[], Node], group: type[And] | type[Or]) -> Node:
        start = self.peek().span
        items = [item()]
        while self.accept_word(word):
            items.append(item())
        return items[0] if len(items) == 1 else group(tuple(items), self.span_from(start))

    def not_(self) -> Node:
        token = self.peek()
        if not self.is_word("NOT"):
            return self.primary()
        self.advance()
        self.enter(token)
        if self.peek().kind is TokenKind.EOF:
            raise self.fail(self.peek(), "expected a condition after NOT")
        node = Not(self.not_(), self.span_from(token.span))
        self.depth -= 1
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token.kind is TokenKind.LPAREN:
            return self.group()
        if self.is_word("IN"):
            return self.segment()
        if token.word in operators.EACH_WORDS:
            return self.quantified()
        if starts_behaviour(self):
            return behaviour(self)
        if (
            token.kind is TokenKind.IDENT
            and token.word not in KEYWORDS
            and token.word not in LITERAL_WORDS
        ):
            return self.condition()
        raise self.fail(
            token, f"expected a condition, found {describe(token)}", _condition_hint(token)
        )

    def group(self) -> Node:
        opening = self.advance()
        self.enter(opening)
        if self.peek().kind is TokenKind.RPAREN:
            raise self.fail(self.peek(), "empty parentheses", "put a condition inside them")
        node = self.or_()
        if self.peek().kind is not TokenKind.RPAREN:
            if self.peek().kind is TokenKind.EOF:
                raise self.fail(opening, "'(' is never closed", "add ')' at the end of the group")
            raise self.fail(self.peek(), f"expected ')' or AND/OR, found {describe(self.peek())}")
        self.advance()
        self.depth -= 1
        return node

    def segment(self) -> Node:
        start = self.advance().span
        self.expect_word("SEGMENT", "IN")
        code = self.expect(
            TokenKind.STRING, "IN SEGMENT", "name the segment by its code in quotes: 'vip'"
        )
        self._count(code)
        return InSegment(str(code.value), self.span_from(start), code.span)

    def _count(self, token: Token) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.fail(token, f"rule has more than {MAX_CONDITIONS:,} conditions")

    # -- conditions ----------------------------------------------------------

    def condition(self) -> Node:
        start = self.peek()
        fn = self.function()
        attr = self.advance() if fn is None else self.argument(start)
        self._count(attr)
        op_token = self.peek()
        op = self.operator(attr.text if fn is None else f"{fn.value}({attr.text})")
        op_span = self.span_from(op_token.span)
        value, value_span, items = self.operand(op, attr)
        spans = ConditionSpans(attr.span, op_span, value_span, items)
        return Condition(attr.text, op, value, self.span_from(start.span), spans, fn)

    def quantified(self) -> Node:
        """``ANY tags STARTS WITH 'a'``: a string test of each item of a list."""
        word = self.advance()
        attr = self.peek()
        if attr.kind is not TokenKind.IDENT or _reserved(attr):
            raise self.fail(attr, f"expected a list attribute after {word.word}, found "
                            f"{describe(attr)}", f"{word.word} tags STARTS WITH 'a'")  # fmt: skip
        self.advance()
        self._count(attr)
        op_token = self.peek()
        op = self.operator(f"{word.word} {attr.text}")
        op_span = self.span_from(op_token.span)
        value, value_span, items = self.operand(op, attr, attributes=False)
        spans = ConditionSpans(attr.span, op_span, value_span, items)
        each = operators.EACH_WORDS[word.word]
        return Condition(attr.text, op, value, self.span_from(word.span), spans, each=each)

    def function(self) -> Fn | None:
        """The function a condition starts with (``count(``), if any: a function's
        name is a function only before '(', so an attribute may be named ``count``."""
        token = self.peek()
        if token.word in operators.FUNCTION_WORDS and self.following().kind is TokenKind.LPAREN:
            self.advance()
            self.advance()
            return operators.FUNCTION_WORDS[token.word]
        return None

    def argument(self, name: Token) -> Token:
        """The attribute between a function's parentheses, and the ')' after it."""
        attr = self.peek()
        if attr.kind is not TokenKind.IDENT or attr.word in KEYWORDS | LITERAL_WORDS.keys():
            raise self.fail(attr, f"expected an attribute in {name.text}(), found {describe(attr)}",
                            f"name a list attribute: {name.text.lower()}(tags)")  # fmt: skip
        self.advance()
        self.expect(TokenKind.RPAREN, f"{name.text}({attr.text}", "a function takes one attribute")
        return attr

    def operator(self, subject: str) -> Op:
        token = self.peek()
        if token.kind is TokenKind.OP:
            self.advance()
            return Op(str(token.value))
        if token.kind is not TokenKind.IDENT:
            found = f"expected an operator after {subject}, found {describe(token)}"
            raise self.fail(token, found, f"operators are {operators.listed()}")
        if token.word not in operators.FIRST_WORDS:
            raise self.fail(
                token, f"unknown operator {token.text!r} after {subject}", _op_hint(token.word)
            )
        return self.word_operator((self.advance().word,))

    def word_operator(self, words: tuple[str, ...]) -> Op:
        """The longest operator of the registry that ``words`` and the words after them spell."""
        while True:
            following = _following(words)
            if self.is_word(*following):
                words = (*words, self.advance().word)
            elif words in operators.WORDS:
                return operators.WORDS[words]
            else:
                # name each way on to an operator by its words up to the end of the
                # shortest one: IS NULL (IS NOT NULL is NOT NULL), NOT STARTS WITH
                ending = [_completion(words, w) for w in following]
                found = f"expected {_either(ending)} after {' '.join(words)}"
                hint = NEGATION_HINT if words == ("NOT",) else ""
                raise self.fail(self.peek(), f"{found}, found {describe(self.peek())}", hint)

    def operand(
        self, op: Op, attr: Token, *, attributes: bool = True
    ) -> tuple[Value, Span, tuple[Span, ...]]:
        start = self.peek().span
        if op.arity is Arity.NONE:
            return None, start, ()
        if op.arity is Arity.PAIR:
            low = self.value(op)
            self.expect_word("AND", "the first value of BETWEEN")
            high = self.value(op)
            return (low[0], high[0]), self.span_from(start), (low[1], high[1])
        if op.arity is Arity.LIST:
            return self.value_list(op)
        token = self.peek()
        if (
            attributes
            and op in operators.ATTRIBUTE_OPS
            and token.kind is TokenKind.IDENT
            and not _reserved(token)
        ):
            self.advance()  # another attribute; the checker says if it is none (or meant text)
            return AttrRef(token.text), token.span, ()
        value, span = self.value(op)
        return value, span, ()

    def value_list(self, op: Op) -> tuple[Value, Span, tuple[Span, ...]]:
        start = self.peek().span
        self.expect(TokenKind.LPAREN, op.text, "put the values in parentheses: IN ('a', 'b')")
        values: list[Scalar] = []
        spans: list[Span] = []
        while True:
            if len(values) >= MAX_LIST_ITEMS:
                raise self.fail(self.peek(), f"a list holds at most {MAX_LIST_ITEMS:,} values")
            value, span = self.value(op)
            values.append(value)
            spans.append(span)
            if self.peek().kind is not TokenKind.COMMA:
                break
            self.advance()
        self.expect(TokenKind.RPAREN, "the last value of the list", "separate values with commas")
        return tuple(values), self.span_from(start), tuple(spans)

    def value(self, op: Op) -> tuple[Scalar, Span]:
        token = self.peek()
        if token.kind in (TokenKind.STRING, TokenKind.NUMBER, TokenKind.TEMPORAL):
            self.advance()
            return token.value, token.span
        if token.kind is TokenKind.IDENT and token.word in LITERAL_WORDS:
            self.advance()
            return LITERAL_WORDS[token.word], token.span
        if token.kind is TokenKind.IDENT and token.word not in KEYWORDS:
            raise self.fail(
                token, f"{token.text!r} is not a value", f"strings need quotes: '{token.text}'"
            )
        if token.kind is TokenKind.LPAREN:
            raise self.fail(token, f"{op.text} takes a single value, not a list",
                            "lists go with IN, NOT IN and CONTAINS ANY, ALL or NONE")  # fmt: skip
        raise self.fail(token, f"expected a value after {op.text}, found {describe(token)}")


def _reserved(token: Token) -> bool:
    return token.word in KEYWORDS or token.word in LITERAL_WORDS


def _following(words: tuple[str, ...]) -> list[str]:
    """The words that can follow ``words`` within an operator, in the registry's order."""
    size = len(words)
    longer = (w[size] for w in operators.WORDS if len(w) > size and w[:size] == words)
    return list(dict.fromkeys(longer))


def _completion(words: tuple[str, ...], word: str) -> str:
    """The words after ``words`` of the shortest operator that goes on with ``word``."""
    size = len(words)
    spelled = min((w for w in operators.WORDS if w[: size + 1] == (*words, word)), key=len)
    return " ".join(spelled[size:])


def _either(choices: list[str]) -> str:
    """``A``, ``A or B``, ``A, B or C``."""
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _op_hint(word: str) -> str:
    close = suggest(word, operators.FIRST_WORDS, quote=False)
    return close or f"operators are {operators.listed()}"


def _condition_hint(token: Token) -> str:
    if token.kind is TokenKind.IDENT and token.word in ("AND", "OR"):
        return f"{token.word} joins two conditions; one is missing"
    if token.kind is TokenKind.RPAREN:
        return "a group needs a condition before ')'"
    return "a condition looks like: price > 100"
