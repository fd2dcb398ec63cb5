"""Imports of CSV and JSON Lines: streamed, in batches, each line applied or reported."""

from __future__ import annotations

import io
import time
from typing import Any

import orjson
import pytest

from segmentry.engine.imports import ImportStatus, LineError, Progress
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.errors import NotFoundError, ValidationError


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def _ndjson(*bodies: Any) -> io.BytesIO:
    return io.BytesIO(b"".join(orjson.dumps(b) + b"\n" for b in bodies))


def test_csv_cells_take_their_attribute_types_and_segments_follow(shop: Shop) -> None:
    shop.declare_attribute("customer", "loyalty_status", "enum", values=["Bronze", "Gold"])
    rule = "loyalty_status = 'Gold' AND app_installed = yes"
    shop.create_segment(SegmentSpec(kind="customer", code="gold", name="Gold", rule=rule))
    report = shop.import_file("customer", _csv(
        "id,email,app_installed,lifetime_value,orders_count,tags,loyalty_status,country",
        "c1,ana@example.com,yes,120.5,3,vip|early,gold,",
        "c2,bo@example.com,false,0,0,,Bronze,ES",
    ), "csv")  # fmt: skip
    assert (report.status, report.lines, report.applied, report.rejected) == ("done", 2, 2, 0)
    assert report.applied_lines == [(2, 3)]
    c1 = shop.get("customer", "c1").attributes
    assert c1["lifetime_value"] == 120.5
    assert c1["orders_count"] == 3
    assert c1["tags"] == ["vip", "early"]
    assert c1["loyalty_status"] == "Gold"
    assert "country" not in c1  # an empty cell is a missing value
    assert shop.get("customer", "c2").attributes["app_installed"] is False
    assert [m.id for m in shop.members("gold").items] == ["c1"]


def test_a_bad_line_is_reported_with_its_number_and_the_others_are_applied(shop: Shop) -> None:
    shop.create_segment(SegmentSpec(kind="product", code="big", name="Big", rule="price > 100"))
    report = shop.import_file("product", _csv(
        "id,name,price",
        "p1,Air,120",
        "p2,Zoom,lots",
        "p3,Club,150",
        "p4,Tee",
        ",Nameless,10",
    ), "csv")  # fmt: skip
    assert (report.lines, report.applied, report.rejected) == (5, 2, 3)
    assert report.applied_lines == [(2, 2), (4, 4)]
    assert report.errors[0] == LineError(3, "product p2: price must be a number, got 'lots'")
    assert report.errors[1] == LineError(5, "2 fields, but the header has 3")
    assert report.errors[2] == LineError(6, "no id")
    assert [m.id for m in shop.members("big").items] == ["p1", "p3"]
    with pytest.raises(NotFoundError):
        shop.get("product", "p2")


def test_an_unknown_column_refuses_the_file_before_anything_is_written(shop: Shop) -> None:
    with pytest.raises(ValidationError, match=r"line 1: column 'prce' .* did you mean 'price'"):
        shop.import_file("product", _csv("id,prce", "p1,10"), "csv")
    assert shop.entities("product").items == []
    assert shop.imports() == []


def test_a_header_of_many_repeated_columns_is_refused_in_linear_time(shop: Shop) -> None:
    # Each column was once counted against every other: a 1 MB header took hours.
    header = "id," + ",".join(["sku"] * 200_000)
    started = time.monotonic()
    with pytest.raises(ValidationError, match="line 1: more than one column gives sku"):
        shop.import_file("product", _csv(header, "p1"), "csv")
    assert time.monotonic() - started < 10


def test_a_column_mapped_to_an_unknown_attribute_names_the_target(shop: Shop) -> None:
    pattern = r"column 'sale' \(mapped to 'prce'\) is not a product attribute; did you mean 'price'"
    with pytest.raises(ValidationError, match=pattern):
        shop.import_file("product", _csv("id,sale", "p1,10"), "csv", columns={"sale": "prce"})


def test_columns_can_be_renamed_or_ignored(shop: Shop) -> None:
    source = _csv("index,product,sale_price,junk", "7,Rice,2.5,x")
    columns = {"index": "id", "product": "name", "sale_price": "price", "junk": None}
    report = shop.import_file("product", source, "csv", columns=columns)
    assert report.applied == 1
    assert shop.get("product", "7").attributes["price"] == 2.5


def test_cells_escaped_against_spreadsheet_formulas_import_as_they_were_written(
    shop: Shop,
) -> None:
    source = _csv("id,name,brand", "'=p1,'=SUM(A1),''-x", "p2,'plain,Acme")  # as exports write
    assert shop.import_file("product", source, "csv").applied == 2
    written = shop.get("product", "=p1").attributes
    assert (written["name"], written["brand"]) == ("=SUM(A1)", "'-x")
    assert shop.get("product", "p2").attributes["name"] == "'plain"  # no formula behind it


def test_a_quoted_newline_keeps_the_line_numbers_of_later_rows(shop: Shop) -> None:
    source = _csv("id,description,price", 'p1,"two\nlines",1', "p2,ok,x")
    report = shop.import_file("product", source, "csv")
    assert report.applied_lines == [(2, 2)]
    assert [e.line for e in report.errors] == [4]


def test_json_lines_take_the_api_shape(shop: Shop) -> None:
    shop.declare_attribute("customer", "tier", "string")
    source = _ndjson(
        {"id": "c1", "platform": "ios", "attributes": {"tier": "A"}},
        {"id": "c2", "tier": "B"},
        [1, 2],
        {"id": 3},
    )
    source.seek(0, io.SEEK_END)
    source.write(b"{broken\n\n")
    source.seek(0)
    report = shop.import_file("customer", source, "ndjson")
    assert report.applied_lines == [(1, 1)]
    assert shop.get("customer", "c1").attributes["tier"] == "A"
    messages = {e.line: e.message for e in report.errors}
    assert messages[2] == 'tier is a custom attribute; put it under "attributes"'
    assert messages[3] == "an entity must be a JSON object"
    assert messages[4] == "id must be a string, got 3"
    assert messages[5].startswith("not valid JSON")
    assert report.lines == 5  # the blank line is not an entity


def test_batches_commit_one_by_one_and_report_progress(shop: Shop) -> None:
    lines = ["id,price", *(f"p{n},{n}" for n in range(10))]
    seen: list[Progress] = []
    report = shop.import_file("product", _csv(*lines), "csv", batch_size=4, progress=seen.append)
    assert [p.lines for p in seen] == [4, 8, 10]
    assert seen[0].bytes_read > 0
    assert report.applied_lines == [(2, 11)]
    assert shop.import_report(report.import_id) == report


class _FailingSource(io.RawIOBase):
    """A file whose reading breaks after ``limit`` bytes, like a dropped upload."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.limit, self.pos = data, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.limit:
            raise OSError("connection reset")
        chunk = self.data[self.pos : min(self.pos + 64, self.limit)]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def test_an_interrupted_import_leaves_a_record_of_exactly_what_was_applied(shop: Shop) -> None:
    data = ("id,price\n" + "".join(f"p{n:05},{n}\n" for n in range(30_000))).encode()
    with pytest.raises(OSError, match="connection reset"):
        shop.import_file("product", _FailingSource(data, len(data) // 2), "csv", batch_size=5_000)
    (record,) = shop.imports()
    assert record.status is ImportStatus.FAILED
    assert record.error == "stopped: OSError"
    # Three whole batches were committed; the fourth was cut off and left nothing.
    assert record.applied == shop.preview("product", "price >= 0").count == 15_000
    assert record.applied_lines == [(2, 15_001)]
    assert shop.preview("product", "id = 'p14999'").count == 1
    assert shop.preview("product", "id = 'p15000'").count == 0


def test_bytes_that_are_not_utf8_stop_the_import_at_their_line(shop: Shop) -> None:
    source = io.BytesIO(b"id,name\np1,ok\np2,\xff\xfe\np3,late\n")
    report = shop.import_file("product", source, "csv", batch_size=1)
    assert report.status is ImportStatus.FAILED
    assert str(report.error).startswith("line 3: not UTF-8 text")
    assert report.applied_lines == [(2, 2)]


def test_an_import_stops_once_too_many_lines_are_rejected(shop: Shop) -> None:
    lines = ["id,price", *(f"p{n},bad" for n in range(1_500))]
    report = shop.import_file("product", _csv(*lines), "csv", batch_size=600)
    assert report.status is ImportStatus.FAILED
    assert report.error == "line 1201: stopped after 1,200 rejected lines (the limit is 1,000)"
    assert report.rejected == len(report.errors) == 1_200


def test_the_file_is_streamed_not_read_whole(shop: Shop) -> None:
    data = ("id,price\n" + "".join(f"p{n},{n}\n" for n in range(20_000))).encode()
    seen: list[Progress] = []
    shop.import_file("product", io.BytesIO(data), "csv", batch_size=1_000, progress=seen.append)
    assert seen[0].bytes_read < len(data) / 10
    assert seen[-1].bytes_read == len(data)


def test_a_batch_size_out_of_bounds_is_refused(shop: Shop) -> None:
    with pytest.raises(ValidationError, match="batch size must be between 1 and 10,000"):
        shop.import_file("product", _csv("id", "p"), "csv", batch_size=0)
    with pytest.raises(ValidationError, match="format must be one of csv, ndjson"):
        shop.import_file("product", _csv("id", "p"), "xml")


def test_imports_of_one_tenant_are_not_seen_by_another(shop: Shop) -> None:
    report = shop.import_file("product", _csv("id", "p1"), "csv")
    other = shop.segmentry.shop(shop.segmentry.create_tenant("other").tenant_id)
    assert other.imports() == []
    with pytest.raises(NotFoundError):
        other.import_report(report.import_id)
