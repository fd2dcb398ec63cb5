"""A columnar table of encoded records: the in-memory snapshot the columnar
evaluator scans.

Row ``i`` holds the entity whose dense seq is ``i``, so kept memberships
(bitmaps of seqs) are row sets with no translation. Columns are mutable numpy
arrays, updated in place by each write, and handed to Polars without copying
when a rule is evaluated:

* strings and enums: ``uint32`` dictionary codes (0 = missing) over the
  folded values; string tests run once per distinct value, not per row;
* numbers: ``float64`` with NaN for missing (a NaN fails every comparison,
  which is exactly the missing-value rule);
* dates and date-times: ``int64`` day numbers or microseconds, with a sentinel
  for missing;
* booleans: ``int8`` (1, 0, and -1 for missing);
* lists: a roaring bitmap of rows per item, not a list column (Polars'
  ``List(Categorical)`` is hundreds of times slower to test), and each row's
  number of items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np
import polars as pl
from pyroaring import BitMap

from segmentry.match.columns import (
    COLUMN_TYPES,
    MISSING_TIME,
    BoolColumn,
    Column,
    ListColumn,
    NumberColumn,
    TextColumn,
    TimeColumn,
    grown,
)
from segmentry.model.bitmaps import array_of, ascending_bitmap
from segmentry.model.schema import Attribute, AttrType, Schema

ALIVE = "__alive"


class ColumnarTable:
    """The encoded records of one kind of one tenant, a row per seq."""

    def __init__(self, schema: Schema, capacity: int = 1024) -> None:
        self.schema = schema
        self.capacity = max(16, capacity)
        self.size = 0
        self.alive = np.zeros(self.capacity, dtype=np.bool_)
        self.columns: dict[str, Column] = {
            a.key: COLUMN_TYPES[a.type](self.capacity) for a in schema
        }

    def put(
        self, seq: int, record: Mapping[str, Any] | None, old: Mapping[str, Any] | None = None
    ) -> None:
        """Set row ``seq`` to an encoded record (``None`` deletes it); ``old`` is the
        record the row held, if any."""
        self._ensure(seq)
        self.alive[seq] = record is not None
        values, before = record or {}, old or {}
        for key, column in self.columns.items():
            if isinstance(column, ListColumn):
                column.set(seq, values.get(key), before.get(key))
            else:
                column.set(seq, values.get(key))

    def put_many(
        self,
        seqs: list[int],
        records: Sequence[Mapping[str, Any]],
        olds: list[Mapping[str, Any] | None],
    ) -> None:
        """:meth:`put` for many distinct rows (all present), a column at a time."""
        if not seqs:
            return
        self._ensure(max(seqs))
        rows = np.array(seqs, dtype=np.int64)
        self.alive[rows] = True
        fresh = not any(olds)
        plain = all(type(r) is dict for r in records)  # read a column with no Python step
        for key, column in self.columns.items():
            if isinstance(column, ListColumn) and not fresh:
                for seq, record, old in zip(seqs, records, olds, strict=True):
                    column.set(seq, record.get(key), (old or {}).get(key))
            elif plain:
                column.set_many(rows, list(map(dict.get, records, repeat(key))))  # type: ignore[arg-type]
            else:
                column.set_many(rows, [record.get(key) for record in records])

    def set_keys(
        self, rows: np.ndarray, records: Sequence[Mapping[str, Any]], keys: Iterable[str]
    ) -> None:
        """Set the scalar columns ``keys`` of living ``rows`` from (partial) records; the
        other columns keep their values."""
        for key in keys:
            self.columns[key].set_many(rows, [record.get(key) for record in records])

    def put_rows(self, rows: np.ndarray) -> None:
        """Mark ``rows`` (ascending) live, making room; their values are set by the caller."""
        if len(rows):
            self._ensure(int(rows[-1]))
            self.alive[rows] = True

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows at once (a load knows how many it will put)."""
        if rows > self.capacity:
            self._grow(rows)

    def array_bytes(self, bitmap_bytes: Callable[[BitMap], int]) -> int:
        """Bytes of the arrays and bitmaps held, strings aside (see :meth:`string_bytes`)."""
        total = self.alive.nbytes
        for column in self.columns.values():
            if isinstance(column, ListColumn):
                total += bitmap_bytes(column.present)
                total += sum(bitmap_bytes(b) for b in column.items.values())
            else:
                array = column.codes if isinstance(column, TextColumn) else column.values
                total += array.nbytes
        return total

    def string_bytes(self) -> int:
        """An estimate of the bytes of the distinct strings of text columns and list
        items, with their dictionaries' entries."""
        total = 0
        for column in self.columns.values():
            if isinstance(column, TextColumn):
                total += sum(len(v) + 120 for v in column.values)
            elif isinstance(column, ListColumn):
                total += sum(len(item) + 120 for item in column.items)
        return total

    def _ensure(self, seq: int) -> None:
        if seq >= self.capacity:
            self._grow(max(seq + 1, self.capacity * 2))
        self.size = max(self.size, seq + 1)

    def _grow(self, capacity: int) -> None:
        self.alive = grown(self.alive, capacity, False)
        for column in self.columns.values():
            column.grow(capacity)
        self.capacity = capacity

    def with_schema(self, schema: Schema) -> ColumnarTable:
        """The same table for a changed schema: new attributes start empty, dropped ones go."""
        kept = {a.key: self.columns[a.key] for a in schema if a.key in self.columns}
        for attribute in schema:
            kept.setdefault(attribute.key, COLUMN_TYPES[attribute.type](self.capacity))
        self.schema, self.columns = schema, kept
        return self

    def frame(self, keys: Iterable[str] | None = None) -> pl.DataFrame:
        """The scalar columns (those of ``keys``, or all) and the live flags as a Polars
        frame over the live part of the arrays (no copy)."""
        series = [pl.Series(ALIVE, self.alive[: self.size])]
        wanted = self.columns if keys is None else {k: self.columns[k] for k in keys if k != ALIVE}
        for key, column in wanted.items():
            array = (
                column.codes if isinstance(column, TextColumn) else getattr(column, "values", None)
            )
            if array is not None:
                series.append(pl.Series(key, array[: self.size]))
        return pl.DataFrame(series)

    def record(self, seq: int, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The encoded record row ``seq`` holds (what :meth:`put` was given); with
        ``keys``, only those attributes of it (what a condition reads)."""
        out: dict[str, Any] = {}
        wanted = self.schema if keys is None else _attributes(self.schema, keys)
        for attribute in wanted:
            value = _read(self.columns[attribute.key], seq)
            if value is not None:
                integral = attribute.type is AttrType.INTEGER
                out[attribute.key] = int(value) if integral else value
        return out

    def records(self, rows: Sequence[int], keys: Iterable[str]) -> list[dict[str, Any]]:
        """:meth:`record` of each of ``rows`` with only ``keys``, read a column at a time."""
        out: list[dict[str, Any]] = [{} for _ in rows]
        for attribute in _attributes(self.schema, keys):
            key, integral = attribute.key, attribute.type is AttrType.INTEGER
            for record, value in zip(out, _read_rows(self.columns[key], rows), strict=True):
                if value is not None:
                    record[key] = int(value) if integral else value
        return out

    def rows_between(self, key: str, low: float, high: float) -> BitMap:
        """The live rows whose date or date-time ``key`` lies in ``[low, high]``
        (encoded: day numbers or microseconds); a missing value lies nowhere."""
        column = self.columns[key]
        assert isinstance(column, TimeColumn), key
        values = column.values[: self.size]
        inside = (values >= low) & (values <= high) & self.alive[: self.size]
        return ascending_bitmap(np.flatnonzero(inside))

    def value_counts(self, key: str, text: str, limit: int) -> list[tuple[str, int]]:
        """The values of the text, enum or list attribute ``key`` that contain ``text``
        (ignoring case), each with how many live rows have it: those starting with it
        first, then the commonest."""
        column = self.columns[key]
        if isinstance(column, TextColumn):
            codes = column.codes[: self.size][self.alive[: self.size]]
            counts = np.bincount(codes, minlength=len(column.values))
            found = [(column.values[c], int(counts[c])) for c in np.flatnonzero(counts) if c]
        elif isinstance(column, ListColumn):
            found = [(item, len(rows)) for item, rows in column.items.items() if rows]
        else:
            return []
        wanted = text.strip().casefold()
        kept = [(v, n) for v, n in found if wanted in v.casefold()]
        kept.sort(key=lambda vn: (not vn[0].casefold().startswith(wanted), -vn[1], vn[0]))
        return kept[:limit]

    def live_rows(self) -> BitMap:
        return ascending_bitmap(np.flatnonzero(self.alive[: self.size]))

    def mask(self, rows: BitMap) -> np.ndarray:
        """A boolean row mask of a bitmap of rows."""
        out = np.zeros(self.size, dtype=np.bool_)
        if rows:
            selected = array_of(rows)
            out[selected[selected < self.size]] = True
        return out


def _attributes(schema: Schema, keys: Iterable[str]) -> list[Attribute]:
    return [found for key in keys if (found := schema.get(key)) is not None]


def _read_rows(column: Column, rows: Sequence[int]) -> list[Any]:
    """:func:`_read` of each of ``rows``; numbers and moments straight from their array."""
    if isinstance(column, NumberColumn):
        return [None if math.isnan(n) else n for n in column.values[rows].tolist()]
    if isinstance(column, TimeColumn):
        return [None if t == MISSING_TIME else t for t in column.values[rows].tolist()]
    return [_read(column, seq) for seq in rows]


def _read(column: Column, seq: int) -> Any:
    if isinstance(column, TextColumn):
        code = int(column.codes[seq])
        return column.values[code] if code else None
    if isinstance(column, ListColumn):
        items = tuple(sorted(item for item, rows in column.items.items() if seq in rows))
        return items or None
    if isinstance(column, NumberColumn):
        number = float(column.values[seq])
        return None if math.isnan(number) else number
    if isinstance(column, BoolColumn):
        flag = int(column.values[seq])
        return None if flag < 0 else bool(flag)
    stored = int(column.values[seq])
    return None if stored == MISSING_TIME else stored
