"""Reading a ``MATCHES`` pattern: the supported subset, parsed into a tree.

This module parses a pattern into the tree of :mod:`.tree`, or says where and
why it is outside the subset every engine reads alike.

Syntax: literal characters; ``.`` (any character, newline included); escapes
``\\`` + ASCII punctuation, ``\\t \\n \\r \\f \\v``, ``\\d \\w \\s`` (ASCII only:
``[0-9]``, ``[0-9A-Za-z_]``, ``[\\t\\n\\v\\f\\r ]``), their negations ``\\D \\W
\\S``, ``\\xHH``, ``\\uHHHH``; classes ``[...]``, ``[^...]``; ``^`` and ``$``
(start and end of the whole text); groups ``(...)``, ``(?:...)``; ``|``;
quantifiers ``* + ? {n} {n,} {n,m}``, optionally lazy (``*?``: the same yes/no
answer, so emitted greedy). Anything else is a :class:`PatternError` with an
offset and a hint.

Limits: ``MAX_PATTERN_LENGTH`` characters, counts up to ``MAX_REPEAT``,
groups nested at most ``MAX_DEPTH`` deep, then the cost limits of
:mod:`.cost`. NUL and lone surrogates are rejected: values never contain them.
"""

from __future__ import annotations

import re
import string

from segmentry.model.limits import MAX_DEPTH, MAX_PATTERN_LENGTH, MAX_REPEAT
from segmentry.rules.regex.cost import LimitError, check_limits
from segmentry.rules.regex.tree import (
    Alternation,
    AnyChar,
    CharClass,
    Concat,
    End,
    Group,
    Literal,
    Ranges,
    Regex,
    Repeat,
    Start,
    complement,
)

_SETS = {"d": ((0x30, 0x39),), "s": ((0x09, 0x0D), (0x20, 0x20))}
_SETS["w"] = (*_SETS["d"], (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_CONTROLS = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_QUANTIFIER = re.compile(r"\{([0-9]+)(?:(,)([0-9]*))?\}")
_FLAGS = re.compile(r"\(\?[a-zA-Z-]+[:)]?")

_PLAIN_GROUP = "use a plain group: ( ... ) or (?: ... )"
_LOOKAROUND = "lookaround is not supported; combine conditions with AND / NOT instead"
_BACKREF = "backreferences cannot be matched in linear time; write the text out again"
_BAD_GROUPS = (
    ("(?P<", "named groups are not supported", _PLAIN_GROUP),
    ("(?P=", "backreferences are not supported", _BACKREF),
    ("(?<=", "lookbehind is not supported", _LOOKAROUND),
    ("(?<!", "negative lookbehind is not supported", _LOOKAROUND),
    ("(?<", "named groups are not supported", _PLAIN_GROUP),
    ("(?'", "named groups are not supported", _PLAIN_GROUP),
    ("(?=", "lookahead is not supported", _LOOKAROUND),
    ("(?!", "negative lookahead is not supported", _LOOKAROUND),
    ("(?>", "atomic groups are not supported", "matching never backtracks; use (?: ... )"),
    ("(?#", "comments are not supported", "remove the comment"),
)
_BOUNDARY = "match the separator instead, e.g. (^|[^a-z0-9])"
_PROPERTY = "use a class with a range instead, e.g. [\\u0400-\\u04ff]"
_BAD_ESCAPES = {
    "b": ("\\b (word boundary) is not supported", _BOUNDARY),
    "B": ("\\B (not a word boundary) is not supported", _BOUNDARY),
    "A": ("\\A is not supported", "use ^ for the start of the text"),
    "z": ("\\z is not supported", "use $ for the end of the text"),
    "Z": ("\\Z is not supported", "use $ for the end of the text"),
    "G": ("\\G is not supported", "use ^ for the start of the text"),
    "p": ("Unicode properties (\\p) are not supported", _PROPERTY),
    "P": ("Unicode properties (\\P) are not supported", _PROPERTY),
    "k": ("named backreferences are not supported", _BACKREF),
    "g": ("backreferences are not supported", _BACKREF),
    "0": ("\\0 would be NUL, which values never contain", "remove it"),
}


class PatternError(ValueError):
    """A pattern outside the supported subset: what, where, and how to fix it.

    ``offset`` (0-based) and ``length`` locate the problem within the pattern.
    """

    def __init__(self, message: str, offset: int, length: int = 1, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.length = length
        self.hint = hint

    def __reduce__(self) -> tuple[type[PatternError], tuple[str, int, int, str]]:
        return PatternError, (self.message, self.offset, self.length, self.hint)


class _Parser:
    """Recursive descent; ``spans`` maps each node's id to where it was written."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.spans: dict[int, tuple[int, int]] = {}

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def made(self, node: Regex, start: int) -> Regex:
        self.spans[id(node)] = (start, self.pos - start)
        return node

    def parse(self) -> Regex:
        node = self.alternation()
        if self.pos < len(self.text):  # only a stray ')' ends the top level early
            raise PatternError("unmatched )", self.pos, hint="remove it, or write \\) for a ')'")
        return node

    def alternation(self) -> Regex:
        start = self.pos
        branches = [self.concat()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.concat())
        return branches[0] if len(branches) == 1 else self.made(Alternation(tuple(branches)), start)

    def concat(self) -> Regex:
        start = self.pos
        nodes: list[Regex] = []
        while self.peek() not in ("", "|", ")"):
            nodes.append(self.quantified())
        return nodes[0] if len(nodes) == 1 else self.made(Concat(tuple(nodes)), start)

    def quantified(self) -> Regex:
        node = self.atom()
        start = self.pos
        bounds = self.quantifier()
        return node if bounds is None else self.made(Repeat(node, *bounds), start)

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char == "{":
            bounds = self.counted()
        elif char and char in "*+?":
            self.pos += 1
            bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        else:
            return None
        if self.peek() == "+":
            hint = "remove the +: matching never backtracks"
            raise PatternError("possessive quantifiers are not supported", self.pos, hint=hint)
        if self.peek() == "?":  # lazy: the same yes/no answer as greedy
            self.pos += 1
        return bounds

    def counted(self) -> tuple[int, int | None]:
        start = self.pos
        found = _QUANTIFIER.match(self.text, start)
        if found is None:
            message = "{ does not start a repetition like {2}, {2,} or {2,5}"
            raise PatternError(message, start, hint="write \\{ for a literal {")
        low = self.bound(found, 1)
        high = low if found[2] is None else self.bound(found, 3) if found[3] else None
        if high is not None and low > high:
            hint = f"write the smaller count first: {{{high},{low}}}"
            raise PatternError(f"{found[0]} counts down", start, len(found[0]), hint)
        self.pos = found.end()
        return low, high

    def bound(self, found: re.Match[str], group: int) -> int:
        value = int(found[group])
        if value > MAX_REPEAT:
            message = f"a repetition count is at most {MAX_REPEAT}, not {found[group]}"
            offset, length = found.start(group), len(found[group])
            raise PatternError(message, offset, length, "use + or * for longer repetition")
        return value

    def atom(self) -> Regex:
        start, char = self.pos, self.peek()
        if char == "(":
            return self.group()
        if char == "[":
            return self.char_class()
        if char in ("*", "+", "?", "{"):
            raise self.nothing_to_repeat()
        self.pos += 1
        if char in (".", "^", "$"):
            return self.made(AnyChar() if char == "." else Start() if char == "^" else End(), start)
        value = self.escape(start) if char == "\\" else self.plain(start)
        node = CharClass(*value) if isinstance(value, tuple) else Literal(chr(value))
        return self.made(node, start)

    def nothing_to_repeat(self) -> PatternError:
        char = self.peek()
        if char == "{" and not _QUANTIFIER.match(self.text, self.pos):
            return PatternError("{ does not start a repetition", self.pos, hint="write \\{")
        message = f"{char} has nothing to repeat"
        return PatternError(message, self.pos, hint=f"write \\{char} to match a '{char}'")

    def plain(self, start: int) -> int:
        return self.checked(ord(self.text[start]), start, 1)

    def checked(self, code: int, offset: int, length: int) -> int:
        if code == 0:
            raise PatternError("values never contain NUL", offset, length, "remove it")
        if 0xD800 <= code <= 0xDFFF:
            hint = "write the character itself, not half of a surrogate pair"
            raise PatternError("lone surrogates cannot occur in values", offset, length, hint)
        return code

    def escape(self, start: int) -> int | tuple[bool, Ranges]:
        char = self.peek()
        if not char:
            raise PatternError("lone \\ at the end", start, hint="write \\\\ for a backslash")
        self.pos += 1
        if char in string.punctuation:
            return ord(char)
        if char in _CONTROLS:
            return ord(_CONTROLS[char])
        if char in "dDwWsS":
            return char.isupper(), _SETS[char.lower()]
        if char in ("x", "u"):
            return self.hex_escape(start, 2 if char == "x" else 4)
        raise self.bad_escape(start, char)

    def hex_escape(self, start: int, digits: int) -> int:
        text = self.text[self.pos : self.pos + digits]
        if len(text) < digits or not all(c in string.hexdigits for c in text):
            message = f"\\{self.text[start + 1]} takes exactly {digits} hex digits"
            hint = "for example \\x41 or \\u00e9; other characters can be written as they are"
            raise PatternError(message, start, 2, hint)
        self.pos += digits
        return self.checked(int(text, 16), start, digits + 2)

    def bad_escape(self, start: int, char: str) -> PatternError:
        if char in _BAD_ESCAPES:
            message, hint = _BAD_ESCAPES[char]
            return PatternError(message, start, 2, hint)
        if char in "123456789":
            return PatternError("backreferences are not supported", start, 2, _BACKREF)
        hint = "only punctuation can be escaped (\\. \\+ ...); use a class such as [0-9] or [a-z]"
        return PatternError(f"unknown escape \\{char}", start, 2, hint)

    def group(self) -> Regex:
        start = self.pos
        plain = not self.text.startswith("(?", start)
        if not plain and not self.text.startswith("(?:", start):
            raise self.bad_group(start)
        if self.depth >= MAX_DEPTH:
            raise PatternError(f"groups nest more than {MAX_DEPTH} deep", start, hint="flatten it")
        self.pos += 1 if plain else 3
        self.depth += 1
        node = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            raise PatternError("( is never closed", start, hint="add a ), or write \\( for a '('")
        self.pos += 1
        return self.made(Group(node), start)

    def bad_group(self, start: int) -> PatternError:
        for prefix, message, hint in _BAD_GROUPS:
            if self.text.startswith(prefix, start):
                return PatternError(message, start, len(prefix), hint)
        flags = _FLAGS.match(self.text, start)
        if flags:
            hint = "remove it: matching already ignores case, and . already matches newline"
            return PatternError("inline flags are not supported", start, flags.end() - start, hint)
        return PatternError("unknown group syntax", start, 2, _PLAIN_GROUP)

    def char_class(self) -> Regex:
        start = self.pos
        self.pos += 1
        negated = self.peek() == "^"
        self.pos += 1 if negated else 0
        first = self.pos
        ranges: list[tuple[int, int]] = []
        while self.peek() != "]" or self.pos == first:  # a ] right after [ or [^ is literal
            if not self.peek():
                raise self.unterminated(start, first)
            ranges.extend(self.class_item(first))
        self.pos += 1
        return self.made(CharClass(negated, tuple(ranges)), start)

    def unterminated(self, start: int, first: int) -> PatternError:
        if self.text.startswith("]", first):
            hint = "a class needs a character; a ] right after [ or [^ is taken literally"
            return PatternError("empty class", start, first - start + 1, hint)
        hint = "close it with ], or write \\[ for a '['"
        return PatternError("unterminated class", start, hint=hint)

    def class_item(self, first: int) -> Ranges:
        start = self.pos
        low = self.class_char(first)
        if isinstance(low, tuple) or self.peek() != "-" or self.peek(1) in ("]", ""):
            return low if isinstance(low, tuple) else ((low, low),)
        self.pos += 1
        high = self.class_char(first)
        if isinstance(high, tuple):
            hint = "write the range and the class side by side"
            raise PatternError("a range cannot end in a class", start, self.pos - start, hint)
        if low > high:
            text = self.text[start : self.pos]
            hint = "write the smaller end first, e.g. a-z"
            raise PatternError(f"range {text} is reversed", start, self.pos - start, hint)
        return ((low, high),)

    def class_char(self, first: int) -> int | Ranges:
        start, char = self.pos, self.peek()
        self.pos += 1
        if char == "\\":
            value = self.escape(start)
            if isinstance(value, tuple):
                return complement(value[1]) if value[0] else value[1]
            return value
        if char == "[":
            posix = self.peek() in (":", "=", ".")
            message = "POSIX classes are not supported" if posix else "[ inside a class"
            hint = "use a range or an escape: a-z, \\d, \\w, \\s" if posix else "write \\["
            raise PatternError(message, start, 2 if posix else 1, hint)
        if char == "-" and start != first and self.peek() not in ("]", ""):
            hint = "put - first or last in the class, or write \\-"
            raise PatternError("a - that is not part of a range", start, hint=hint)
        return self.plain(start)


def parse_pattern(pattern: str) -> Regex:
    """The tree of ``pattern``, or a PatternError saying where and why it is not supported."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        length = len(pattern) - MAX_PATTERN_LENGTH
        message = f"a pattern has at most {MAX_PATTERN_LENGTH:,} characters"
        raise PatternError(message, MAX_PATTERN_LENGTH, length, "shorten it")
    parser = _Parser(pattern)
    tree = parser.parse()
    try:
        check_limits(tree)
    except LimitError as exc:
        offset, length = parser.spans.get(id(exc.node), (0, len(pattern)))
        raise PatternError(exc.message, offset, max(length, 1), exc.hint) from None
    return tree
