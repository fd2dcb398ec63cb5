"""Tokens of the rule text form.

A hand-written scanner over one master regular expression (every alternative
is linear: no nested quantifiers), plus a manual scan for quoted strings so
that escapes and unterminated quotes get precise errors. Keywords are plain
identifiers; the parser compares them case-insensitively.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import StrEnum

from segmentry.errors import Diagnostic, RuleError
from segmentry.model import temporal
from segmentry.model.limits import MAX_SAFE_INTEGER, MAX_STRING_LENGTH, MAX_TEXT_LENGTH
from segmentry.rules import operators
from segmentry.rules.ast import Span


class TokenKind(StrEnum):
    """What a token is; the value is how a message names it ("expected a word")."""

    STRING = "string"
    NUMBER = "number"
    TEMPORAL = "temporal"
    IDENT = "word"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    COLON = "':'"
    EOF = "end of rule"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    value: str | int | float
    span: Span

    @property
    def word(self) -> str:
        """The upper-cased text, for keyword comparisons."""
        return self.text.upper()


_WORD_END = r"(?![\w.:])"
# Longest first, so that '<=' is not read as '<' followed by '='.
_SYMBOLS = "|".join(re.escape(s) for s in sorted(operators.SYMBOLS, key=len, reverse=True))
TOKEN_RE = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<datetime>\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d{{1,6}})?)?
        (?:Z|[+-]\d{{2}}:?\d{{2}})?){_WORD_END}
  | (?P<date>\d{{4}}-\d{{2}}-\d{{2}}){_WORD_END}
  | (?P<relative>[+-]\d{{1,7}}[hdwmyHDWMY]){_WORD_END}
  | (?P<named>\d{{1,7}}_(?i:hour|day|week|month|year)(?i:s)?_(?i:ago)){_WORD_END}
  | (?P<number>-?\d{{1,20}}(?:\.\d{{1,340}})?)(?![\w.:-])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>{_SYMBOLS})
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<colon>:)
  | (?P<quote>['"])
    """,
    re.VERBOSE,
)
JUNK_RE = re.compile(r"[\w.:+-]{1,40}")
SURROGATE_RE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 pair on its own: JSON's ``\\ud800`` escape, or a byte of a command
line that is not UTF-8; no database stores it, and it is no character to compare."""
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\x00"}
HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class Positions:
    """Turns offsets into 1-based line and column numbers."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def span(self, start: int, end: int) -> Span:
        line = bisect.bisect_right(self.starts, start)
        return Span(start, end, line, start - self.starts[line - 1] + 1)


def error(text: str, span: Span, message: str, hint: str = "") -> RuleError:
    """A rule error at ``span`` of ``text``."""
    diagnostic = Diagnostic(
        message, span.line, span.column, hint, span.start, max(1, span.end - span.start)
    )
    return RuleError([diagnostic], text)


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = Positions(text)

    def fail(self, start: int, end: int, message: str, hint: str = "") -> RuleError:
        return error(self.text, self.pos.span(start, end), message, hint)

    def tokens(self) -> list[Token]:
        if len(self.text) > MAX_TEXT_LENGTH:
            size = f"{len(self.text):,} characters; the limit is {MAX_TEXT_LENGTH:,}"
            raise self.fail(MAX_TEXT_LENGTH, MAX_TEXT_LENGTH + 1, f"rule is too long: {size}")
        if surrogate := SURROGATE_RE.search(self.text):
            raise self._surrogate(surrogate.start(), surrogate.end(), ord(surrogate.group()))
        out: list[Token] = []
        at = 0
        while at < len(self.text):
            token, at = self._next(at)
            if token is not None:
                out.append(token)
        out.append(Token(TokenKind.EOF, "", "", self.pos.span(len(self.text), len(self.text))))
        return out

    def _next(self, at: int) -> tuple[Token | None, int]:
        match = TOKEN_RE.match(self.text, at)
        if match is None:
            raise self._junk(at)
        group, end = match.lastgroup, match.end()
        if group == "ws":
            return None, end
        if group == "quote":
            return self._string(at)
        lexeme = match.group()
        return self._token(str(group), lexeme, at, end), end

    def _token(self, group: str, lexeme: str, start: int, end: int) -> Token:
        span = self.pos.span(start, end)
        if group in ("datetime", "date", "relative", "named"):
            return Token(TokenKind.TEMPORAL, lexeme, self._temporal(lexeme, start, end), span)
        if group == "number":
            return Token(TokenKind.NUMBER, lexeme, self._number(lexeme, start, end), span)
        if group == "op":
            return Token(TokenKind.OP, lexeme, operators.SYMBOLS[lexeme].value, span)
        kind = {
            "ident": TokenKind.IDENT,
            "lparen": TokenKind.LPAREN,
            "rparen": TokenKind.RPAREN,
            "comma": TokenKind.COMMA,
            "colon": TokenKind.COLON,
        }[group]
        return Token(kind, lexeme, lexeme, span)

    def _temporal(self, lexeme: str, start: int, end: int) -> str:
        try:
            value = temporal.read_temporal(lexeme)
        except temporal.TemporalError as exc:
            raise self.fail(start, end, str(exc)) from None
        if value is None:  # pragma: no cover - the token regex only admits readable shapes
            raise self.fail(start, end, f"{lexeme!r} is not a date or relative time")
        return temporal.canonical(value)

    def _number(self, lexeme: str, start: int, end: int) -> int | float:
        value: int | float = float(lexeme) if "." in lexeme else int(lexeme)
        if abs(value) > MAX_SAFE_INTEGER:
            limit = f"numbers are limited to ±{MAX_SAFE_INTEGER:,}"
            raise self.fail(start, end, f"number {lexeme} is out of range", limit)
        return value

    def _surrogate(self, start: int, end: int, code: int) -> RuleError:
        return self.fail(
            start,
            end,
            f"U+{code:04X} is a lone surrogate, not a character",
            "a rule must be valid Unicode text (UTF-8)",
        )

    def _junk(self, at: int) -> RuleError:
        if match := JUNK_RE.match(self.text, at):
            word = match.group()
            if word[0].isdigit() or word[0] in "+-":
                return self.fail(
                    at,
                    match.end(),
                    f"{word!r} is not a number, date or relative time",
                    "numbers look like 42 or -3.5, dates like 2024-03-01, "
                    "relative times like -30d or 30_days_ago",
                )
        char = self.text[at]
        return self.fail(at, at + 1, f"unexpected character {char!r}", _char_hint(char))

    def _string(self, start: int) -> tuple[Token, int]:
        quote, at, parts = self.text[start], start + 1, []
        while True:
            stop = _find_any(self.text, at, quote)
            if stop < 0:
                raise self.fail(
                    start, start + 1, "unterminated string", f"close it with a matching {quote}"
                )
            parts.append(self.text[at:stop])
            if self.text[stop] == quote:
                break
            piece, at = self._escape(stop)
            parts.append(piece)
        value = "".join(parts)
        if len(value) > MAX_STRING_LENGTH:
            raise self.fail(
                start, stop + 1, f"string is longer than {MAX_STRING_LENGTH:,} characters"
            )
        return Token(
            TokenKind.STRING, self.text[start : stop + 1], value, self.pos.span(start, stop + 1)
        ), stop + 1

    def _escape(self, at: int) -> tuple[str, int]:
        """The text of the escape at ``at`` (a backslash) and where scanning resumes."""
        nxt = self.text[at + 1 : at + 2]
        if nxt in ESCAPES:
            return ESCAPES[nxt], at + 2
        if nxt in HEX_ESCAPES:
            width = HEX_ESCAPES[nxt]
            digits = self.text[at + 2 : at + 2 + width]
            if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if 0xD800 <= code <= 0xDFFF:
                    raise self._surrogate(at, at + 2 + width, code)
                if code <= 0x10FFFF:
                    return chr(code), at + 2 + width
            raise self.fail(
                at, at + 2, f"bad \\{nxt} escape", f"write \\{nxt} and {width} hex digits"
            )
        # Unknown escapes keep their backslash, so regular expressions such as
        # '^\d+$' can be written without doubling every backslash.
        return "\\", at + 1


STRING_STOPS = {"'": re.compile(r"['\\]"), '"': re.compile(r'["\\]')}


def _find_any(text: str, at: int, quote: str) -> int:
    """The offset of the next quote or backslash at or after ``at``, or -1 (linear)."""
    match = STRING_STOPS[quote].search(text, at)
    return match.start() if match else -1


def _char_hint(char: str) -> str:
    if char in "!&|":
        return "use AND, OR and NOT"
    if char in "[]{}":
        return "lists are written in parentheses: IN ('a', 'b')"
    if char == ".":
        return "decimals need a digit before the point: 0.5"
    return "strings need quotes: 'text'"


def describe(token: Token) -> str:
    """How an error names the token it found."""
    if token.kind is TokenKind.EOF:
        return "the end of the rule"
    text = token.text if len(token.text) <= 30 else token.text[:27] + "..."
    return f"{token.kind} {text!r}" if token.kind is not TokenKind.IDENT else repr(text)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an EOF token, or a RuleError."""
    return Lexer(text).tokens()
