"""Imports over HTTP: both formats, column mapping, per-line errors, the record."""

from __future__ import annotations

from tests.api.conftest import Caller, is_problem

CSV = {"Content-Type": "text/csv; charset=utf-8"}


def test_a_csv_import_maps_columns_and_reports_every_line(api: Caller) -> None:
    body = b"sku_code,sale_price,notes\np1,120,x\np2,lots,y\np3,15,z\n"
    answer = api.post("/v1/products/import?map=sku_code:id&map=sale_price:price&ignore=notes",
                      content=body, headers=CSV)  # fmt: skip
    report = answer.json()
    assert answer.status_code == 200
    assert answer.headers["location"] == f"/v1/imports/{report['id']}"
    assert (report["status"], report["lines"], report["applied"], report["rejected"]) == (
        "done",
        3,
        2,
        1,
    )
    assert report["applied_lines"] == [[2, 2], [4, 4]]
    assert report["errors"] == [
        {"line": 3, "message": "product p2: price must be a number, got 'lots'"}
    ]
    assert api.get("/v1/products/p3").json()["price"] == 15
    assert api.get(f"/v1/imports/{report['id']}").json() == report


def test_a_json_lines_import_takes_the_api_shape(api: Caller) -> None:
    api.post("/v1/attributes", json={"kind": "customer", "key": "tier", "type": "string"})
    body = b'{"id": "c1", "attributes": {"tier": "gold"}}\n\n{"id": "c2", "tier": "x"}\nnot json\n'
    report = api.post("/v1/customers/import", content=body,
                      headers={"Content-Type": "application/x-ndjson"}).json()  # fmt: skip
    assert report["applied_lines"] == [[1, 1]]
    assert [e["line"] for e in report["errors"]] == [3, 4]
    assert "put it under" in report["errors"][0]["message"]
    assert api.get("/v1/customers/c1").json()["attributes"] == {"tier": "gold"}


def test_another_tenants_import_is_not_found(api: Caller, other: Caller) -> None:
    report = api.post("/v1/products/import", content=b"id\np1\n", headers=CSV).json()
    is_problem(other.get(f"/v1/imports/{report['id']}"), 404, "not-found")


def test_an_upload_in_another_charset_is_refused(api: Caller) -> None:
    answer = api.post("/v1/products/import", content=b"id\np1\n",
                      headers={"Content-Type": "text/csv; charset=latin-1"})  # fmt: skip
    is_problem(answer, 415, "unsupported-media-type")
