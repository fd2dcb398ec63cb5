"""The one walk that writes a ``MATCHES`` tree as the text of a dialect.

Each dialect (:mod:`.emit_re2`, :mod:`.emit_postgres`, :mod:`.emit_rust`)
gives only its :class:`Syntax`: how it writes a character by its code and how
it writes "any character". The walk does the rest, the same for all, so that
each pattern means exactly the same in every engine for every text without
NUL or surrogates (values never hold them):

* every literal that is not an ASCII letter or digit is a hex escape, inside
  brackets too, so no engine's punctuation rules apply (Rust reads ``\\<`` as
  a word boundary; PostgreSQL's ``\\x`` eats any number of hex digits, so it
  gets the fixed-width ``\\uHHHH`` / ``\\UHHHHHHHH``);
* ``.`` and ``[^...]`` match newline everywhere;
* ``^`` and ``$`` are the start and end of the whole text in all three;
* groups are non-capturing; lazy quantifiers are emitted greedy, since only
  *whether* there is a match is asked;
* repeating something that only matches the empty string (an anchor, an empty
  group) becomes that thing or nothing: PostgreSQL rejects ``^*``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from segmentry.rules.regex.tree import (
    MAX_CODE_POINT,
    Alternation,
    AnyChar,
    CharClass,
    Concat,
    End,
    Literal,
    Regex,
    Repeat,
    Start,
    bare,
    valid,
    zero_width,
)


@dataclass(frozen=True, slots=True)
class Syntax:
    """What a dialect spells its own way: a character by its code, and any character."""

    hex: Callable[[int], str]
    any_char: str

    def char(self, code: int) -> str:
        char = chr(code)
        return char if char.isascii() and char.isalnum() else self.hex(code)


def emit(node: Regex, syntax: Syntax) -> str:
    """``node`` (folded) written in ``syntax``."""
    node = bare(node)
    if isinstance(node, Literal):
        return syntax.char(ord(node.char))
    if isinstance(node, AnyChar):
        return syntax.any_char
    if isinstance(node, CharClass):
        return _class(node, syntax)
    if isinstance(node, Start | End):
        return "^" if isinstance(node, Start) else "$"
    if isinstance(node, Concat):
        return "".join(_operand(item, syntax, Alternation) for item in node.items)
    if isinstance(node, Alternation):
        return "|".join(emit(item, syntax) for item in node.items)
    assert isinstance(node, Repeat)  # bare() removed every Group
    return _repeat(node, syntax)


def _operand(node: Regex, syntax: Syntax, *looser: type) -> str:
    """``node`` as an operand: grouped when its own operator binds more loosely."""
    text = emit(node, syntax)
    return f"(?:{text})" if isinstance(bare(node), looser) else text


def _repeat(node: Repeat, syntax: Syntax) -> str:
    if node.max == 0 or (node.min == 0 and zero_width(node.item)):
        return ""
    if zero_width(node.item):  # repeating an assertion asserts it once
        return _operand(node.item, syntax, Alternation)
    operand = _operand(node.item, syntax, Concat, Alternation, Repeat)
    return operand + _quantifier(node.min, node.max)


def _quantifier(low: int, high: int | None) -> str:
    # The short forms are not counted repetitions in RE2's nesting check.
    short = {(0, None): "*", (1, None): "+", (0, 1): "?", (1, 1): ""}
    if (low, high) in short:
        return short[low, high]
    if high is None:
        return f"{{{low},}}"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def _class(node: CharClass, syntax: Syntax) -> str:
    ranges, negated = valid(node.ranges), node.negated
    if not ranges:  # only NUL or surrogates: the opposite of every character
        ranges, negated = valid(((0, MAX_CODE_POINT),)), not negated
    parts = []
    for lo, hi in ranges:
        if hi - lo >= 2:
            parts.append(f"{syntax.char(lo)}-{syntax.char(hi)}")
        else:
            parts.extend(syntax.char(code) for code in range(lo, hi + 1))
    return f"[{'^' if negated else ''}{''.join(parts)}]"
