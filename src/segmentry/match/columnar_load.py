"""Filling a columnar table from stored records in bulk, when a tenant's state loads.

The records are JSON text, one per entity in seq order. Decoding each into a
dictionary and then setting each column from it costs a dictionary operation or
more per value in Python, several times what reading the rows from the database
costs. Here a chunk of records is handed to Polars as newline-delimited JSON with
the schema's column types, parsed in native code, and each column is moved into
the table's arrays at once: text columns are coded a distinct value at a time,
list columns become a bitmap of rows per item.
"""

from __future__ import annotations

import io

import numpy as np
import polars as pl

from segmentry.match.columnar import (
    MISSING_TIME,
    BoolColumn,
    ColumnarTable,
    ListColumn,
    NumberColumn,
    TextColumn,
    TimeColumn,
)
from segmentry.model.bitmaps import ascending_bitmap
from segmentry.model.schema import AttrType

POLARS_TYPES: dict[AttrType, pl.DataType] = {
    AttrType.STRING: pl.String(),
    AttrType.ENUM: pl.String(),
    AttrType.NUMBER: pl.Float64(),
    AttrType.INTEGER: pl.Float64(),
    AttrType.DATE: pl.Int64(),
    AttrType.DATETIME: pl.Int64(),
    AttrType.BOOLEAN: pl.Boolean(),
    AttrType.STRING_LIST: pl.List(pl.String()),
}


def put_json(table: ColumnarTable, lines: str, seq_key: str) -> None:
    """Set rows not yet set from newline-delimited JSON, a record per line with its
    row's seq under ``seq_key``, in any order."""
    schema = {a.key: POLARS_TYPES[a.type] for a in table.schema} | {seq_key: pl.Int64()}
    frame = pl.read_ndjson(io.BytesIO(lines.encode()), schema=schema).sort(seq_key)
    rows = frame[seq_key].to_numpy()
    table.put_rows(rows)
    for key, column in table.columns.items():
        values = frame[key]
        if isinstance(column, TextColumn):
            _put_text(column, rows, values)
        elif isinstance(column, ListColumn):
            _put_list(column, rows, values)
        elif isinstance(column, NumberColumn):
            column.values[rows] = values.to_numpy()  # null becomes NaN
        elif isinstance(column, TimeColumn):
            column.values[rows] = values.fill_null(MISSING_TIME).to_numpy()
        elif isinstance(column, BoolColumn):
            column.values[rows] = values.cast(pl.Int8).fill_null(-1).to_numpy()


def _put_text(column: TextColumn, rows: np.ndarray, values: pl.Series) -> None:
    if not column.index:  # a new column: codes are the values' dense ranks
        distinct = values.drop_nulls().unique().sort()
        column.code_all(distinct.to_list())  # codes 1, 2, ... in the same order
        column.codes[rows] = values.rank("dense").fill_null(0).cast(pl.UInt32).to_numpy()
        return
    distinct = values.drop_nulls().unique(maintain_order=True)
    if distinct.is_empty():
        column.codes[rows] = 0
        return
    codes = pl.Series(column.code_all(distinct.to_list()), dtype=pl.UInt32)
    coded = values.replace_strict(distinct, codes, default=0, return_dtype=pl.UInt32)
    column.codes[rows] = coded.to_numpy()


def _put_list(column: ListColumn, rows: np.ndarray, values: pl.Series) -> None:
    items = (
        pl.DataFrame({"row": rows, "item": values})
        .explode("item")
        .drop_nulls("item")
        .group_by("item")
        .agg(pl.col("row").sort())
    )
    for item, item_rows in zip(items["item"].to_list(), items["row"], strict=True):
        bitmap = ascending_bitmap(item_rows.to_numpy())
        found = column.items.get(item)
        if found is None:
            column.items[item] = bitmap
        else:
            found |= bitmap
    present = values.list.len().fill_null(0).to_numpy() > 0
    column.present |= ascending_bitmap(rows[present])
