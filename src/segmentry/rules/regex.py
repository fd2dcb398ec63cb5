"""The ``MATCHES`` operator: a safe subset of regular expressions, one tree, one
generator per engine.

A pattern is parsed into a small tree, folded for case-insensitivity, and
printed separately for each engine that runs it: RE2 (the Python evaluator and
SQLite), PostgreSQL's ARE (``~``) and Rust's ``regex`` (Polars). Only
constructs with the same meaning in all three are accepted; none of the
engines backtracks on them, so no pattern can hang anything.

Accepted: literals; ``.`` (any character, newline included); escaped
punctuation; ``\\t \\n \\r \\f \\v \\xHH \\uHHHH``; ``\\d \\w \\s`` and their
negations (ASCII sets: ``[0-9]``, ``[0-9A-Za-z_]``, ``[\\t\\n\\v\\f\\r ]``);
classes ``[...]``/``[^...]`` with ranges; ``^`` and ``$`` (start and end of
the whole text); groups ``(...)``/``(?:...)``; ``|``; ``* + ? {n} {n,} {n,m}``
(a trailing ``?`` for laziness is accepted and ignored: it cannot change
whether a search matches).

Case: the value is matched after :func:`segmentry.rules.values.fold`; the
pattern is folded to match: each literal becomes its fold (``ß`` → ``ss``);
each class gains the one-character folds of its members, for ranges of at most
5,000 characters (larger ranges are kept as written).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal as Lit

import re2

from segmentry.rules.limits import MAX_PATTERN_LENGTH, MAX_PATTERN_SIZE, MAX_REPEAT
from segmentry.rules.values import fold

MAX_GROUP_DEPTH = 50
MAX_CODE = 0x10FFFF
FOLDED_RANGE_LIMIT = 5_000
Ranges = tuple[tuple[int, int], ...]
Dialect = Lit["re2", "postgres", "rust"]


class PatternError(ValueError):
    """A pattern outside the accepted subset; ``offset`` is within the pattern."""

    def __init__(self, message: str, offset: int, length: int = 1, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.length = length
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Text:
    """Literal characters (one at parse time; folding may make several)."""

    chars: str


@dataclass(frozen=True, slots=True)
class CharClass:
    ranges: Ranges
    negated: bool = False


@dataclass(frozen=True, slots=True)
class AnyChar:
    pass


@dataclass(frozen=True, slots=True)
class Start:
    pass


@dataclass(frozen=True, slots=True)
class End:
    pass


@dataclass(frozen=True, slots=True)
class Concat:
    items: tuple[Regex, ...]


@dataclass(frozen=True, slots=True)
class Alternation:
    items: tuple[Regex, ...]


@dataclass(frozen=True, slots=True)
class Repeat:
    item: Regex
    low: int
    high: int | None


Regex = Text | CharClass | AnyChar | Start | End | Concat | Alternation | Repeat
EMPTY = Concat(())

DIGIT: Ranges = ((0x30, 0x39),)
WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
SPACE: Ranges = ((0x09, 0x0D), (0x20, 0x20))
SHORTHANDS: dict[str, tuple[Ranges, bool]] = {
    "d": (DIGIT, False), "D": (DIGIT, True), "w": (WORD, False), "W": (WORD, True),
    "s": (SPACE, False), "S": (SPACE, True),
}  # fmt: skip
CONTROL_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
HEX_WIDTHS = {"x": 2, "u": 4}
ANCHOR_ESCAPES = frozenset("bBAzZG")
PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


# -- parsing -----------------------------------------------------------------------


def parse_pattern(pattern: str) -> Regex:
    """The tree of ``pattern``, or a PatternError saying what and where."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"pattern is longer than {MAX_PATTERN_LENGTH:,} characters",
            MAX_PATTERN_LENGTH,
            hint="shorten it, or split it into several conditions",
        )
    for at, char in enumerate(pattern):
        if char == "\x00" or 0xD800 <= ord(char) <= 0xDFFF:
            raise PatternError(
                "patterns cannot hold NUL or lone surrogate characters", at, hint="remove it"
            )
    reader = _Reader(pattern)
    tree = reader.alternation(0)
    if reader.at < len(pattern):
        raise PatternError("unmatched ')'", reader.at, hint="escape it as \\) or remove it")
    if _size(tree) > MAX_PATTERN_SIZE:
        raise PatternError(
            f"pattern is too large once repetitions are counted (over {MAX_PATTERN_SIZE:,})",
            0, len(pattern), "use smaller {n,m} counts",
        )  # fmt: skip
    return tree


class _Reader:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0

    def peek(self, ahead: int = 0) -> str:
        index = self.at + ahead
        return self.text[index] if index < len(self.text) else ""

    def fail(
        self, message: str, at: int | None = None, length: int = 1, hint: str = ""
    ) -> PatternError:
        return PatternError(message, self.at if at is None else at, length, hint)

    def alternation(self, depth: int) -> Regex:
        items = [self.concat(depth)]
        while self.peek() == "|":
            self.at += 1
            items.append(self.concat(depth))
        return items[0] if len(items) == 1 else Alternation(tuple(items))

    def concat(self, depth: int) -> Regex:
        items: list[Regex] = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.quantified(depth))
        return items[0] if len(items) == 1 else Concat(tuple(items))

    def quantified(self, depth: int) -> Regex:
        atom = self.atom(depth)
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if self.peek() == "?":
            self.at += 1  # lazy: the same match or no match
        elif self.peek() == "+":
            raise self.fail("possessive quantifiers are not supported", hint="drop the '+'")
        if self.quantifier(peek_only=True) is not None:
            raise self.fail(
                "nothing to repeat: a quantifier follows another", hint="group it: (a*)*"
            )
        return Repeat(atom, *bounds)

    def quantifier(self, peek_only: bool = False) -> tuple[int, int | None] | None:
        char = self.peek()
        simple = {"*": (0, None), "+": (1, None), "?": (0, 1)}
        if char in simple:
            if not peek_only:
                self.at += 1
            return simple[char]
        if char == "{":
            return self.counted(peek_only)
        return None

    def counted(self, peek_only: bool) -> tuple[int, int | None] | None:
        close = self.text.find("}", self.at)
        body = self.text[self.at + 1 : close] if close > 0 else ""
        low_text, comma, high_text = body.partition(",")
        if close < 0 or not low_text.isdigit() or not (high_text.isdigit() or not high_text):
            raise self.fail(
                "'{' that is not a repetition count", hint="write \\{ for a literal brace"
            )
        low, high = (
            int(low_text),
            (int(high_text) if high_text else None) if comma else int(low_text),
        )
        if high is not None and low > high:
            raise self.fail(
                f"{{{body}}}: the minimum is above the maximum",
                length=close - self.at + 1,
                hint=f"write {{{high},{low}}}",
            )
        if max(low, high or 0) > MAX_REPEAT:
            raise self.fail(
                f"repetition counts are limited to {MAX_REPEAT}",
                length=close - self.at + 1,
                hint="use a smaller count, or + and * for 'one or more' and 'any number'",
            )
        if not peek_only:
            self.at = close + 1
        return low, high

    def atom(self, depth: int) -> Regex:
        char = self.peek()
        if char == "(":
            return self.group(depth)
        if char == "[":
            return self.char_class()
        if char == "\\":
            return self.escape(in_class=False)
        if char in "*+?{":
            raise self.fail("nothing to repeat", hint=f"escape it as \\{char} for a literal {char}")
        if char in "]}":
            raise self.fail(f"a literal {char} must be escaped", hint=f"write \\{char}")
        self.at += 1
        specials: dict[str, Regex] = {".": AnyChar(), "^": Start(), "$": End()}
        return specials.get(char, Text(char))

    def group(self, depth: int) -> Regex:
        opening = self.at
        if depth >= MAX_GROUP_DEPTH:
            raise self.fail(f"groups are nested more than {MAX_GROUP_DEPTH} deep")
        self.at += 1
        if self.peek() == "?":
            self.group_flags()
        inner = self.alternation(depth + 1)
        if self.peek() != ")":
            raise self.fail("missing ')'", at=opening, hint="close the group with ')'")
        self.at += 1
        return inner

    def group_flags(self) -> None:
        if self.peek(1) == ":":
            self.at += 2
            return
        special = {"=": "lookahead assertions", "!": "lookahead assertions",
                   "<": "lookbehind assertions and named groups", "P": "named groups",
                   ">": "atomic groups"}  # fmt: skip
        what = special.get(self.peek(1), "inline flags")
        hint = (
            "matching already ignores case" if what == "inline flags" else "use a plain group (...)"
        )
        raise self.fail(f"{what} are not supported", length=2, hint=hint)

    def escape(self, in_class: bool) -> Regex:
        start = self.at
        char = self.peek(1)
        self.at += 2
        if char in PUNCTUATION:
            return Text(char)
        if char in CONTROL_ESCAPES:
            return Text(CONTROL_ESCAPES[char])
        if char in SHORTHANDS:
            ranges, negated = SHORTHANDS[char]
            return CharClass(_complement(ranges) if negated else ranges)
        if char in HEX_WIDTHS:
            return Text(self.hex_escape(start, char))
        if char.isdigit():
            raise self.fail("backreferences are not supported", at=start, length=2,
                            hint="they make matching slow; repeat the text instead")  # fmt: skip
        if char in ANCHOR_ESCAPES and not in_class:
            raise self.fail(
                f"\\{char} is not supported",
                at=start,
                length=2,
                hint="use ^ and $ for the ends of the text",
            )
        if not char:
            raise self.fail(
                "pattern ends with a lone backslash", at=start, hint="write \\\\ for a backslash"
            )
        hint = "escape only punctuation; use a class such as [a-z] for letters"
        raise self.fail(f"unknown escape \\{char}", at=start, length=2, hint=hint)

    def hex_escape(self, start: int, kind: str) -> str:
        width = HEX_WIDTHS[kind]
        digits = self.text[self.at : self.at + width]
        if len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise self.fail(f"\\{kind} needs {width} hex digits", at=start, length=2 + len(digits))
        code = int(digits, 16)
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            raise self.fail("\\x and \\u cannot name NUL or surrogates", at=start, length=2 + width)
        self.at += width
        return chr(code)

    def char_class(self) -> Regex:
        opening = self.at
        self.at += 1
        negated = self.peek() == "^"
        self.at += negated
        if self.peek() == "[" and self.peek(1) in ":.=":
            raise self.fail(
                "POSIX classes such as [:alpha:] are not supported",
                length=2,
                hint="use \\d, \\w, \\s or a range",
            )
        ranges: list[tuple[int, int]] = []
        first = True
        while self.peek() != "]" or first:
            if not self.peek():
                raise self.fail("unterminated class", at=opening, hint="close it with ]")
            ranges.extend(self.class_item())
            first = False
        self.at += 1
        return CharClass(_merge(ranges), negated)

    def class_item(self) -> Ranges:
        start = self.at
        low = self.class_char()
        if isinstance(low, CharClass):
            return low.ranges
        if self.peek() == "-" and self.peek(1) not in ("]", ""):
            self.at += 1
            high = self.class_char()
            if isinstance(high, CharClass):
                raise self.fail(
                    "a range cannot end in a class escape", at=start, length=self.at - start
                )
            if ord(high) < ord(low):
                raise self.fail(f"reversed range {low}-{high}", at=start, length=self.at - start,
                                hint=f"write {high}-{low}")  # fmt: skip
            return ((ord(low), ord(high)),)
        return ((ord(low), ord(low)),)

    def class_char(self) -> str | CharClass:
        char = self.peek()
        if char != "\\":
            self.at += 1
            return char
        node = self.escape(in_class=True)
        if isinstance(node, CharClass):
            return node
        assert isinstance(node, Text)
        return node.chars


def _merge(ranges: list[tuple[int, int]] | Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    nxt = 1  # NUL never occurs in stored values
    for low, high in _merge(ranges):
        if low > nxt:
            out.append((nxt, low - 1))
        nxt = high + 1
    if nxt <= MAX_CODE:
        out.append((nxt, MAX_CODE))
    return tuple((lo, hi) for lo, hi in out if not (lo >= 0xD800 and hi <= 0xDFFF))


def _size(node: Regex) -> int:
    match node:
        case Concat(items) | Alternation(items):
            return sum(_size(i) for i in items)
        case Repeat(item, low, high):
            return _size(item) * max(1, low, high or 0)
        case _:
            return 1


# -- folding -------------------------------------------------------------------------


def fold_pattern(node: Regex) -> Regex:
    """A new tree that, matched case-sensitively against folded text, ignores case."""
    match node:
        case Text(chars):
            return Text(fold(chars))
        case CharClass(ranges, negated):
            return CharClass(_fold_ranges(ranges), negated)
        case Concat(items):
            return Concat(tuple(fold_pattern(i) for i in items))
        case Alternation(items):
            return Alternation(tuple(fold_pattern(i) for i in items))
        case Repeat(item, low, high):
            return Repeat(fold_pattern(item), low, high)
        case _:
            return node


def _fold_ranges(ranges: Ranges) -> Ranges:
    extra: list[tuple[int, int]] = []
    for low, high in ranges:
        if high - low > FOLDED_RANGE_LIMIT:
            continue
        for code in range(low, high + 1):
            if 0xD800 <= code <= 0xDFFF:
                continue
            folded = fold(chr(code))
            if len(folded) == 1:
                extra.append((ord(folded), ord(folded)))
    return _merge([*ranges, *extra])


# -- generators ----------------------------------------------------------------------


class _Generator:
    """Prints a tree; subclasses say how each engine spells characters."""

    any_char = "(?s:.)"

    def char(self, code: int) -> str:
        raise NotImplementedError

    def emit(self, node: Regex) -> str:
        match node:
            case Text(chars):
                return "".join(self.char(ord(c)) for c in chars)
            case CharClass(ranges, negated):
                return self.char_class(ranges, negated)
            case AnyChar():
                return self.any_char
            case Start():
                return "^"
            case End():
                return "$"
            case Concat(items):
                return "".join(self.emit(i) for i in items)
            case Alternation(items):
                return "(?:" + "|".join(self.emit(i) or "(?:)" for i in items) + ")"
            case Repeat(item, low, high):
                return self.repeat(item, low, high)

    def char_class(self, ranges: Ranges, negated: bool) -> str:
        body = "".join(
            self.char(lo) if lo == hi else f"{self.char(lo)}-{self.char(hi)}" for lo, hi in ranges
        )
        return f"[{'^' if negated else ''}{body}]"

    def repeat(self, item: Regex, low: int, high: int | None) -> str:
        if isinstance(item, Start | End) or item == EMPTY:
            # Repeating an anchor or nothing is the anchor once, or nothing at all.
            return "" if low == 0 or item == EMPTY else self.emit(item)
        inner = self.emit(item)
        if not (
            isinstance(item, CharClass | AnyChar)
            or (isinstance(item, Text) and len(item.chars) == 1)
        ):
            inner = f"(?:{inner})"
        if (low, high) == (0, None):
            return inner + "*"
        if (low, high) == (1, None):
            return inner + "+"
        if (low, high) == (0, 1):
            return inner + "?"
        if high is None:
            return f"{inner}{{{low},}}"
        return f"{inner}{{{low}}}" if low == high else f"{inner}{{{low},{high}}}"


class _Re2(_Generator):
    def char(self, code: int) -> str:
        c = chr(code)
        return c if c.isascii() and c.isalnum() else f"\\x{{{code:X}}}"


class _Postgres(_Generator):
    any_char = "."  # PostgreSQL's default (not newline-sensitive) lets '.' match newlines

    def char(self, code: int) -> str:
        c = chr(code)
        if c.isascii() and c.isalnum():
            return c
        return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


GENERATORS: dict[str, _Generator] = {"re2": _Re2(), "postgres": _Postgres(), "rust": _Re2()}


def to_re2(node: Regex) -> str:
    return GENERATORS["re2"].emit(node)


def to_postgres(node: Regex) -> str:
    return GENERATORS["postgres"].emit(node)


def to_rust(node: Regex) -> str:
    return GENERATORS["rust"].emit(node)


@functools.lru_cache(maxsize=1024)
def translate(pattern: str, dialect: Dialect) -> str:
    """``pattern`` folded and spelt for one engine."""
    return GENERATORS[dialect].emit(fold_pattern(parse_pattern(pattern)))


@functools.lru_cache(maxsize=1024)
def compile_search(pattern: str) -> Callable[[str], bool]:
    """A search for ``pattern`` over an already folded value (RE2: linear time)."""
    compiled = re2.compile(translate(pattern, "re2"))
    return lambda value: compiled.search(value) is not None
