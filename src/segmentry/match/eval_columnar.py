"""The columnar evaluator: a checked rule as a :data:`~segmentry.match.scan.Mask`
over a :class:`~segmentry.match.columnar.ColumnarTable`, scanned by
:mod:`segmentry.match.scan` a chunk of rows at a time.

Comparisons on numbers, times, booleans and string codes are numpy comparisons
of each chunk of the column's array (a missing number is NaN, which fails
every comparison; a missing time is the least int64, and a missing code 0);
tests on strings run once per distinct value of the column's dictionary (with
Polars) and become a lookup of each row's code; list tests and ``IN SEGMENT``
are row bitmaps turned into masks. Every primitive is two-valued (a missing
value is false), so ``~`` is exactly the negative twin, as in the other
evaluators.

A behaviour function is computed for every row at once with numpy over the
tenant's orders (:func:`behaviour_rows`); its condition is a mask over the
orders, products or customers selected by this same evaluator.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from pyroaring import BitMap

from segmentry.match import anniversaries, scan
from segmentry.match.behaviour import (
    bounds,
    condition_table,
    no_orders,
    threshold,
    values_of_all,
)
from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import (
    MISSING_TIME,
    BoolColumn,
    Column,
    ListColumn,
    NumberColumn,
    TextColumn,
    TimeColumn,
)
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
from segmentry.match.order_view import OrderView
from segmentry.match.scan import Mask, compared, either, every, negated, nothing, sliced
from segmentry.model.temporal import EvalContext
from segmentry.rules import regex
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or, segment_refs
from segmentry.rules.operators import Act, Op

Rows = Callable[[str], BitMap]
"""For ``IN SEGMENT``: the member rows (seqs) of a segment code."""


def no_segments(code: str) -> BitMap:
    raise LookupError(f"no memberships were given to resolve IN SEGMENT {code!r}")


def compile_columnar(
    node: Node,
    table: ColumnarTable,
    ctx: EvalContext,
    members: Rows = no_segments,
    orders: OrderView | None = None,
) -> Mask:
    """The rows a checked rule selects, as a mask over ranges of ``table``'s rows (for
    :func:`count`, :func:`select` and :func:`first_rows` on the table as it is now); a
    rule with a behaviour function needs ``orders``."""
    return ColumnarCompiler(table, ctx, members, orders).node(node)


def behaviour_rows(
    node: Behaviour, size: int, ctx: EvalContext, members: Rows, orders: OrderView | None
) -> np.ndarray:
    """Whether a behaviour function holds, for every entity seq below ``size``."""
    if orders is None:
        raise no_orders(node)
    kept, key = orders.counted, (node.act, node.where, node.since, node.until, size)
    if kept is not None and node.where is not None and segment_refs(node.where):
        kept = None  # memberships move within a pass
    values = kept.get(key) if kept is not None else None
    if values is None:
        values = _values_of_all(node, size, ctx, members, orders)
        if kept is not None:
            kept[key] = values
    if node.act is Act.PURCHASED:
        held: np.ndarray = values > 0
        return held
    return threshold(node).mask(values)


def _values_of_all(
    node: Behaviour, size: int, ctx: EvalContext, members: Rows, orders: OrderView
) -> np.ndarray:
    where = None
    if node.where is not None:
        other = condition_table(node, orders)
        selected = select(other, ColumnarCompiler(other, ctx, members).node(node.where))
        where = other.mask(selected)
    return values_of_all(node, orders.purchases, bounds(node, ctx), where, size)


def select(table: ColumnarTable, test: Mask) -> BitMap:
    """The live rows the rule selects."""
    return scan.select(table, test)


def first_rows(table: ColumnarTable, test: Mask, after: int, limit: int) -> list[int]:
    """The first ``limit`` live rows above ``after`` that the rule selects, in
    ascending order: a page of a listing, whose cursor is the last row handed out."""
    return scan.first_rows(table, test, after, limit)


def count(table: ColumnarTable, test: Mask) -> int:
    """How many live rows the rule selects."""
    return scan.count(table, test)


class ColumnarCompiler:
    def __init__(
        self,
        table: ColumnarTable,
        ctx: EvalContext,
        members: Rows,
        orders: OrderView | None = None,
    ) -> None:
        self.table = table
        self.ctx = ctx
        self.members = members
        self.orders = orders

    def node(self, node: Node) -> Mask:
        return NODE_HANDLERS[type(node)](self, node)

    def and_(self, node: And) -> Mask:
        return every(*(self.node(i) for i in node.items))

    def or_(self, node: Or) -> Mask:
        return either(*(self.node(i) for i in node.items))

    def not_(self, node: Not) -> Mask:
        return negated(self.node(node.item))

    def in_segment(self, node: InSegment) -> Mask:
        return self.rows(self.members(node.code))

    def behaviour(self, node: Behaviour) -> Mask:
        """A row mask, like ``IN SEGMENT``'s: the function's value per row, compared."""
        return sliced(behaviour_rows(node, self.table.size, self.ctx, self.members, self.orders))

    def condition(self, node: Condition) -> Mask:
        lowered = lower(node, self.table.schema, self.ctx)
        column = self.table.columns[lowered.key]
        test = PRIMITIVE_HANDLERS[type(lowered.test)](self, lowered, column)
        return negated(test) if lowered.negated else test

    def rows(self, rows: BitMap) -> Mask:
        return sliced(self.table.mask(rows))

    def by_code(self, column: TextColumn, lookup: np.ndarray) -> Mask:
        """Rows whose code is marked in ``lookup`` (a mask over the dictionary)."""
        lookup[0] = False
        codes, scratch = column.codes, scan.Scratch()
        return lambda start, stop: np.take(
            lookup, codes[start:stop], out=scratch.get(stop - start), mode="clip"
        )

    # -- primitives ---------------------------------------------------------------------

    def range(self, lowered: Lowered, column: Column) -> Mask:
        test = lowered.test
        assert isinstance(test, Range)
        values = _array(column)
        parts: list[Mask] = []
        if test.low is not None:
            op = operator.ge if test.low_inclusive else operator.gt
            parts.append(compared(values, op, test.low))
        if test.high is not None:
            op = operator.le if test.high_inclusive else operator.lt
            parts.append(compared(values, op, test.high))
        if _missing_may_pass(test, column) or not parts:
            parts.append(self.present(lowered, column))
        return every(*parts)

    def one_of(self, lowered: Lowered, column: Column) -> Mask:
        test = lowered.test
        assert isinstance(test, OneOf)
        if isinstance(column, TextColumn):
            codes = [
                column.index[v] for v in test.values if isinstance(v, str) and v in column.index
            ]
            if len(codes) == 1:
                return compared(column.codes, operator.eq, codes[0])
            lookup = np.zeros(len(column.values), dtype=np.bool_)
            lookup[codes] = True
            return self.by_code(column, lookup) if codes else nothing
        if isinstance(column, BoolColumn):
            wanted: list[Any] = sorted({int(v) for v in test.values})
        else:
            wanted = sorted({float(v) for v in test.values})
        values = _array(column)
        return either(*(compared(values, operator.eq, v) for v in wanted)) if wanted else nothing

    def text_test(self, lowered: Lowered, column: Column) -> Mask:
        assert isinstance(column, TextColumn)
        hits = text_hits(column.dictionary(), lowered.test)
        return self.by_code(column, hits)

    def items(self, lowered: Lowered, column: Column) -> Mask:
        assert isinstance(column, ListColumn)
        assert isinstance(lowered.test, Items)
        return self.rows(item_rows(column, lowered.test))

    def list_has(self, lowered: Lowered, column: Column) -> Mask:
        assert isinstance(column, ListColumn)
        test = lowered.test
        if isinstance(test, ListHas):
            return self.rows(column.items.get(test.item, BitMap()))
        assert isinstance(test, ListHasAny | ListHasAll)
        bitmaps = [column.items.get(item, BitMap()) for item in test.items]
        if isinstance(test, ListHasAny):
            return self.rows(BitMap.union(*bitmaps) if bitmaps else BitMap())
        return self.rows(BitMap.intersection(*bitmaps))

    def list_count(self, lowered: Lowered, column: Column) -> Mask:
        assert isinstance(column, ListColumn)
        assert isinstance(lowered.test, ListCount)
        test, counts = lowered.test.range, column.counts
        parts: list[Mask] = [lambda start, stop: np.ones(stop - start, dtype=np.bool_)]
        if test.low is not None:
            op = operator.ge if test.low_inclusive else operator.gt
            parts.append(compared(counts, op, test.low))
        if test.high is not None:
            op = operator.le if test.high_inclusive else operator.lt
            parts.append(compared(counts, op, test.high))
        return every(*parts[1:]) if len(parts) > 1 else parts[0]

    def compare(self, lowered: Lowered, column: Column) -> Mask:
        test = lowered.test
        assert isinstance(test, Compare)
        other = self.table.columns[test.other]
        both = every(self.present(lowered, column), self.present_of(other))
        op = POLARS_COMPARISONS[test.op]
        if isinstance(column, TextColumn) or isinstance(other, TextColumn):
            size = self.table.size  # strings compare by code point, not by code
            held = op(_strings(column, size), _strings(other, size)).to_numpy()
            return every(both, sliced(held))
        mine, theirs = _array(column), _array(other)
        return every(both, lambda start, stop: op(mine[start:stop], theirs[start:stop]))

    def anniversary(self, lowered: Lowered, column: Column) -> Mask:
        assert isinstance(column, TimeColumn)
        assert isinstance(lowered.test, Anniversary)
        return sliced(anniversary_mask(column.values[: self.table.size], lowered.test))

    def present(self, lowered: Lowered, column: Column) -> Mask:
        return self.present_of(column)

    def present_of(self, column: Column) -> Mask:
        match column:
            case TextColumn():
                return compared(column.codes, operator.ne, 0)
            case NumberColumn():
                return negated(_nan(column.values))
            case TimeColumn():
                return compared(column.values, operator.ne, MISSING_TIME)
            case BoolColumn():
                return compared(column.values, operator.ne, -1)
            case ListColumn():
                return self.rows(column.present)


def _array(column: Column) -> np.ndarray:
    """The array of a scalar column: its codes or values."""
    assert not isinstance(column, ListColumn)
    array: np.ndarray = column.codes if isinstance(column, TextColumn) else column.values
    return array


def _nan(values: np.ndarray) -> Mask:
    """Rows whose number is missing (NaN)."""
    scratch = scan.Scratch()
    return lambda start, stop: np.isnan(values[start:stop], out=scratch.get(stop - start))


def _strings(column: Column, size: int) -> pl.Series:
    """A column's values as strings (a text column's, not their codes), or as they are."""
    if isinstance(column, TextColumn):
        return column.dictionary().gather(pl.Series(column.codes[:size].astype(np.int64)))
    return pl.Series(_array(column)[:size])


POLARS_COMPARISONS: dict[Op, Callable[[Any, Any], Any]] = dict(COMPARISONS)
"""The same operators: on numpy arrays and Polars series they compare each row."""


def text_hits(values: pl.Series, test: Primitive) -> np.ndarray:
    """Which of ``values`` (folded strings) pass a string test, run once per value."""
    if isinstance(test, OneOf):
        return values.is_in([v for v in test.values if isinstance(v, str)]).to_numpy().copy()
    strings = values.str
    if isinstance(test, Substring):
        hits = strings.contains(test.text, literal=True)
    elif isinstance(test, Prefix):
        hits = strings.starts_with(test.text)
    elif isinstance(test, Suffix):
        hits = strings.ends_with(test.text)
    else:
        assert isinstance(test, Pattern)
        hits = strings.contains(regex.translate(test.source, "rust"))
    found: np.ndarray = hits.to_numpy().copy()
    return found


def item_rows(column: ListColumn, test: Items) -> BitMap:
    """The rows whose list passes a test of its items: once per distinct item."""
    names = [name for name, rows in column.items.items() if rows]
    passing = text_hits(pl.Series(names, dtype=pl.String), test.test) != test.flip
    chosen = [column.items[n] for n, ok in zip(names, passing.tolist(), strict=True)
              if ok is not test.every]  # fmt: skip
    union = BitMap.union(*chosen) if chosen else BitMap()
    # ANY: a row with a passing item; ALL: a row with items, none of them failing
    return column.present - union if test.every else union


def anniversary_mask(values: np.ndarray, test: Anniversary) -> np.ndarray:
    """Which rows' month-day is one of the test's: dates with numpy's calendar, date-times
    once per distinct moment (the zone's offsets are only known to Python)."""
    present = values != MISSING_TIME
    out = np.zeros(len(values), dtype=bool)
    if not test.days or not present.any():
        return out
    found = values[present]
    if test.tz is None:
        days = found.astype("datetime64[D]")
        months = days.astype("datetime64[M]")
        month_days = (months.astype(np.int64) % 12 + 1) * 100 + (days - months).astype(np.int64) + 1
    else:
        distinct, inverse = np.unique(found, return_inverse=True)
        tz = test.tz
        month_days = np.array(
            [anniversaries.of_moment(int(v), tz) for v in distinct.tolist()], dtype=np.int64
        )[inverse]
    out[present] = np.isin(month_days, np.array(sorted(test.days), dtype=np.int64))
    return out


def _missing_may_pass(test: Range, column: Column) -> bool:
    """Whether a missing value could pass the range's comparisons, so the range must
    test presence too (two more passes over the chunk when it need not). A missing
    time is the least int64, below every lower bound; a missing number is NaN,
    which fails every numpy comparison."""
    if isinstance(column, TimeColumn):
        return test.low is None
    return not isinstance(column, NumberColumn)


NODE_HANDLERS: dict[type, Callable[[ColumnarCompiler, Any], Mask]] = {
    And: ColumnarCompiler.and_,
    Or: ColumnarCompiler.or_,
    Not: ColumnarCompiler.not_,
    InSegment: ColumnarCompiler.in_segment,
    Condition: ColumnarCompiler.condition,
    Behaviour: ColumnarCompiler.behaviour,
}

PRIMITIVE_HANDLERS: dict[type, Callable[[ColumnarCompiler, Lowered, Column], Mask]] = {
    Range: ColumnarCompiler.range,
    OneOf: ColumnarCompiler.one_of,
    Substring: ColumnarCompiler.text_test,
    Prefix: ColumnarCompiler.text_test,
    Suffix: ColumnarCompiler.text_test,
    Pattern: ColumnarCompiler.text_test,
    ListHas: ColumnarCompiler.list_has,
    ListHasAny: ColumnarCompiler.list_has,
    ListHasAll: ColumnarCompiler.list_has,
    ListCount: ColumnarCompiler.list_count,
    Items: ColumnarCompiler.items,
    Compare: ColumnarCompiler.compare,
    Anniversary: ColumnarCompiler.anniversary,
    Present: ColumnarCompiler.present,
}
