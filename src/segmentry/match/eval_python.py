"""The Python evaluator: a checked rule compiled once into a predicate.

The predicate takes an entity's encoded record (see
:mod:`segmentry.model.values`) and the key its memberships are kept under
(the engine uses dense integer seqs; tests use ids), and answers membership. Compiling
builds a tree of closures, one per node, so evaluation does no dispatch on
node types; relative times are fixed at compile time, so compile again when
the moment of evaluation moves (behaviour windows may instead be read at each
evaluation: ``windows``).

A behaviour function reads the tenant's orders (an :class:`OrderView`) for the
entity whose key is its seq: see :mod:`segmentry.match.behaviour`. Its condition is
compiled once, by this same compiler, against the schema of the kind it is over.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from segmentry.match import anniversaries
from segmentry.match.behaviour import (
    Tally,
    bounds,
    condition_table,
    meets_of,
    no_orders,
    tally,
    threshold,
)
from segmentry.match.lowering import (
    Anniversary,
    Compare,
    Items,
    ListCount,
    ListHas,
    ListHasAll,
    ListHasAny,
    OneOf,
    Pattern,
    Prefix,
    Present,
    Primitive,
    Range,
    Substring,
    Suffix,
    lower,
)
from segmentry.match.order_view import OrderView
from segmentry.model.schema import Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules import regex
from segmentry.rules.ast import (
    And,
    Behaviour,
    Condition,
    InSegment,
    Node,
    Not,
    Or,
    attributes_of,
    conditions,
    segment_refs,
)
from segmentry.rules.operators import Act, Op

Record = Mapping[str, Any]
Predicate = Callable[[Record, Any], bool]


class MemberSet(Protocol):
    def __contains__(self, key: Any, /) -> bool: ...


Members = Callable[[str], MemberSet]
"""For ``IN SEGMENT``: the member keys of a segment code."""

Windows = Callable[[Behaviour], tuple[int, int]]
"""A function's window as ``[low, high]`` microseconds, read at each evaluation: a
predicate compiled with one follows the moment its source is set to, instead of
the one it was compiled at (see ``compile_predicate``)."""

Test = Callable[[Any], bool]


class Terms:
    """Behaviour functions shared by the predicates compiled with it: each distinct
    function (its condition and window) is compiled once, and its value for an entity
    is computed once while ``generation(reads_members)`` and the window stay the same.
    The caller moves the generation whenever the orders or records a value reads may
    have changed, and, for functions whose condition has ``IN SEGMENT``
    (``reads_members``), the memberships too."""

    def __init__(self, generation: Callable[[bool], int]) -> None:
        self.generation = generation
        self.counters: dict[tuple[object, ...], Callable[[int], Tally]] = {}

    def shared(
        self, node: Behaviour, make: Callable[[], Callable[[int], Tally]], windows: Windows
    ) -> Callable[[int], Tally]:
        term = (node.act, node.where, node.since, node.until)  # the comparison aside
        found = self.counters.get(term)
        if found is None:
            found = self.counters[term] = self._memoised(node, make(), windows)
        return found

    def _memoised(
        self, node: Behaviour, count: Callable[[int], Tally], windows: Windows
    ) -> Callable[[int], Tally]:
        held: dict[int, Tally] = {}
        reads_members = node.where is not None and bool(segment_refs(node.where))
        at: list[object] = [None]

        def counted(seq: int) -> Tally:
            now = (self.generation(reads_members), windows(node))
            if now != at[0]:  # values of another state or moment: forget them all
                held.clear()
                at[0] = now
            found = held.get(seq)
            if found is None:
                found = held[seq] = count(seq)
            return found

        return counted


def no_segments(code: str) -> MemberSet:
    raise LookupError(f"no segment memberships were given to resolve IN SEGMENT {code!r}")


def compile_predicate(
    node: Node,
    schema: Schema,
    ctx: EvalContext,
    members: Members = no_segments,
    orders: OrderView | None = None,
    *,
    windows: Windows | None = None,
    terms: Terms | None = None,
) -> Predicate:
    """A predicate over ``(record, entity_id)`` for a checked rule; a rule with a
    behaviour function needs ``orders`` and entity seqs as keys. With ``windows``,
    behaviour windows are read from it at each evaluation (the rule's other relative
    times stay fixed at ``ctx``), so one compiled predicate serves every moment. With
    ``terms``, equal behaviour functions share one value per entity (see :class:`Terms`);
    it needs ``windows`` too."""
    return Compiler(schema, ctx, members, orders, windows=windows, terms=terms).node(node)


class Compiler:
    def __init__(
        self,
        schema: Schema,
        ctx: EvalContext,
        members: Members,
        orders: OrderView | None = None,
        *,
        windows: Windows | None = None,
        terms: Terms | None = None,
    ) -> None:
        self.schema = schema
        self.ctx = ctx
        self.members = members
        self.orders = orders
        self.windows = windows
        self.terms = terms

    def node(self, node: Node) -> Predicate:
        return NODE_HANDLERS[type(node)](self, node)

    def and_(self, node: And) -> Predicate:
        parts = tuple(self.node(i) for i in node.items)
        return lambda record, entity_id: all(p(record, entity_id) for p in parts)

    def or_(self, node: Or) -> Predicate:
        parts = tuple(self.node(i) for i in node.items)
        return lambda record, entity_id: any(p(record, entity_id) for p in parts)

    def not_(self, node: Not) -> Predicate:
        inner = self.node(node.item)
        return lambda record, entity_id: not inner(record, entity_id)

    def in_segment(self, node: InSegment) -> Predicate:
        ids = self.members(node.code)
        return lambda record, entity_id: entity_id in ids

    def behaviour(self, node: Behaviour) -> Predicate:
        counter = self.counter(node)
        if node.act is Act.PURCHASED:
            return lambda record, entity_id: counter(entity_id).value > 0
        check = threshold(node)
        return lambda record, entity_id: check.holds(counter(entity_id).value)

    def counter(self, node: Behaviour) -> Callable[[int], Tally]:
        """A function's value for an entity seq, its condition compiled once. A product or
        buyer is read anew at each call: a condition is over current records."""
        if self.terms is not None and self.windows is not None:
            return self.terms.shared(node, lambda: self._counter(node), self.windows)
        return self._counter(node)

    def _counter(self, node: Behaviour) -> Callable[[int], Tally]:
        if self.orders is None:
            raise no_orders(node)
        view = self.orders
        windows = self.windows or _fixed_window(bounds(node, self.ctx))
        if node.where is None:
            return lambda seq: tally(node, view, windows(node), None, seq)
        table = condition_table(node, view)
        inner = Compiler(table.schema, self.ctx, self.members).node(node.where)
        reads = tuple(dict.fromkeys(k for c in conditions(node.where) for k in attributes_of(c)))

        def test(seq: int) -> bool:  # only what the condition reads of the record
            return inner(table.record(seq, reads), seq)

        return lambda seq: tally(node, view, windows(node), meets_of(table, test), seq)

    def condition(self, node: Condition) -> Predicate:
        lowered = lower(node, self.schema, self.ctx)
        key = lowered.key
        if lowered.test == Present():
            present = not lowered.negated
            return lambda record, entity_id: (key in record) is present
        if isinstance(lowered.test, Compare):
            pair = compare_records(key, lowered.test)
            if lowered.negated:
                return lambda record, entity_id: not pair(record)
            return lambda record, entity_id: pair(record)
        test = PRIMITIVE_HANDLERS[type(lowered.test)](lowered.test)
        if lowered.negated:
            return lambda record, entity_id: not _holds(test, record.get(key))
        return lambda record, entity_id: _holds(test, record.get(key))


def _fixed_window(window_: tuple[int, int]) -> Windows:
    return lambda node: window_


COMPARISONS: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq, Op.LT: operator.lt, Op.LE: operator.le, Op.GT: operator.gt,
    Op.GE: operator.ge,
}  # fmt: skip


def compare_records(key: str, test: Compare) -> Callable[[Record], bool]:
    """A record's ``key`` against its ``test.other`` (false when either is missing)."""
    other, compare = test.other, COMPARISONS[test.op]

    def holds(record: Record) -> bool:
        value, against = record.get(key), record.get(other)
        return value is not None and against is not None and compare(value, against)

    return holds


def _holds(test: Test, value: Any) -> bool:
    return value is not None and test(value)


NODE_HANDLERS: dict[type, Callable[[Compiler, Any], Predicate]] = {
    And: Compiler.and_,
    Or: Compiler.or_,
    Not: Compiler.not_,
    InSegment: Compiler.in_segment,
    Condition: Compiler.condition,
    Behaviour: Compiler.behaviour,
}


def _range(test: Range) -> Test:
    checks: list[Test] = []
    if test.low is not None:
        low, cmp = test.low, operator.ge if test.low_inclusive else operator.gt
        checks.append(lambda v: cmp(v, low))
    if test.high is not None:
        high, cmp_high = test.high, operator.le if test.high_inclusive else operator.lt
        checks.append(lambda v: cmp_high(v, high))
    return lambda v: all(check(v) for check in checks)


def _one_of(test: OneOf) -> Test:
    values = test.values
    return lambda v: v in values


def _substring(test: Substring) -> Test:
    text = test.text
    return lambda v: text in v


def _prefix(test: Prefix) -> Test:
    text = test.text
    return lambda v: v.startswith(text)


def _suffix(test: Suffix) -> Test:
    text = test.text
    return lambda v: v.endswith(text)


def _pattern(test: Pattern) -> Test:
    search: Test = regex.compile_search(test.source)
    return search


def _list_has(test: ListHas) -> Test:
    item = test.item
    return lambda v: item in v


def _list_has_any(test: ListHasAny) -> Test:
    items = test.items
    return lambda v: not items.isdisjoint(v)


def _list_has_all(test: ListHasAll) -> Test:
    return test.items.issubset


def _list_count(test: ListCount) -> Test:
    within = _range(test.range)
    return lambda v: within(len(v))


def _items(test: Items) -> Test:
    passes, flip = primitive_test(test.test), test.flip
    if test.every:  # a present list has items
        return lambda v: all(bool(passes(item)) != flip for item in v)
    return lambda v: any(bool(passes(item)) != flip for item in v)


def _compare(test: Compare) -> Test:
    raise TypeError(
        f"{test.op.text} {test.other} reads two attributes of a record: use compare_records"
    )


def _anniversary(test: Anniversary) -> Test:
    days, tz = test.days, test.tz
    if tz is None:
        return lambda v: anniversaries.of_day_number(v) in days
    return lambda v: anniversaries.of_moment(v, tz) in days


def _present(test: Present) -> Test:
    return lambda v: True


PRIMITIVE_HANDLERS: dict[type, Callable[[Any], Test]] = {
    Range: _range,
    OneOf: _one_of,
    Substring: _substring,
    Prefix: _prefix,
    Suffix: _suffix,
    Pattern: _pattern,
    ListHas: _list_has,
    ListHasAny: _list_has_any,
    ListHasAll: _list_has_all,
    ListCount: _list_count,
    Items: _items,
    Compare: _compare,
    Anniversary: _anniversary,
    Present: _present,
}


def primitive_test(test: Primitive) -> Test:
    """The Python test of one primitive (also used by explain)."""
    return PRIMITIVE_HANDLERS[type(test)](test)
