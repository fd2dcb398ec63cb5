"""The vectorised pass of a :class:`~segmentry.rules.rule_index.RuleIndex`: every
rule for some rows of a :class:`ColumnarTable`.

The leaves of all rules are filled a column at a time into a rows x nodes
matrix (ranges compared with every bound at once, equality and string tests
once per distinct value of the rows, list items from their bitmaps); the inner
nodes follow level by level with ``reduceat``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyroaring import BitMap

from segmentry.rules.columnar import ColumnarTable, ListColumn, TextColumn
from segmentry.rules.index_parts import KeyIndex, Ranges, present_rows, rows_in, stored_value

Level = tuple[str, np.ndarray, np.ndarray, np.ndarray]
"""Inner nodes of one height and kind: kind, node ids, their children end to end,
where each node's children start."""


def levelise(ops: list[tuple[str, list[int]]], leaf_count: int) -> list[Level]:
    """Inner nodes by height (children before parents); ``ops`` name children with
    real ids (leaves first, then inner nodes in the order of ``ops``)."""
    height: list[int] = []
    for _, children in ops:
        height.append(1 + max((height[c - leaf_count] if c >= leaf_count else 0) for c in children))
    levels = []
    for h in sorted(set(height)):
        for kind in ("and", "or", "not"):
            nodes = [n for n, (k, _) in enumerate(ops) if k == kind and height[n] == h]
            if nodes:
                groups = [ops[n][1] for n in nodes]
                starts = np.cumsum([0] + [len(g) for g in groups[:-1]])
                flat = np.array([c for g in groups for c in g], dtype=np.int64)
                levels.append((kind, np.array(nodes, dtype=np.int64) + leaf_count, flat, starts))
    return levels


def run_levels(truth: np.ndarray, levels: list[Level]) -> None:
    """Fill the inner nodes of a rows x nodes matrix whose leaves are filled."""
    for kind, nodes, children, starts in levels:
        values = truth[:, children]
        if kind == "and":
            truth[:, nodes] = np.logical_and.reduceat(values, starts, axis=1)
        elif kind == "or":
            truth[:, nodes] = np.logical_or.reduceat(values, starts, axis=1)
        else:
            truth[:, nodes] = ~values


def fill(
    truth: np.ndarray, index: KeyIndex, table: ColumnarTable, rows: np.ndarray, timed: Ranges | None
) -> None:
    """The leaves of one attribute, for the rows; ``timed`` holds its time-moving
    groups' bounds now."""
    column = table.columns[index.key]
    if isinstance(column, ListColumn):
        _fill_list(truth, index, column, rows)
        return
    raw = column.codes[rows] if isinstance(column, TextColumn) else column.values[rows]
    present = present_rows(column, raw)
    if index.ranges.leaves:
        truth[:, index.ranges.frozen[0]] = index.ranges.holds(raw) & present[:, None]
    if timed is not None:
        groups = timed.holds(raw) & present[:, None]
        truth[:, index.timed.leaves] = groups[:, index.timed.group_of]
    if index.present:
        truth[:, index.present] = present[:, None]
    if index.equal or index.tested:
        _fill_by_value(truth, index, column, raw, present)


def _fill_by_value(
    truth: np.ndarray, index: KeyIndex, column: Any, raw: np.ndarray, present: np.ndarray
) -> None:
    """Equality and string tests, once per distinct value of the rows."""
    distinct, inverse = np.unique(raw[present], return_inverse=True)
    where = np.flatnonzero(present)
    for k, stored in enumerate(distinct.tolist()):
        value = stored_value(column, stored)
        leaves = [
            *index.equal.get(value, ()),
            *(leaf for leaf, test in index.tested if test(value)),
        ]
        if leaves:
            truth[np.ix_(where[inverse == k], leaves)] = True


def _fill_list(truth: np.ndarray, index: KeyIndex, column: ListColumn, rows: np.ndarray) -> None:
    batch = BitMap(rows.astype(np.uint32))
    if index.present:
        truth[:, index.present] = rows_in(rows, column.present & batch)[:, None]
    if not index.items:
        return
    lists = index.lists
    hits = np.zeros((len(rows), len(lists.leaves)), dtype=np.int32)
    for item, positions in lists.positions.items():
        holders = column.items.get(item)
        if holders:
            holding = holders & batch
            if holding:
                hits[:, positions] += rows_in(rows, holding)[:, None]
    truth[:, lists.leaves] = hits >= lists.need
