"""What a ``MATCHES`` pattern costs the engines, and the limits that keep it cheap.

Every accepted pattern must compile fast in all three engines. Once counted
repetitions are multiplied out, a pattern has at most ``MAX_PATTERN_SIZE``
characters and ``MAX_TRANSITIONS`` character transitions (RE2 and Rust pay per
class range, PostgreSQL per character set it tells apart, which makes ``[^a]``
dear in a pattern with many distinct letters); nested counts multiply to at
most ``MAX_REPEAT_PRODUCT`` (RE2's own limit); and a row of optional parts is
bounded, since PostgreSQL removes their empty transitions at a cost growing
with its cube (about 126 ``a?`` in a row at most).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from segmentry.model.limits import MAX_PATTERN_SIZE
from segmentry.model.values import fold
from segmentry.rules.regex.tree import (
    Alternation,
    CharClass,
    Concat,
    End,
    Group,
    Literal,
    Regex,
    Repeat,
    Start,
    complement,
    fold_ranges,
    valid,
)

MAX_REPEAT_PRODUCT = 1_000
MAX_TRANSITIONS = 100_000
MAX_OPTIONAL_WORK = 2_000_000


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
        ranges = valid(complement(ranges) if node.negated else ranges)
        cuts = self.cuts
        return sum(1 + bisect.bisect(cuts, hi) - bisect.bisect(cuts, lo) for lo, hi in ranges)

    def check(self, cost: Cost, node: Regex) -> Cost:
        for exceeds, message, hint in _LIMITS:
            if exceeds(cost):
                raise LimitError(node, message, hint)
        return cost
