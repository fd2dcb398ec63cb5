"""Members: pages, the streamed CSV export of all of them, and content negotiation."""

from __future__ import annotations

import csv
import io

from segmentry.api.routes.members import prefers_csv
from tests.api.conftest import Caller, is_problem


def test_the_csv_export_holds_every_member_across_pages(api: Caller) -> None:
    items = [{"id": f"p{n:04}", "price": n} for n in range(2_500)]
    api.post("/v1/products/batch", json={"items": items})
    api.post("/v1/segments", json={"kind": "product", "code": "big", "name": "Big",
                                   "rule": "price >= 100"})  # fmt: skip
    exported = api.get("/v1/segments/big/members", headers={"Accept": "text/csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"] == 'attachment; filename="big-members.csv"'
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["id", "since"]
    assert [r[0] for r in rows[1:]] == [f"p{n:04}" for n in range(100, 2_500)]
    paged = api.get("/v1/segments/big/members", params={"limit": 1_000}).json()
    assert len(paged["items"]) == 1_000
    assert paged["next_cursor"] is not None


def test_an_export_of_an_unknown_segment_is_a_404_not_a_broken_stream(api: Caller) -> None:
    is_problem(api.get("/v1/segments/nope/members", headers={"Accept": "text/csv"}), 404,
               "not-found")  # fmt: skip


def test_json_unless_csv_is_preferred() -> None:
    assert prefers_csv("text/csv")
    assert prefers_csv("text/csv, application/json;q=0.5")
    assert not prefers_csv("application/json, text/csv;q=0.9")
    assert not prefers_csv("*/*")
    assert not prefers_csv(None)
    assert not prefers_csv("text/csv;q=nonsense")
