"""The SQL evaluator: a checked rule compiled into a SQLAlchemy boolean clause.

The clause reads a JSON column of encoded records (see
:mod:`segmentry.model.values`) and runs inside SQLite or PostgreSQL. Every
primitive test is wrapped in ``COALESCE(test, false)`` so that SQL's
three-valued logic never leaks out: a missing attribute makes a test false,
and ``NOT`` of it true, exactly as in the Python evaluator. Behaviour functions
are subqueries over the stored orders (:mod:`segmentry.match.sql_behaviour`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from segmentry.match import anniversaries
from segmentry.match import sql_dialects as d
from segmentry.match.eval_python import COMPARISONS
from segmentry.match.lowering import (
    Anniversary,
    Compare,
    Items,
    ListCount,
    ListHas,
    ListHasAll,
    ListHasAny,
    Lowered,
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
from segmentry.match.sql_behaviour import OrderTables, behaviour_clause
from segmentry.model.schema import AttrType, Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules import regex
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or
from segmentry.rules.operators import Op

Clause = ColumnElement[bool]
SegmentClause = Callable[[str, ColumnElement[Any]], Clause]
"""For ``IN SEGMENT``: a clause true when the seq column given holds a member of the
segment code (the tested entity's seq, or a joined product's or buyer's)."""


def no_segments(code: str, seq: ColumnElement[Any]) -> Clause:
    raise LookupError(f"no membership table was given to resolve IN SEGMENT {code!r}")


def compile_sql(
    node: Node,
    schema: Schema,
    ctx: EvalContext,
    *,
    doc: ColumnElement[Any],
    seq: ColumnElement[Any] | None = None,
    segment: SegmentClause = no_segments,
    orders: OrderTables | None = None,
) -> Clause:
    """A boolean clause over the JSON column ``doc`` for a checked rule; ``seq`` is the
    tested entity's seq (for ``IN SEGMENT``), ``orders`` what behaviour functions read."""
    return SqlCompiler(schema, ctx, doc, seq=seq, segment=segment, orders=orders).node(node)


class SqlCompiler:
    def __init__(
        self,
        schema: Schema,
        ctx: EvalContext,
        doc: ColumnElement[Any],
        *,
        seq: ColumnElement[Any] | None,
        segment: SegmentClause,
        orders: OrderTables | None,
    ) -> None:
        self.schema = schema
        self.ctx = ctx
        self.doc = doc
        self.seq = seq
        self.segment = segment
        self.orders = orders

    def node(self, node: Node) -> Clause:
        return NODE_HANDLERS[type(node)](self, node)

    def and_(self, node: And) -> Clause:
        return sa.and_(*(self.node(i) for i in node.items))

    def or_(self, node: Or) -> Clause:
        return sa.or_(*(self.node(i) for i in node.items))

    def not_(self, node: Not) -> Clause:
        return sa.not_(self.node(node.item))

    def in_segment(self, node: InSegment) -> Clause:
        if self.seq is None:
            raise LookupError(f"no seq column was given to resolve IN SEGMENT {node.code!r}")
        return self.segment(node.code, self.seq)

    def behaviour(self, node: Behaviour) -> Clause:
        if self.orders is None:
            raise LookupError(f"no order tables were given to count {node.act.value}()")
        return behaviour_clause(node, self.orders, self.ctx, self.inner)

    def inner(
        self, node: Node, schema: Schema, doc: ColumnElement[Any], seq: ColumnElement[Any] | None
    ) -> Clause:
        """A behaviour function's condition, over the record of the order, product or
        buyer it joins (a behaviour inside one is refused by the checker)."""
        compiler = SqlCompiler(schema, self.ctx, doc, seq=seq, segment=self.segment, orders=None)
        return compiler.node(node)

    def condition(self, node: Condition) -> Clause:
        lowered = lower(node, self.schema, self.ctx)
        test = PRIMITIVE_HANDLERS[type(lowered.test)](self, lowered)
        clause: Clause = sa.func.coalesce(test, sa.false())
        return sa.not_(clause) if lowered.negated else clause

    # -- accessors -------------------------------------------------------------

    def key(self, lowered: Lowered) -> ColumnElement[str]:
        return sa.literal(lowered.key, sa.Text)

    def value(self, lowered: Lowered) -> ColumnElement[Any]:
        accessor = ACCESSORS[lowered.type]
        return accessor(self.doc, self.key(lowered))

    def bound(self, lowered: Lowered, value: Any) -> ColumnElement[Any]:
        """A literal typed like the attribute: never let the driver guess from the value
        (an int first in a list would make every item an INTEGER and truncate 9.99)."""
        return sa.literal(value, ACCESSORS[lowered.type].type)

    # -- primitives --------------------------------------------------------------

    def range(self, lowered: Lowered) -> Clause:
        test = lowered.test
        assert isinstance(test, Range)
        value = self.value(lowered)
        parts = _within(value, test, lambda bound: self.bound(lowered, bound))
        return sa.and_(*parts) if parts else self.present(lowered)

    def compare(self, lowered: Lowered) -> Clause:
        test = lowered.test
        assert isinstance(test, Compare)
        value: ColumnElement[Any] = self.value(lowered)
        against: ColumnElement[Any] = ACCESSORS[test.other_type](self.doc, _text(test.other))
        if test.other_type.is_textual:
            value, against = d.CodePointOrder(value), d.CodePointOrder(against)
        clause: Clause = SQL_COMPARISONS[test.op](value, against)
        return clause

    def items(self, lowered: Lowered) -> Clause:
        test = lowered.test
        assert isinstance(test, Items)
        item = sa.literal_column(d.ITEM, sa.Text)
        passes = _item_test(test.test, item)
        if test.flip:
            passes = sa.not_(passes)
        some = d.ItemExists(self.doc, self.key(lowered), passes)
        if not test.every:
            return some
        anything = d.ItemExists(self.doc, self.key(lowered), sa.true())
        return sa.and_(
            anything, sa.not_(d.ItemExists(self.doc, self.key(lowered), sa.not_(passes)))
        )

    def list_count(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, ListCount)
        length = d.ListLength(self.doc, self.key(lowered))
        parts = _within(length, lowered.test.range, lambda bound: sa.literal(bound, sa.Float))
        return sa.and_(*parts) if parts else self.present(lowered)

    def one_of(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, OneOf)
        values = sorted(lowered.test.values, key=repr)
        return self.value(lowered).in_([self.bound(lowered, v) for v in values])

    def substring(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, Substring)
        return d.StrContains(self.value(lowered), _text(lowered.test.text))

    def prefix(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, Prefix)
        text = lowered.test.text
        return d.StrPrefix(self.value(lowered), _text(text), sa.literal(len(text)))

    def suffix(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, Suffix)
        text = lowered.test.text
        return d.StrSuffix(self.value(lowered), _text(text), sa.literal(len(text)))

    def pattern(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, Pattern)
        source = lowered.test.source
        translated = regex.translate(source, "postgres")
        return d.RegexSearch(self.value(lowered), _text(source), _text(translated))

    def list_has(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, ListHas)
        return d.ListHas(self.doc, self.key(lowered), _text(lowered.test.item))

    def list_has_any(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, ListHasAny)
        items = [_text(i) for i in sorted(lowered.test.items)]
        return d.ListHasAny(self.doc, self.key(lowered), *items)

    def list_has_all(self, lowered: Lowered) -> Clause:
        assert isinstance(lowered.test, ListHasAll)
        items = [_text(i) for i in sorted(lowered.test.items)]
        return d.ListHasAll(self.doc, self.key(lowered), sa.literal(len(items)), *items)

    def anniversary(self, lowered: Lowered) -> Clause:
        test = lowered.test
        assert isinstance(test, Anniversary)
        if not test.days:
            return sa.false()
        value = self.value(lowered)
        month_day: ColumnElement[int] = (
            d.DayMonthDay(value)
            if test.tz is None
            else d.MomentMonthDay(value, _text(anniversaries.zone_name(test.tz)))
        )
        return sa.or_(
            *(
                month_day.between(sa.literal(first, sa.BigInteger), sa.literal(last, sa.BigInteger))
                for first, last in anniversaries.runs(test.days)
            )
        )

    def present(self, lowered: Lowered) -> Clause:
        return d.JsonHas(self.doc, self.key(lowered))


SQL_COMPARISONS: dict[Op, Callable[[Any, Any], Any]] = dict(COMPARISONS)
"""The same operators: on SQLAlchemy columns they build clauses."""


def _within(
    value: ColumnElement[Any], test: Range, bound: Callable[[Any], ColumnElement[Any]]
) -> list[Clause]:
    """The comparisons of ``value`` with the ends of a range (none for no ends)."""
    parts: list[Clause] = []
    if test.low is not None:
        low = bound(test.low)
        parts.append(value >= low if test.low_inclusive else value > low)
    if test.high is not None:
        high = bound(test.high)
        parts.append(value <= high if test.high_inclusive else value < high)
    return parts


def _item_test(test: Primitive, item: ColumnElement[str]) -> Clause:
    """A string test of one (folded) list item."""
    if isinstance(test, OneOf):
        return item.in_([_text(str(v)) for v in sorted(test.values, key=repr)])
    if isinstance(test, Substring):
        return d.StrContains(item, _text(test.text))
    if isinstance(test, Prefix):
        return d.StrPrefix(item, _text(test.text), sa.literal(len(test.text)))
    if isinstance(test, Suffix):
        return d.StrSuffix(item, _text(test.text), sa.literal(len(test.text)))
    assert isinstance(test, Pattern)
    translated = regex.translate(test.source, "postgres")
    return d.RegexSearch(item, _text(test.source), _text(translated))


def _text(value: str) -> ColumnElement[str]:
    return sa.literal(value, sa.Text)


ACCESSORS: dict[AttrType, type[d.JsonText | d.JsonNumber | d.JsonInteger | d.JsonBoolean]] = {
    AttrType.STRING: d.JsonText,
    AttrType.ENUM: d.JsonText,
    AttrType.NUMBER: d.JsonNumber,
    AttrType.INTEGER: d.JsonNumber,
    AttrType.BOOLEAN: d.JsonBoolean,
    AttrType.DATE: d.JsonInteger,
    AttrType.DATETIME: d.JsonInteger,
    AttrType.STRING_LIST: d.JsonText,
}

NODE_HANDLERS: dict[type, Callable[[SqlCompiler, Any], Clause]] = {
    And: SqlCompiler.and_,
    Or: SqlCompiler.or_,
    Not: SqlCompiler.not_,
    InSegment: SqlCompiler.in_segment,
    Condition: SqlCompiler.condition,
    Behaviour: SqlCompiler.behaviour,
}

PRIMITIVE_HANDLERS: dict[type, Callable[[SqlCompiler, Lowered], Clause]] = {
    Range: SqlCompiler.range,
    OneOf: SqlCompiler.one_of,
    Substring: SqlCompiler.substring,
    Prefix: SqlCompiler.prefix,
    Suffix: SqlCompiler.suffix,
    Pattern: SqlCompiler.pattern,
    ListHas: SqlCompiler.list_has,
    ListHasAny: SqlCompiler.list_has_any,
    ListHasAll: SqlCompiler.list_has_all,
    ListCount: SqlCompiler.list_count,
    Items: SqlCompiler.items,
    Compare: SqlCompiler.compare,
    Anniversary: SqlCompiler.anniversary,
    Present: SqlCompiler.present,
}
