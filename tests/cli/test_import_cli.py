"""``segmentry import``: bad lines are shown with their numbers, the rest is applied."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from segmentry.engine.shop import Shop
from segmentry.errors import NotFoundError
from tests.cli.conftest import Cli

PRODUCTS = "\n".join([
    "id,name,price,tags",
    "p1,Air Zoom,120,sale|new",
    "p2,Club Tee,lots,",
    "p3,Ultraboost,180,",
    "p4,Socks,9.99,",
    "p5,Cap",
]) + "\n"  # fmt: skip


@pytest.fixture
def products_csv(tmp_path: Path) -> Path:
    path = tmp_path / "products.csv"
    path.write_text(PRODUCTS)
    return path


def test_bad_lines_are_listed_with_their_numbers_and_the_rest_is_applied(
    cli: Cli, shop: Shop, products_csv: Path
) -> None:
    result = cli("import", "products", str(products_csv))
    assert result.exit_code == 1  # not every line made it in
    assert "5 lines read, 3 applied, 2 rejected" in result.stdout
    assert "Applied lines: 2, 4-5" in result.stdout
    assert "line 3: product p2: price must be a number, got 'lots'" in result.stdout
    assert "line 6: 2 fields, but the header has 4" in result.stdout
    assert shop.get("product", "p1").attributes["tags"] == ["sale", "new"]
    assert shop.get("product", "p4").attributes["price"] == 9.99
    with pytest.raises(NotFoundError):
        shop.get("product", "p2")


def test_json_gives_the_import_report(cli: Cli, shop: Shop, products_csv: Path) -> None:
    result = cli("import", "products", str(products_csv), "--json")
    report = json.loads(result.stdout)
    assert (report["status"], report["lines"], report["applied"], report["rejected"]) == (
        "done", 5, 3, 2
    )  # fmt: skip
    assert report["applied_lines"] == [[2, 2], [4, 5]]
    assert [e["line"] for e in report["errors"]] == [3, 6]
    assert shop.import_report(report["import_id"]).applied == 3


def test_a_clean_file_exits_0_and_columns_can_be_mapped(
    cli: Cli, shop: Shop, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("sku_code,title,cost,junk\nA-1,Rice,2.5,x\n")
    result = cli("import", "products", str(path), "--map", "sku_code=id", "--map", "title=name",
                 "--map", "cost=price", "--map", "junk=")  # fmt: skip
    assert result.exit_code == 0
    assert "1 lines read, 1 applied, 0 rejected" in result.stdout
    stored = shop.get("product", "A-1").attributes
    assert (stored["name"], stored["price"]) == ("Rice", 2.5)
    assert "junk" not in stored


def test_json_lines_are_recognised_by_their_extension(cli: Cli, shop: Shop, tmp_path: Path) -> None:
    shop.declare_attribute("customer", "loyalty_status", "enum", values=["Bronze", "Gold"])
    path = tmp_path / "customers.jsonl"
    bodies = [{"id": "c1", "platform": "ios", "attributes": {"loyalty_status": "gold"}},
              {"id": "c2", "lifetime_value": "x"}]  # fmt: skip
    path.write_bytes(b"".join(orjson.dumps(b) + b"\n" for b in bodies))
    report = json.loads(cli("import", "customers", str(path), "--json").stdout)
    assert (report["format"], report["applied"], report["errors"][0]["line"]) == ("ndjson", 1, 2)
    assert shop.get("customer", "c1").attributes["loyalty_status"] == "Gold"


def test_a_missing_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", "products", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_an_unknown_extension_asks_for_the_format(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "products.txt"
    path.write_text(PRODUCTS)
    result = cli("import", "products", str(path))
    assert result.exit_code == 2
    assert "pass --format csv or --format ndjson" in result.stderr
    assert cli("import", "products", str(path), "--format", "csv").stdout.count("applied") == 1


def test_a_bad_map_is_a_usage_error(cli: Cli, products_csv: Path) -> None:
    result = cli("import", "products", str(products_csv), "--map", "price")
    assert result.exit_code == 2
    assert "'price' is not SOURCE=TARGET" in result.stderr


def test_an_unknown_column_stops_the_import_before_anything_is_written(
    cli: Cli, shop: Shop, tmp_path: Path
) -> None:
    path = tmp_path / "products.csv"
    path.write_text("id,prce\np1,10\n")
    result = cli("import", "products", str(path))
    assert result.exit_code == 1
    assert "line 1: column 'prce' is not a product attribute; did you mean 'price'?" in (
        result.stderr
    )
    assert shop.entities("product").items == []
