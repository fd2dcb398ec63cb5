"""The column types of the columnar snapshot (:mod:`segmentry.match.columnar`), one per
family of attribute types, each a mutable array (or bitmaps) updated in place by writes.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from itertools import islice, repeat
from typing import Any

import numpy as np
import polars as pl
from pyroaring import BitMap

from segmentry.model.schema import AttrType

MISSING_TIME = np.iinfo(np.int64).min


class TextColumn:
    def __init__(self, capacity: int) -> None:
        self.codes = np.zeros(capacity, dtype=np.uint32)
        self.values: list[str] = [""]  # code 0 is "missing"
        self._index: dict[str, int] | None = {}
        self._series: pl.Series | None = None

    @property
    def index(self) -> dict[str, int]:
        """The code of each value. A load codes a new column's values in bulk without
        it (most loaded tenants are read, not written); it is built when first needed."""
        if self._index is None:
            values = self.values
            self._index = dict(zip(islice(values, 1, None), range(1, len(values)), strict=True))
        return self._index

    def code(self, value: str) -> int:
        index = self.index
        found = index.get(value)
        if found is None:
            found = index[value] = len(self.values)
            self.values.append(value)
            self._series = None
        return found

    def code_all(self, distinct: list[str]) -> Sequence[int]:
        """The codes of distinct values, coding the new ones (a load's bulk :meth:`code`)."""
        if len(self.values) == 1:  # nothing coded yet: the values take codes 1, 2, ...
            self._code_new(distinct)
            return range(1, len(self.values))
        index = self.index
        self._code_new([v for v in distinct if v not in index])
        return [index[v] for v in distinct]

    def set(self, row: int, value: Any) -> None:
        self.codes[row] = 0 if value is None else self.code(value)

    def set_many(self, rows: np.ndarray, values: list[Any]) -> None:
        """Rows' values; the new ones coded together, in order of first appearance (a
        batch of new customers brings thousands of distinct emails and names)."""
        codes = list(map(self.index.get, values, repeat(0)))  # 0: missing, or not coded yet
        if 0 in codes:
            distinct = dict.fromkeys(values)  # in order of first appearance, with no Python step
            distinct.pop(None, None)
            index = self.index
            if index.keys().isdisjoint(distinct):  # all new, as ids and emails of an import
                self._code_new(list(distinct))
            else:
                self._code_new([v for v in distinct if v not in index])
            codes = list(map(self.index.get, values, repeat(0)))
        self.codes[rows] = codes

    def _code_new(self, new: list[str]) -> None:
        """Code values none of which is coded yet."""
        if not new:
            return
        if len(self.values) == 1:  # as in :meth:`code_all`: the index is built when needed
            self.values.extend(new)
            self._index, self._series = None, None
            return
        start = len(self.values)
        self.values.extend(new)
        self.index.update(zip(new, range(start, start + len(new)), strict=True))
        self._series = None

    def dictionary(self) -> pl.Series:
        """The distinct values by code, for tests that run once per value."""
        if self._series is None:
            self._series = pl.Series("values", self.values, dtype=pl.String)
        return self._series

    def grow(self, capacity: int) -> None:
        self.codes = grown(self.codes, capacity, 0)


class NumberColumn:
    def __init__(self, capacity: int) -> None:
        self.values = np.full(capacity, np.nan, dtype=np.float64)

    def set(self, row: int, value: Any) -> None:
        self.values[row] = np.nan if value is None else float(value)

    def set_many(self, rows: np.ndarray, values: list[Any]) -> None:
        self.values[rows] = np.array(values, dtype=np.float64)  # None becomes NaN

    def grow(self, capacity: int) -> None:
        self.values = grown(self.values, capacity, np.nan)


class TimeColumn:
    def __init__(self, capacity: int) -> None:
        self.values = np.full(capacity, MISSING_TIME, dtype=np.int64)

    def set(self, row: int, value: Any) -> None:
        self.values[row] = MISSING_TIME if value is None else int(value)

    def set_many(self, rows: np.ndarray, values: list[Any]) -> None:
        self.values[rows] = [MISSING_TIME if v is None else v for v in values]

    def grow(self, capacity: int) -> None:
        self.values = grown(self.values, capacity, MISSING_TIME)


class BoolColumn:
    def __init__(self, capacity: int) -> None:
        self.values = np.full(capacity, -1, dtype=np.int8)

    def set(self, row: int, value: Any) -> None:
        self.values[row] = -1 if value is None else int(bool(value))

    def set_many(self, rows: np.ndarray, values: list[Any]) -> None:
        self.values[rows] = [-1 if v is None else v for v in values]  # True is 1, False 0

    def grow(self, capacity: int) -> None:
        self.values = grown(self.values, capacity, -1)


class ListColumn:
    """A bitmap of rows per item. Rows keep no copy of their items (at ten million
    rows that copy would cost a gigabyte): a change is told the old items."""

    def __init__(self, capacity: int) -> None:
        self.items: dict[str, BitMap] = {}
        self.present = BitMap()
        self.counts = np.zeros(capacity, dtype=np.int32)
        """Each row's number of items (0: missing), for ``count(list)``."""

    def set(self, row: int, value: Any, old: Any = None) -> None:
        for item in old or ():
            self.items[item].discard(row)
        if value:
            for item in value:
                self.items.setdefault(item, BitMap()).add(row)
            self.present.add(row)
        else:
            self.present.discard(row)
        self.counts[row] = len(value or ())

    def set_many(self, rows: np.ndarray, values: list[Any]) -> None:
        """:meth:`set` of rows that held no list (new ones): the rows of each distinct
        list found first, then each item's rows added at once."""
        by_list: dict[Any, list[int]] = {}
        for row, value in zip(rows.tolist(), values, strict=True):
            if value:  # encoded lists are tuples; any other sequence is told apart as one
                key = value if type(value) is tuple else tuple(value)
                by_list.setdefault(key, []).append(row)
        by_item: dict[str, list[int]] = {}
        for value, holders in by_list.items():
            for item in value:
                by_item.setdefault(item, []).extend(holders)
        for item, holders in by_item.items():
            self.items.setdefault(item, BitMap()).update(_bitmap(holders))
        self.present.update(_bitmap([r for held in by_list.values() for r in held]))
        self.counts[rows] = [len(value) if value else 0 for value in values]

    def grow(self, capacity: int) -> None:
        """Bitmaps need no room made; the counts do."""
        self.counts = grown(self.counts, capacity, 0)


Column = TextColumn | NumberColumn | TimeColumn | BoolColumn | ListColumn
COLUMN_TYPES: dict[AttrType, type[Column]] = {
    AttrType.STRING: TextColumn,
    AttrType.ENUM: TextColumn,
    AttrType.NUMBER: NumberColumn,
    AttrType.INTEGER: NumberColumn,
    AttrType.DATE: TimeColumn,
    AttrType.DATETIME: TimeColumn,
    AttrType.BOOLEAN: BoolColumn,
    AttrType.STRING_LIST: ListColumn,
}


def _bitmap(rows: list[int]) -> BitMap:
    return BitMap(array.array("I", rows))


def grown(array: np.ndarray, capacity: int, fill: Any) -> np.ndarray:
    out = np.full(capacity, fill, dtype=array.dtype)
    out[: len(array)] = array
    return out
