"""The columnar evaluator: a checked rule as one Polars expression over a
:class:`~segmentry.match.columnar.ColumnarTable`.

Comparisons on numbers, times, booleans and string codes are Polars
expressions that Polars runs vectorised and in parallel; tests on strings run
once per distinct value of the column's dictionary and become a lookup of
each row's code; list tests and ``IN SEGMENT`` are row bitmaps turned into
masks. Every primitive is two-valued (a missing value is false), so ``~`` is
exactly the negative twin, as in the other evaluators.

A behaviour function is computed for every row at once with numpy over the
tenant's orders (:func:`behaviour_rows`); its condition is a mask over the
orders, products or customers selected by this same evaluator.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from pyroaring import BitMap

from segmentry.match.behaviour import (
    bounds,
    condition_table,
    no_orders,
    threshold,
    values_of_all,
)
from segmentry.match.columnar import (
    ALIVE,
    MISSING_TIME,
    BoolColumn,
    Column,
    ColumnarTable,
    ListColumn,
    NumberColumn,
    TextColumn,
    TimeColumn,
)
from segmentry.match.eval_python import COMPARISONS
from segmentry.match.lowering import (
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
from segmentry.match.purchases import OrderView
from segmentry.model.bitmaps import ascending_bitmap
from segmentry.model.temporal import EvalContext
from segmentry.rules import regex
from segmentry.rules.ast import And, Behaviour, Condition, InSegment, Node, Not, Or
from segmentry.rules.operators import Act, Op

Rows = Callable[[str], BitMap]
"""For ``IN SEGMENT``: the member rows (seqs) of a segment code."""
ROW = "__row"


def no_segments(code: str) -> BitMap:
    raise LookupError(f"no memberships were given to resolve IN SEGMENT {code!r}")


def compile_columnar(
    node: Node,
    table: ColumnarTable,
    ctx: EvalContext,
    members: Rows = no_segments,
    orders: OrderView | None = None,
) -> pl.Expr:
    """A boolean Polars expression over ``table.frame()`` for a checked rule; a rule with
    a behaviour function needs ``orders``."""
    return ColumnarCompiler(table, ctx, members, orders).node(node)


def behaviour_rows(
    node: Behaviour, size: int, ctx: EvalContext, members: Rows, orders: OrderView | None
) -> np.ndarray:
    """Whether a behaviour function holds, for every entity seq below ``size``."""
    if orders is None:
        raise no_orders(node)
    where = None
    if node.where is not None:
        other = condition_table(node, orders)
        selected = select(other, ColumnarCompiler(other, ctx, members).node(node.where))
        where = other.mask(selected)
    values = values_of_all(node, orders.purchases, bounds(node, ctx), where, size)
    if node.act is Act.PURCHASED:
        held: np.ndarray = values > 0
        return held
    return threshold(node).mask(values)


def select(table: ColumnarTable, expr: pl.Expr) -> BitMap:
    """The live rows the expression selects."""
    found = (
        table.frame(expr.meta.root_names())
        .lazy()
        .with_row_index(ROW)
        .filter(pl.col(ALIVE) & expr)
        .select(ROW)
        .collect()
        .to_series()
        .to_numpy()
    )
    return ascending_bitmap(found)  # a filter keeps the rows' order


def first_rows(table: ColumnarTable, expr: pl.Expr, after: int, limit: int) -> list[int]:
    """The first ``limit`` live rows above ``after`` that the expression selects, in
    ascending order: a page of a listing, whose cursor is the last row handed out."""
    if after >= table.size:  # also keeps a cursor past every row out of the u32 row index
        return []
    found = (
        table.frame(expr.meta.root_names())
        .lazy()
        .with_row_index(ROW)
        .filter(pl.col(ALIVE) & (pl.col(ROW) > after) & expr)
        .head(limit)
        .select(ROW)
        .collect()
        .to_series()
    )
    return [int(row) for row in found]


def count(table: ColumnarTable, expr: pl.Expr) -> int:
    frame = table.frame(expr.meta.root_names())
    frame = frame.lazy().filter(pl.col(ALIVE) & expr).select(pl.len()).collect()
    return int(frame.item())


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

    def node(self, node: Node) -> pl.Expr:
        return NODE_HANDLERS[type(node)](self, node)

    def and_(self, node: And) -> pl.Expr:
        return functools.reduce(operator.and_, (self.node(i) for i in node.items))

    def or_(self, node: Or) -> pl.Expr:
        return functools.reduce(operator.or_, (self.node(i) for i in node.items))

    def not_(self, node: Not) -> pl.Expr:
        return ~self.node(node.item)

    def in_segment(self, node: InSegment) -> pl.Expr:
        return self.rows(self.members(node.code))

    def behaviour(self, node: Behaviour) -> pl.Expr:
        """A row mask, like ``IN SEGMENT``'s: the function's value per row, compared."""
        held = behaviour_rows(node, self.table.size, self.ctx, self.members, self.orders)
        return pl.lit(pl.Series(held))

    def condition(self, node: Condition) -> pl.Expr:
        lowered = lower(node, self.table.schema, self.ctx)
        column = self.table.columns[lowered.key]
        expr = PRIMITIVE_HANDLERS[type(lowered.test)](self, lowered, column)
        return ~expr if lowered.negated else expr

    def rows(self, rows: BitMap) -> pl.Expr:
        return pl.lit(pl.Series(self.table.mask(rows)))

    def by_code(self, column: TextColumn, lookup: np.ndarray) -> pl.Expr:
        """Rows whose code is marked in ``lookup`` (a mask over the dictionary)."""
        lookup[0] = False
        return pl.lit(pl.Series(lookup[column.codes[: self.table.size]]))

    # -- primitives ---------------------------------------------------------------------

    def range(self, lowered: Lowered, column: Column) -> pl.Expr:
        test = lowered.test
        assert isinstance(test, Range)
        col = pl.col(lowered.key)
        parts: list[pl.Expr] = []
        if test.low is not None:
            parts.append(col >= test.low if test.low_inclusive else col > test.low)
        if test.high is not None:
            parts.append(col <= test.high if test.high_inclusive else col < test.high)
        if _missing_may_pass(test, column):
            parts.append(self.present(lowered, column))
        return functools.reduce(operator.and_, parts)

    def one_of(self, lowered: Lowered, column: Column) -> pl.Expr:
        test = lowered.test
        assert isinstance(test, OneOf)
        col = pl.col(lowered.key)
        if isinstance(column, TextColumn):
            codes = [
                column.index[v] for v in test.values if isinstance(v, str) and v in column.index
            ]
            if len(codes) == 1:
                return col == codes[0]  # a plain comparison scans faster than a lookup
            return col.is_in(codes) if codes else pl.lit(False)
        if isinstance(column, BoolColumn):
            return col.is_in([int(v) for v in test.values])
        return col.is_in([float(v) for v in test.values])

    def text_test(self, lowered: Lowered, column: Column) -> pl.Expr:
        assert isinstance(column, TextColumn)
        hits = text_hits(column.dictionary(), lowered.test)
        return self.by_code(column, hits)

    def items(self, lowered: Lowered, column: Column) -> pl.Expr:
        assert isinstance(column, ListColumn)
        assert isinstance(lowered.test, Items)
        return self.rows(item_rows(column, lowered.test))

    def list_has(self, lowered: Lowered, column: Column) -> pl.Expr:
        assert isinstance(column, ListColumn)
        test = lowered.test
        if isinstance(test, ListHas):
            return self.rows(column.items.get(test.item, BitMap()))
        assert isinstance(test, ListHasAny | ListHasAll)
        bitmaps = [column.items.get(item, BitMap()) for item in test.items]
        if isinstance(test, ListHasAny):
            return self.rows(BitMap.union(*bitmaps) if bitmaps else BitMap())
        return self.rows(functools.reduce(operator.and_, bitmaps))

    def list_count(self, lowered: Lowered, column: Column) -> pl.Expr:
        assert isinstance(column, ListColumn)
        assert isinstance(lowered.test, ListCount)
        test = lowered.test.range
        counts = pl.lit(pl.Series(column.counts[: self.table.size]))
        parts = [pl.lit(True)]
        if test.low is not None:
            parts.append(counts >= test.low if test.low_inclusive else counts > test.low)
        if test.high is not None:
            parts.append(counts <= test.high if test.high_inclusive else counts < test.high)
        return functools.reduce(operator.and_, parts)

    def compare(self, lowered: Lowered, column: Column) -> pl.Expr:
        test = lowered.test
        assert isinstance(test, Compare)
        other = self.table.columns[test.other]
        value, against = self.values(lowered.key, column), self.values(test.other, other)
        both = self.present_of(lowered.key, column) & self.present_of(test.other, other)
        compared: pl.Expr = POLARS_COMPARISONS[test.op](value, against)
        return both & compared

    def values(self, key: str, column: Column) -> pl.Expr:
        """A column's values to compare with another's: strings, not their codes."""
        if isinstance(column, TextColumn):
            codes = pl.Series(column.codes[: self.table.size].astype(np.int64))
            return pl.lit(column.dictionary().gather(codes))
        return pl.col(key)

    def present(self, lowered: Lowered, column: Column) -> pl.Expr:
        return self.present_of(lowered.key, column)

    def present_of(self, key: str, column: Column) -> pl.Expr:
        col = pl.col(key)
        match column:
            case TextColumn():
                return col != 0
            case NumberColumn():
                return col.is_not_nan()
            case TimeColumn():
                return col != MISSING_TIME
            case BoolColumn():
                return col != -1
            case ListColumn():
                return self.rows(column.present)


POLARS_COMPARISONS: dict[Op, Callable[[Any, Any], Any]] = dict(COMPARISONS)
"""The same operators: on Polars expressions they build expressions."""


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


def _missing_may_pass(test: Range, column: Column) -> bool:
    """Whether a missing value could pass the range's comparisons, so the range must
    test presence too (two more passes over the column when it need not). A missing
    time is the least int64, below every lower bound; a missing number is NaN,
    which Polars orders above every number, so above every upper bound."""
    if isinstance(column, TimeColumn):
        return test.low is None
    if isinstance(column, NumberColumn):
        return test.high is None
    return True


NODE_HANDLERS: dict[type, Callable[[ColumnarCompiler, Any], pl.Expr]] = {
    And: ColumnarCompiler.and_,
    Or: ColumnarCompiler.or_,
    Not: ColumnarCompiler.not_,
    InSegment: ColumnarCompiler.in_segment,
    Condition: ColumnarCompiler.condition,
    Behaviour: ColumnarCompiler.behaviour,
}

PRIMITIVE_HANDLERS: dict[type, Callable[[ColumnarCompiler, Lowered, Column], pl.Expr]] = {
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
    Present: ColumnarCompiler.present,
}
