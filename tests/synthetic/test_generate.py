"""The generator's two outputs agree: columns loaded straight into a table equal
the table built from its documents through validation and encoding."""

from __future__ import annotations

import numpy as np
import pytest
from pyroaring import BitMap

from segmentry.engine.derivation import derive
from segmentry.match.columnar import ColumnarTable
from segmentry.match.columns import ListColumn, TextColumn
from segmentry.model.schema import SEGMENTED_KINDS, Kind, Schema, declare
from segmentry.model.values import encode, validate
from segmentry.synthetic import generate, vocabulary

SCHEMAS = {
    Kind.CUSTOMER: Schema(
        Kind.CUSTOMER,
        (declare(Kind.CUSTOMER, "loyalty_status", "enum", values=vocabulary.LOYALTY),),
    ),
    Kind.PRODUCT: Schema(Kind.PRODUCT),
}


def through_validation(columns: generate.Columns, schema: Schema, n: int) -> ColumnarTable:
    table = ColumnarTable(schema)
    for row, doc in enumerate(columns.documents(0, n), start=1):
        checked = validate(schema, doc["id"], doc)
        derive(schema.kind, checked)
        table.put(row, encode(schema, checked))
    return table


def column_view(table: ColumnarTable, key: str, n: int) -> object:
    column = table.columns[key]
    if isinstance(column, TextColumn):
        return [column.values[c] if c else None for c in column.codes[1 : n + 1]]
    if isinstance(column, ListColumn):
        items = {item: rows & BitMap(range(1, n + 1)) for item, rows in column.items.items()
                 if rows & BitMap(range(1, n + 1))}  # fmt: skip
        return items, column.counts[1 : n + 1].tolist()
    return column.values[1 : n + 1]


@pytest.mark.parametrize("kind", list(SEGMENTED_KINDS))
def test_loaded_columns_equal_validated_documents(kind: Kind) -> None:
    n = 3_000
    columns = generate.columns(kind, n)
    direct = ColumnarTable(SCHEMAS[kind])
    columns.load_table(direct)
    validated = through_validation(columns, SCHEMAS[kind], n)
    assert np.array_equal(direct.alive[: n + 1], validated.alive[: n + 1])
    for key in direct.columns:
        a, b = column_view(direct, key, n), column_view(validated, key, n)
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), key  # type: ignore[arg-type]
        else:
            assert a == b, key


def test_generation_is_repeatable_and_skewed() -> None:
    first, second = generate.customers(20_000), generate.customers(20_000)
    assert list(first.documents(0, 50)) == list(second.documents(0, 50))
    countries = first.text["country"][0]
    counts = np.bincount(countries[countries >= 0])
    assert counts[0] > 5 * np.median(counts)  # a few countries hold most customers
    assert 0.25 < float(np.mean(first.integer["orders_count"] == 0)) < 0.45


@pytest.mark.parametrize("kind", list(SEGMENTED_KINDS))
def test_generated_rules_all_check(kind: Kind) -> None:
    from segmentry.rules.load import prepare
    from segmentry.synthetic import segments

    texts = segments.rules(kind, 500)
    assert len(set(texts)) > 400
    for text in texts:
        prepare(text, SCHEMAS[kind])


@pytest.mark.parametrize("kind", list(SEGMENTED_KINDS))
def test_a_table_row_reads_back_as_the_record_written(kind: Kind) -> None:
    columns = generate.columns(kind, 500)
    table = ColumnarTable(SCHEMAS[kind])
    columns.load_table(table)
    for row, doc in enumerate(columns.documents(0, 500), start=1):
        checked = validate(SCHEMAS[kind], doc["id"], doc)
        derive(kind, checked)
        assert table.record(row) == encode(SCHEMAS[kind], checked)
