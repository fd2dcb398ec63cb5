"""The columnar evaluator scans a table a chunk of rows at a time, the chunks shared
among threads: with chunks of a few rows, every rule still selects exactly what the
Python predicate selects, counts agree, deleted rows stay out, and a listing's pages
(which stop scanning once full) put together are the whole selection."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from segmentry.match import scan
from segmentry.match.columnar import ColumnarTable
from segmentry.match.eval_columnar import compile_columnar, count, first_rows, select
from segmentry.rules.ast import Not
from tests.conftest import examples
from tests.match.test_evaluators_agree import cases, checked, python_select


@settings(max_examples=examples(500, 100), deadline=None)
@given(case=cases(), chunk=st.integers(1, 4), dead=st.sets(st.integers(0, 11), max_size=3),
       page=st.integers(1, 5))  # fmt: skip
def test_chunked_scans_select_what_the_python_predicate_selects(
    case: dict[str, Any], chunk: int, dead: set[int], page: int
) -> None:
    rule = checked(case)
    table = ColumnarTable(case["schema"])
    for number, (_, record) in enumerate(case["records"]):
        table.put(number, record)
    gone = {row for row in dead if row < table.size}
    for row in gone:
        table.put(row, None, table.record(row))
    kept = [(i, r) for i, r in case["records"] if int(i[1:]) not in gone]
    members = {code: BitMap(int(i[1:]) for i in ids) for code, ids in case["members"].items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "CHUNK", chunk)
        patch.setattr(scan, "PAGE_CHUNK", chunk)
        for node in (rule, Not(rule)):
            expected = {int(i[1:]) for i in python_select({**case, "records": kept}, node)}
            test = compile_columnar(node, table, case["ctx"], members.__getitem__)
            assert set(select(table, test)) == expected
            assert count(table, test) == len(expected)
            assert _pages(table, test, page) == sorted(expected)


def _pages(table: ColumnarTable, test: scan.Mask, limit: int) -> list[int]:
    found: list[int] = []
    while rows := first_rows(table, test, found[-1] if found else -1, limit):
        assert len(rows) <= limit
        found += rows
    return found
