"""Filling a columnar table from stored records in bulk, when a tenant's state loads.

The records are JSON text, one per entity in seq order. Decoding each into a
dictionary and then setting each column from it costs a dictionary operation or
more per value in Python, several times what reading the rows from the database
costs. Here a chunk of records is handed to Polars as newline-delimited JSON with
the schema's column types, parsed in native code, and the columns are converted in
one pass and moved into the table's arrays at once: text columns are coded a
distinct value at a time (once, after the last chunk) and every value's code
found by a join, list columns become a bitmap of rows per item.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import numpy as np
import polars as pl

from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import (
    MISSING_TIME,
    BoolColumn,
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


def put_json(table: ColumnarTable, lines: bytes, seq_key: str) -> None:
    """Set rows not yet set from newline-delimited JSON, a record per line with its
    row's seq under ``seq_key``, in any order."""
    put_chunks(table, [lines], seq_key)


def put_chunks(table: ColumnarTable, chunks: Iterable[bytes], seq_key: str) -> None:
    """:func:`put_json` for each chunk, with the text columns coded once at the end."""
    put_frames(table, parsed(table, chunks, seq_key), seq_key)


def parsed(table: ColumnarTable, chunks: Iterable[bytes], seq_key: str) -> Iterator[pl.DataFrame]:
    """Each chunk parsed with the table's column types, by seq (what :func:`put_frames`
    takes)."""
    schema = {a.key: POLARS_TYPES[a.type] for a in table.schema} | {seq_key: pl.Int64()}
    for lines in chunks:
        frame = pl.read_ndjson(io.BytesIO(lines), schema=schema)
        yield frame if frame[seq_key].is_sorted() else frame.sort(seq_key)


def put_frames(table: ColumnarTable, frames: Iterable[pl.DataFrame], seq_key: str) -> None:
    """Set the rows of parsed chunks, with the text columns coded once at the end: their
    values are kept as parsed until the last chunk, so a load codes each column's
    distinct values in one pass, never through the dictionary a value at a time."""
    texts = {k: c for k, c in table.columns.items() if isinstance(c, TextColumn)}
    kept: dict[str, list[pl.Series]] = {k: [] for k in texts}
    seqs: list[np.ndarray] = []
    for frame in frames:
        rows = frame[seq_key].to_numpy()
        table.put_rows(rows)
        _put_scalars(table, rows, frame)
        seqs.append(rows)
        for key in texts:
            kept[key].append(frame[key])
    if seqs:
        rows = np.concatenate(seqs)
        frame = pl.DataFrame([pl.concat(kept[k]) for k in texts])
        _put_texts(texts, rows, frame)


def _put_scalars(table: ColumnarTable, rows: np.ndarray, frame: pl.DataFrame) -> None:
    """Numbers as they are (null is NaN), times and booleans with their missing marks,
    converted in one pass; list columns as a bitmap of rows per item."""
    arrays: list[pl.Expr] = []
    for key, column in table.columns.items():
        value = pl.col(key)
        if isinstance(column, NumberColumn):
            arrays.append(value.fill_null(np.nan))
        elif isinstance(column, TimeColumn):
            arrays.append(value.fill_null(MISSING_TIME))
        elif isinstance(column, BoolColumn):
            arrays.append(value.cast(pl.Int8).fill_null(-1))
        elif isinstance(column, ListColumn):
            _put_list(column, rows, frame[key])
    converted = frame.select(arrays)
    for key in converted.columns:
        column = table.columns[key]
        assert isinstance(column, NumberColumn | TimeColumn | BoolColumn)
        column.values[rows] = converted[key].to_numpy()


def _put_texts(texts: dict[str, TextColumn], rows: np.ndarray, frame: pl.DataFrame) -> None:
    """Each column's distinct values coded (in order of appearance; for a new column,
    as in a load, they take codes 1, 2, ...), then every value's code found by a hash
    join on them (sorting the strings to rank them cost twice as much). Where no value
    repeats (ids), the codes are the distinct values' codes in row order: no join."""
    for key, column in texts.items():
        values = frame[key]
        distinct = values.drop_nulls().unique(maintain_order=True)
        codes = np.asarray(column.code_all(distinct.to_list()), dtype=np.uint32)
        if len(distinct) == len(values) - values.null_count():
            column.codes[rows] = 0
            column.codes[rows[values.is_not_null().to_numpy()]] = codes
            continue
        mapping = pl.DataFrame([distinct.alias(VALUE), pl.Series(CODE, codes)])
        coded = (
            values.to_frame(VALUE)
            .join(mapping, on=VALUE, how="left", maintain_order="left")
            .get_column(CODE)
            .fill_null(0)
        )
        column.codes[rows] = coded.to_numpy()


VALUE, CODE = "value", "code"


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
    counts = values.list.len().fill_null(0).to_numpy()
    column.counts[rows] = counts
    column.present |= ascending_bitmap(rows[counts > 0])
