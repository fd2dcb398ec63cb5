"""The tree of a ``MATCHES`` pattern, and its folding to match case-folded values.

The parser (:mod:`.parse`) builds it, :mod:`.cost` prices it for the engines,
and the emitters (:mod:`.emit` and one module per dialect) write it out. A class holds
inclusive ranges of code points.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from segmentry.model.values import fold

Ranges = tuple[tuple[int, int], ...]
MAX_CODE_POINT = 0x10FFFF
MAX_FOLDED_RANGE = 5_000


@dataclass(frozen=True, slots=True)
class Literal:
    char: str


@dataclass(frozen=True, slots=True)
class AnyChar:
    pass


@dataclass(frozen=True, slots=True)
class CharClass:
    negated: bool
    ranges: Ranges


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
class Group:
    item: Regex


@dataclass(frozen=True, slots=True)
class Repeat:
    item: Regex
    min: int
    max: int | None


Regex = Literal | AnyChar | CharClass | Start | End | Concat | Alternation | Group | Repeat


def merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sorted, non-overlapping, non-adjacent ranges covering the same code points."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


def complement(ranges: Ranges) -> Ranges:
    """The code points 0..U+10FFFF not in ``ranges``."""
    out, next_lo = [], 0
    for lo, hi in merge(ranges):
        if lo > next_lo:
            out.append((next_lo, lo - 1))
        next_lo = hi + 1
    return (*out, (next_lo, MAX_CODE_POINT)) if next_lo <= MAX_CODE_POINT else tuple(out)


def valid(ranges: Ranges) -> Ranges:
    """``ranges`` merged, without NUL and the surrogates."""
    # NUL and surrogates never occur in values; leaving them out keeps every
    # endpoint a character that all three engines accept in an escape.
    return complement(merge((*complement(ranges), (0, 0), (0xD800, 0xDFFF))))


def fold_pattern(node: Regex) -> Regex:
    """A new tree that, matched case-sensitively against folded text, ignores case."""
    if isinstance(node, Literal):
        folded = fold(node.char)
        return Literal(folded) if len(folded) == 1 else Concat(tuple(map(Literal, folded)))
    if isinstance(node, CharClass):
        return CharClass(node.negated, fold_ranges(node.ranges))
    if isinstance(node, Concat | Alternation):
        return type(node)(tuple(map(fold_pattern, node.items)))
    if isinstance(node, Group):
        return Group(fold_pattern(node.item))
    if isinstance(node, Repeat):
        item = fold_pattern(node.item)
        # A quantifier on 'ß' must repeat the whole 'ss'.
        return Repeat(Group(item) if isinstance(item, Concat) else item, node.min, node.max)
    return node


def fold_ranges(ranges: Ranges) -> Ranges:
    """``ranges`` plus the one-character folds of members of ranges up to 5,000 wide."""
    extra = [f for lo, hi in ranges if hi - lo < MAX_FOLDED_RANGE for f in _one_char_folds(lo, hi)]
    return merge((*ranges, *((code, code) for code in extra)))


@functools.lru_cache(maxsize=1024)
def _one_char_folds(lo: int, hi: int) -> tuple[int, ...]:
    folds = (fold(chr(c)) for c in range(lo, hi + 1) if not 0xD800 <= c <= 0xDFFF)
    return tuple({ord(f) for f in folds if len(f) == 1})


def bare(node: Regex) -> Regex:
    """``node`` without the groups around it."""
    while isinstance(node, Group):
        node = node.item
    return node


def zero_width(node: Regex) -> bool:
    """Whether ``node`` can only ever match the empty string."""
    node = bare(node)
    if isinstance(node, Concat | Alternation):
        return all(zero_width(item) for item in node.items)
    if isinstance(node, Repeat):
        return node.max == 0 or zero_width(node.item)
    return isinstance(node, Start | End)
