"""Lists of ids in and out of the web page."""

from __future__ import annotations

import csv
import io

from segmentry.engine.csv_cells import restored
from segmentry.engine.import_readers import cell_value
from segmentry.model.schema import Kind, Schema
from segmentry.web.idlists import csv_lines, typed, uploaded


def test_an_exported_row_reads_back_as_an_import_would() -> None:
    text = "".join(csv_lines(["id", "tags", "available"], [["p1", ["vip", "new"], True]]))
    (_, row) = list(csv.reader(io.StringIO(text)))
    tags = Schema(Kind.PRODUCT).by_key["tags"]
    assert cell_value(tags, row[1]) == ["vip", "new"]
    assert row[2] == "true"


def test_ids_typed_or_uploaded_lose_separators_headers_and_repeats() -> None:
    assert typed("c1, c2;c3\nc1") == ["c1", "c2", "c3"]
    assert uploaded("\ufeffid,name\nc1,Ana\nc2,Bo\nc1,Ana\n".encode()) == ["c1", "c2"]


def test_formula_like_text_is_exported_escaped_and_imported_as_it_was() -> None:
    names = ["=1+1", "@cmd", "-x", "'=y", "Ana"]
    text = "".join(csv_lines(["id", "first_name", "orders_count"], [[n, n, -5] for n in names]))
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [r[1] for r in rows] == ["'=1+1", "'@cmd", "'-x", "''=y", "Ana"]
    assert {r[2] for r in rows} == {"-5"}  # a number is a number in a spreadsheet too
    first_name = Schema(Kind.CUSTOMER).by_key["first_name"]
    assert [cell_value(first_name, restored(r[1])) for r in rows] == names
    upload = "id\n" + "".join(f"{r[0]}\n" for r in rows)
    assert uploaded(upload.encode()) == names
