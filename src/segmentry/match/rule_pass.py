"""The vectorised pass of a :class:`~segmentry.match.rule_index.RuleIndex`: every
rule for some rows of a :class:`ColumnarTable`.

The leaves of all rules are filled a column at a time into a nodes x rows
matrix (ranges compared with every bound at once, equality and string tests
once per distinct value of the rows, list items from their bitmaps); the inner
nodes follow level by level with ``reduceat``. Nodes are the matrix's rows, so
gathering a level's children copies whole contiguous rows. A behaviour function
is counted from the tenant's orders: row by row for a few rows, for every entity
at once for more.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import ListColumn, TextColumn
from segmentry.match.eval_columnar import Rows, behaviour_rows, item_rows
from segmentry.match.eval_python import COMPARISONS, Compiler, Terms, Windows
from segmentry.match.index_parts import (
    KeyIndex,
    Ranges,
    moves_with_time,
    present_rows,
    stored_value,
)
from segmentry.match.lowering import Compare
from segmentry.match.order_view import OrderView
from segmentry.model.bitmaps import array_of, bitmap_of
from segmentry.model.schema import Schema
from segmentry.model.temporal import EvalContext
from segmentry.rules.ast import Behaviour, conditions

FEW_ROWS = 16
"""Up to this many rows, a behaviour function is counted row by row from the orders'
indexes; for more, for every entity at once over the orders' arrays."""

Level = tuple[str, np.ndarray, np.ndarray]
"""Inner nodes of one height, kind and number of children: kind, node ids, and their
children as a nodes x children matrix."""


def levelise(ops: list[tuple[str, list[int]]], leaf_count: int) -> list[Level]:
    """Inner nodes by height (children before parents); ``ops`` name children with
    real ids (leaves first, then inner nodes in the order of ``ops``)."""
    height: list[int] = []
    for _, children in ops:
        height.append(1 + max((height[c - leaf_count] if c >= leaf_count else 0) for c in children))
    groups: dict[tuple[int, str, int], list[int]] = {}
    for n, (kind, children) in enumerate(ops):
        groups.setdefault((height[n], kind, len(children)), []).append(n)
    levels = []
    for (_, kind, _), nodes in sorted(groups.items()):
        matrix = np.array([ops[n][1] for n in nodes], dtype=np.int64)
        levels.append((kind, np.array(nodes, dtype=np.int64) + leaf_count, matrix))
    return levels


def run_levels(truth: np.ndarray, levels: list[Level]) -> None:
    """Fill the inner nodes of a nodes x rows matrix whose leaves are filled: each
    level's nodes have the same number of children, combined a child at a time (a
    plain ``&`` over whole rows is many times faster than a boolean ``reduceat``)."""
    for kind, nodes, children in levels:
        combined = truth[children[:, 0]]
        if kind == "not":
            np.logical_not(combined, out=combined)
        for k in range(1, children.shape[1]):
            if kind == "and":
                combined &= truth[children[:, k]]
            else:
                combined |= truth[children[:, k]]
        truth[nodes] = combined


def fill(
    truth: np.ndarray, index: KeyIndex, table: ColumnarTable, rows: np.ndarray, timed: Ranges | None
) -> None:
    """The leaves of one attribute (rows of the nodes x rows matrix ``truth``) for the
    table's ``rows``; ``timed`` holds the attribute's time-moving groups' bounds now."""
    column = table.columns[index.key]
    if isinstance(column, ListColumn):
        _fill_list(truth, index, column, rows)
        return
    raw = column.codes[rows] if isinstance(column, TextColumn) else column.values[rows]
    present = present_rows(column, raw)
    if index.ranges.leaves:
        truth[index.ranges.frozen[0]] = index.ranges.holding(raw) & present
    if timed is not None:
        groups = timed.holding(raw) & present
        truth[index.timed.leaves] = groups[index.timed.group_of]
    if index.present:
        truth[index.present] = present
    if index.equal or index.tested:
        _fill_by_value(truth, index, column, raw, present)


def _fill_by_value(
    truth: np.ndarray, index: KeyIndex, column: Any, raw: np.ndarray, present: np.ndarray
) -> None:
    """Equality and string tests, once per distinct value of the rows (the rows grouped
    by value with one sort, not found anew for each value). A value's rows are set in
    the leaves it makes hold as whole rows of the matrix: a 2-D scatter is far slower."""
    distinct, inverse, counts = np.unique(raw[present], return_inverse=True, return_counts=True)
    by_value = np.flatnonzero(present)[np.argsort(inverse, kind="stable")]
    ends = np.cumsum(counts).tolist()
    for k, stored in enumerate(distinct.tolist()):
        leaves = index.holding_at(stored_value(column, stored))
        if leaves:
            truth[leaves] |= _mask(len(raw), by_value[ends[k] - int(counts[k]) : ends[k]])


def _fill_list(truth: np.ndarray, index: KeyIndex, column: ListColumn, rows: np.ndarray) -> None:
    """Each item's rows among ``rows`` are found by position (a search in the sorted
    rows), and only those positions of the leaves that name the item are counted."""
    batch = bitmap_of(rows)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]

    def at(members: BitMap) -> np.ndarray:  # positions in ``rows`` of members among them
        found: np.ndarray = order[np.searchsorted(ordered, array_of(members))]
        return found

    if index.present:
        truth[index.present] = _mask(len(rows), at(column.present & batch))
    for leaf, test in index.item_tests:
        truth[leaf] = _mask(len(rows), at(item_rows(column, test) & batch))
    if index.counts.leaves:  # their ranges never hold 0: a missing list fails them
        truth[index.counts.frozen[0]] = index.counts.holding(column.counts[rows].astype(float))
    if not index.items:
        return
    lists = index.lists
    # A leaf needs at most MAX_LIST_ITEMS (1,000) items: 16 bits count them.
    hits = np.zeros((len(lists.leaves), len(rows)), dtype=np.int16)
    for item, positions in lists.positions.items():
        holders = column.items.get(item)
        if holders:
            holding = holders & batch
            if holding:
                hits[positions] += _mask(len(rows), at(holding))
    truth[lists.leaves] = hits >= lists.need[:, None]


def compared_rows(table: ColumnarTable, rows: np.ndarray, key: str, test: Compare) -> np.ndarray:
    """Whether each of ``rows`` has ``key`` and ``test.other`` and they compare so."""
    value, present = _values(table.columns[key], rows)
    against, present_too = _values(table.columns[test.other], rows)
    both = present & present_too
    out = np.zeros(len(rows), dtype=np.bool_)
    if both.any():
        out[both] = np.asarray(COMPARISONS[test.op](value[both], against[both]), dtype=np.bool_)
    return out


def behaviour_held(
    node: Behaviour,
    schema: Schema,
    ctx: EvalContext,
    table: ColumnarTable,
    rows: np.ndarray,
    *,
    members: Rows,
    orders: OrderView | None,
    shared: tuple[Windows, Terms] | None = None,
) -> np.ndarray:
    """Whether a behaviour function holds for each of ``rows`` (entity seqs). A few rows
    are answered by the Python evaluator, with ``shared`` windows and values (see
    ``eval_python.Terms``) when given and the condition has no relative time."""
    if len(rows) > FEW_ROWS:
        every: np.ndarray = behaviour_rows(node, table.size, ctx, members, orders)
        held: np.ndarray = every[rows]
        return held
    windows, terms = shared if shared and not _moves(node) else (None, None)
    predicate = Compiler(schema, ctx, members, orders, windows=windows, terms=terms).node(node)
    return np.array([predicate({}, seq) for seq in rows.tolist()], dtype=np.bool_)


def _moves(node: Behaviour) -> bool:
    return node.where is not None and any(moves_with_time(c) for c in conditions(node.where))


def _values(column: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A scalar column's values at ``rows`` (strings for text) and where they are present."""
    if isinstance(column, TextColumn):
        codes = column.codes[rows]
        return np.array(column.values, dtype=object)[codes], codes != 0
    values = column.values[rows]
    return values, present_rows(column, values)


def _mask(size: int, positions: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=np.bool_)
    mask[positions] = True
    return mask
