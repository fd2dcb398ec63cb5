"""The rule syntax tree: small frozen, slotted dataclasses with source spans.

A tree is built by the parser (from text) or by :mod:`segmentry.rules.jsonform`
(from JSON). Spans say where a node came from in the text and take no part in
equality, so ``parse(format(rule)) == rule`` compares meaning, not layout.

Literal values are plain Python scalars: ``str``, ``int``, ``float``, ``bool``.
Dates, date-times and relative times are strings (``"2024-03-01"``,
``"-30d"``, ``"today"``) exactly as in the JSON form; the type checker gives
them their meaning from the attribute they are compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from segmentry.rules.operators import Act, Each, Fn, Op

Scalar = str | int | float | bool


@dataclass(frozen=True, slots=True)
class AttrRef:
    """Another attribute as a condition's value: ``price < original_price``."""

    attr: str


Value = Scalar | tuple[Scalar, ...] | AttrRef | None


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of rule text: offsets are 0-based, line and column 1-based."""

    start: int = 0
    end: int = 0
    line: int = 1
    column: int = 1


NO_SPAN = Span()


@dataclass(frozen=True, slots=True)
class ConditionSpans:
    """Where each part of a condition sits in the text, for precise errors."""

    attr: Span = NO_SPAN
    op: Span = NO_SPAN
    value: Span = NO_SPAN
    items: tuple[Span, ...] = ()


NO_CONDITION_SPANS = ConditionSpans()


@dataclass(frozen=True, slots=True)
class Condition:
    """``attr op value``; ``value`` is ``None`` for the null tests, a pair for
    ``between`` and a tuple for the list operators. With ``fn`` the condition
    compares a function of the attribute: ``count(tags) >= 2``; with ``each``, the
    items of a list: ``ALL tags STARTS WITH 'a'``."""

    attr: str
    op: Op
    value: Value = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    spans: ConditionSpans = field(default=NO_CONDITION_SPANS, compare=False, repr=False)
    fn: Fn | None = None
    each: Each | None = None
    """A quantifier: the test applies to the list's items (``ANY tags = 'a'``)."""

    @property
    def subject(self) -> str:
        """What the condition compares, as the text form writes it: ``count(tags)``,
        ``ANY tags``."""
        if self.each is not None:
            return f"{self.each.value.upper()} {self.attr}"
        return self.attr if self.fn is None else f"{self.fn.value}({self.attr})"


@dataclass(frozen=True, slots=True)
class InSegment:
    """``IN SEGMENT 'code'``: members of another segment of the same kind."""

    code: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    code_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    item: Node
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class And:
    """All items hold. Always two or more items; one collapses to the item."""

    items: tuple[Node, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValueError("And needs at least two items")


@dataclass(frozen=True, slots=True)
class Or:
    """Any item holds. Always two or more items; one collapses to the item."""

    items: tuple[Node, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValueError("Or needs at least two items")


@dataclass(frozen=True, slots=True)
class WindowSpans:
    """Where a behaviour function's parts sit in the text, for precise errors."""

    name: Span = NO_SPAN
    since: Span = NO_SPAN
    until: Span = NO_SPAN
    op: Span = NO_SPAN
    value: Span = NO_SPAN


NO_WINDOW_SPANS = WindowSpans()


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A behaviour function over the tenant's placed orders (SPEC §8):
    ``amount_spent(channel = 'app', since: -1y) > 500``,
    ``purchased(IN SEGMENT 'premium', since: -30d)``.

    ``where`` is a rule over another kind (the order, the product bought or the
    buyer, see :data:`~segmentry.rules.operators.ACTIVITIES`); ``None`` counts
    everything. ``since`` and ``until`` are temporal literals as in the JSON form
    (``"-30d"``, ``"2024-03-01"``), both ends included; ``None`` leaves that end
    open. ``op`` and ``value`` compare the counted value; both are ``None`` for the
    boolean ``purchased``.
    """

    act: Act
    where: Node | None = None
    since: str | None = None
    until: str | None = None
    op: Op | None = None
    value: int | float | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    spans: WindowSpans = field(default=NO_WINDOW_SPANS, compare=False, repr=False)


Node = And | Or | Not | Condition | InSegment | Behaviour
NODE_TYPES: tuple[type[Node], ...] = (And, Or, Not, Condition, InSegment, Behaviour)


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents before children (iterative: no recursion limit).
    A behaviour function is a leaf here: its condition is a rule of another kind."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, And | Or):
            stack.extend(reversed(current.items))
        elif isinstance(current, Not):
            stack.append(current.item)
    return out


def conditions(node: Node) -> list[Condition]:
    """The conditions of a rule, in text order."""
    return [n for n in walk(node) if isinstance(n, Condition)]


def attributes_of(cond: Condition) -> tuple[str, ...]:
    """The attributes a condition reads: its own, and the one it compares with."""
    if isinstance(cond.value, AttrRef):
        return (cond.attr, cond.value.attr)
    return (cond.attr,)


def segment_refs(node: Node) -> list[InSegment]:
    """The ``IN SEGMENT`` references of a rule to segments of its own kind, in text
    order (those inside a behaviour function's condition are :func:`cross_refs`)."""
    return [n for n in walk(node) if isinstance(n, InSegment)]


def behaviours(node: Node) -> list[Behaviour]:
    """The behaviour functions of a rule, in text order. :func:`walk` stops at them:
    their conditions are over another kind, so they are not the rule's conditions."""
    return [n for n in walk(node) if isinstance(n, Behaviour)]


def cross_refs(node: Node) -> list[InSegment]:
    """The ``IN SEGMENT`` references inside behaviour conditions: to segments of the
    kind the condition is over (products for ``purchased``, customers for ``units_sold``)."""
    return [ref for b in behaviours(node) if b.where is not None for ref in segment_refs(b.where)]


def depth(node: Node) -> int:
    """Nesting depth: 1 for a single condition (iterative)."""
    best = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        if isinstance(current, And | Or):
            stack.extend((item, level + 1) for item in current.items)
        elif isinstance(current, Not):
            stack.append((current.item, level + 1))
        elif isinstance(current, Behaviour) and current.where is not None:
            stack.append((current.where, level + 1))
    return best
