"""The tree of a ``MATCHES`` pattern: folding, cost to the engines, and text per dialect.

One tree, one generator per dialect (the way sqlglot works): RE2 for Python,
PostgreSQL's ARE for ``~``, and the Rust ``regex`` crate for Polars. Each
writes a pattern meaning exactly the same in its engine for every text
without NUL or surrogates (values never hold them):

* every literal that is not an ASCII letter or digit is a hex escape, inside
  brackets too, so no engine's punctuation rules apply (Rust reads ``\\<`` as
  a word boundary; PostgreSQL's ``\\x`` eats any number of hex digits, so it
  gets the fixed-width ``\\uHHHH`` / ``\\UHHHHHHHH``);
* ``.`` and ``[^...]`` match newline everywhere: ``(?s:.)`` in RE2 and Rust;
  PostgreSQL is not newline-sensitive by default, so its ``.`` already does;
* ``^`` and ``$`` are the start and end of the whole text in all three;
* groups are non-capturing; lazy quantifiers are emitted greedy, since only
  *whether* there is a match is asked;
* repeating something that only matches the empty string (an anchor, an empty
  group) becomes that thing or nothing: PostgreSQL rejects ``^*``.
"""

from __future__ import annotations

import bisect
import functools
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from segmentry.model.limits import MAX_PATTERN_SIZE
from segmentry.model.values import fold

Dialect = typing.Literal["re2", "postgres", "rust"]
Ranges = tuple[tuple[int, int], ...]
MAX_CODE_POINT = 0x10FFFF
MAX_FOLDED_RANGE = 5_000
MAX_REPEAT_PRODUCT = 1_000
MAX_TRANSITIONS = 100_000
MAX_OPTIONAL_WORK = 2_000_000


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


def _valid(ranges: Ranges) -> Ranges:
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


Run = tuple[int, int]
"""A row of optional parts: how many, and how many transitions they skip to."""


def _join(a: Run, b: Run) -> Run:
    return a[0] + b[0], a[1] + b[1]


def _work(run: Run) -> int:
    # PostgreSQL removes empty transitions at compile time; measured, a row of
    # n optional parts skipping to f transitions costs it about n*n*f steps.
    return run[0] * run[0] * run[1]


@dataclass(frozen=True, slots=True)
class Cost:
    """What a part of a pattern costs the engines once repetitions are multiplied out.

    ``size`` counts characters, ``arcs`` character transitions (a class costs
    the character sets PostgreSQL must tell apart within it, at least its
    ranges), ``head`` the transitions leaving its start, ``product`` nested
    counted repetitions multiplied (RE2 caps it). ``lead`` and ``trail`` are
    rows of optional parts at its ends, joining its neighbours' (one row if it
    can match the empty string); ``closed`` is the work of the rows inside.
    """

    size: int = 1
    arcs: int = 1
    head: int = 1
    product: int = 1
    nullable: bool = False
    lead: Run = (0, 0)
    trail: Run = (0, 0)
    closed: int = 0

    @property
    def work(self) -> int:
        ends = _work(self.lead) if self.nullable else _work(self.lead) + _work(self.trail)
        return self.closed + ends

    def then(self, b: Cost) -> Cost:
        a = self
        between = 0 if a.nullable or b.nullable else _work(_join(a.trail, b.lead))
        return Cost(
            a.size + b.size,
            a.arcs + b.arcs,
            a.head + b.head if a.nullable else a.head,
            max(a.product, b.product),
            a.nullable and b.nullable,
            _join(a.lead, b.lead) if a.nullable else a.lead,
            _join(a.trail, b.trail) if b.nullable else b.trail,
            a.closed + b.closed + between,
        )

    def repeat(self, low: int, high: int | None) -> Cost:
        if high == 0:
            return EMPTY
        count = high if high is not None else max(low, 1)
        counted = (low, high) not in ((0, None), (1, None), (0, 1), (1, 1))
        size, arcs, product = self.size * count, self.arcs * count, self.product
        product *= count if counted else 1
        if self.nullable:
            row = (self.lead[0] * count, self.lead[1] * count)
            return Cost(size, arcs, self.head, product, True, row, row, self.closed * count)
        split = (1, ((high or low + 1) - low) * self.head) if high != low else (0, 0)
        # Copies meet end to start, and so does a loop's end with its start.
        joints = count - 1 + (high is None)
        closed = self.closed * count + _work(_join(_join(self.trail, self.lead), split)) * joints
        if low == 0:
            row = _join(split, _join(self.lead, self.trail))
            return Cost(size, arcs, self.head, product, True, row, row, closed)
        lead = _join(self.lead, split)
        return Cost(size, arcs, self.head, product, False, lead, self.trail, closed)


def either(branches: list[Cost]) -> Cost:
    """The cost of an alternation of ``branches``."""
    lead, trail = (0, 0), (0, 0)
    for branch in branches:
        lead, trail = _join(lead, branch.lead), _join(trail, branch.trail)
    head = sum(b.head for b in branches)
    total = Cost(sum(b.size for b in branches), sum(b.arcs for b in branches), head)
    product, closed = max(b.product for b in branches), sum(b.closed for b in branches)
    if any(b.nullable for b in branches):
        row = _join((1, head + 1), lead)
        closed += sum(_work(b.trail) for b in branches if not b.nullable)
        return Cost(total.size, total.arcs, head, product, True, row, row, closed)
    return Cost(total.size, total.arcs, head, product, False, lead, trail, closed)


EMPTY = Cost(size=0, arcs=0, head=0, nullable=True)
_ANCHOR = Cost(nullable=True, lead=(1, 1), trail=(1, 1))


class LimitError(Exception):
    """Internal: ``node`` takes an engine past a limit; the parser adds its offset."""

    def __init__(self, node: Regex, message: str, hint: str) -> None:
        super().__init__(message)
        self.node, self.message, self.hint = node, message, hint


_LIMITS: tuple[tuple[Callable[[Cost], bool], str, str], ...] = (
    (
        lambda c: c.size > MAX_PATTERN_SIZE,
        f"the pattern grows beyond {MAX_PATTERN_SIZE:,} characters when repeated out",
        "repeat less, or use + or * instead of large counts",
    ),
    (
        lambda c: c.product > MAX_REPEAT_PRODUCT,
        f"nested repetition counts multiply to more than {MAX_REPEAT_PRODUCT:,}",
        "use + or * for one of the nested repetitions",
    ),
    (
        lambda c: c.arcs > MAX_TRANSITIONS,
        "the pattern is too complex once repetitions are multiplied out",
        "repeat classes less often, or use . instead of a negated class like [^a]",
    ),
    (
        lambda c: c.work > MAX_OPTIONAL_WORK,
        "too many optional parts in a row once repetitions are multiplied out",
        "make fewer parts optional, e.g. a{0,9} instead of (a?){9}",
    ),
)


def check_limits(tree: Regex) -> Cost:
    """The cost of a parsed (unfolded) tree; raises LimitError at the first part over a limit."""
    return _Coster(sorted(set(_cuts(tree)))).cost(tree)


def _cuts(node: Regex) -> Iterator[int]:
    # Where PostgreSQL's character sets ("colours") may start: the pattern's
    # folded literals and class bounds.
    if isinstance(node, Literal):
        for char in fold(node.char):
            yield from (ord(char), ord(char) + 1)
    elif isinstance(node, CharClass):
        for lo, hi in fold_ranges(node.ranges):
            yield from (lo, hi + 1)
    elif isinstance(node, Concat | Alternation):
        for item in node.items:
            yield from _cuts(item)
    elif isinstance(node, Group | Repeat):
        yield from _cuts(node.item)


@dataclass(frozen=True, slots=True)
class _Coster:
    cuts: list[int]

    def cost(self, node: Regex) -> Cost:
        if isinstance(node, Literal):
            return Cost(size=len(fold(node.char)), arcs=len(fold(node.char)))
        if isinstance(node, CharClass):
            arcs = self.arcs(node)
            return Cost(arcs=arcs, head=arcs)
        if isinstance(node, Start | End):
            return _ANCHOR
        if isinstance(node, Group):
            return self.cost(node.item)
        if isinstance(node, Concat):
            total = EMPTY
            for item in node.items:
                total = self.check(total.then(self.cost(item)), item)
            return total
        if isinstance(node, Alternation):
            return self.check(either([self.cost(item) for item in node.items]), node)
        if isinstance(node, Repeat):
            return self.check(self.cost(node.item).repeat(node.min, node.max), node)
        return Cost()  # AnyChar: one transition in every engine

    def arcs(self, node: CharClass) -> int:
        ranges = fold_ranges(node.ranges)
        ranges = _valid(complement(ranges) if node.negated else ranges)
        cuts = self.cuts
        return sum(1 + bisect.bisect(cuts, hi) - bisect.bisect(cuts, lo) for lo, hi in ranges)

    def check(self, cost: Cost, node: Regex) -> Cost:
        for exceeds, message, hint in _LIMITS:
            if exceeds(cost):
                raise LimitError(node, message, hint)
        return cost


@dataclass(frozen=True, slots=True)
class _Syntax:
    hex: Callable[[int], str]
    any_char: str

    def char(self, code: int) -> str:
        char = chr(code)
        return char if char.isascii() and char.isalnum() else self.hex(code)


_RE2 = _Syntax(lambda code: f"\\x{{{code:X}}}", "(?s:.)")
_POSTGRES = _Syntax(lambda c: f"\\u{c:04X}" if c <= 0xFFFF else f"\\U{c:08X}", ".")


def to_re2(node: Regex) -> str:
    """The pattern in RE2 syntax (google-re2, Python)."""
    return _emit(node, _RE2)


def to_postgres(node: Regex) -> str:
    """The pattern in PostgreSQL ARE syntax, for ``value ~ pattern``."""
    return _emit(node, _POSTGRES)


def to_rust(node: Regex) -> str:
    """The pattern in Rust ``regex`` syntax, for Polars ``str.contains``.

    The same text as RE2's: both read ``\\x{...}`` and ``(?s:.)`` alike.
    """
    return _emit(node, _RE2)


GENERATORS: dict[Dialect, Callable[[Regex], str]] = {
    "re2": to_re2,
    "postgres": to_postgres,
    "rust": to_rust,
}


def _bare(node: Regex) -> Regex:
    while isinstance(node, Group):
        node = node.item
    return node


def zero_width(node: Regex) -> bool:
    """Whether ``node`` can only ever match the empty string."""
    node = _bare(node)
    if isinstance(node, Concat | Alternation):
        return all(zero_width(item) for item in node.items)
    if isinstance(node, Repeat):
        return node.max == 0 or zero_width(node.item)
    return isinstance(node, Start | End)


def _emit(node: Regex, syntax: _Syntax) -> str:
    node = _bare(node)
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
        return "|".join(_emit(item, syntax) for item in node.items)
    assert isinstance(node, Repeat)  # _bare() removed every Group
    return _repeat(node, syntax)


def _operand(node: Regex, syntax: _Syntax, *looser: type) -> str:
    """``node`` as an operand: grouped when its own operator binds more loosely."""
    text = _emit(node, syntax)
    return f"(?:{text})" if isinstance(_bare(node), looser) else text


def _repeat(node: Repeat, syntax: _Syntax) -> str:
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


def _class(node: CharClass, syntax: _Syntax) -> str:
    ranges, negated = _valid(node.ranges), node.negated
    if not ranges:  # only NUL or surrogates: the opposite of every character
        ranges, negated = _valid(((0, MAX_CODE_POINT),)), not negated
    parts = []
    for lo, hi in ranges:
        if hi - lo >= 2:
            parts.append(f"{syntax.char(lo)}-{syntax.char(hi)}")
        else:
            parts.extend(syntax.char(code) for code in range(lo, hi + 1))
    return f"[{'^' if negated else ''}{''.join(parts)}]"
