"""The command line's rule checker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from segmentry.cli.main import app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec

runner = CliRunner()


def test_check_prints_canonical_text_and_json() -> None:
    result = runner.invoke(app, ["rules", "check", "Brand = 'Nike' and price > 100", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "text": "brand = 'Nike' AND price > 100",
        "json": {"and": [{"attr": "brand", "op": "=", "value": "Nike"},
                         {"attr": "price", "op": ">", "value": 100}]},
    }  # fmt: skip


def test_check_reports_every_error_with_position_and_hint() -> None:
    result = runner.invoke(
        app, ["rules", "check", "prce > 1 AND tags > 2", "--kind", "product", "--json"]
    )
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(1, 1), (1, 19)]
    assert errors[0]["hint"] == "did you mean 'price'?"


def test_a_rule_that_is_broken_json_is_a_usage_error_not_a_traceback() -> None:
    result = runner.invoke(app, ["rules", "check", '{"attr": "price"'])
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_with_a_database_the_tenants_own_attributes_and_segments_are_known(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    with Segmentry(db) as segmentry:
        shop = segmentry.default_shop()
        shop.declare_attribute("customer", "loyalty_status", "enum", values=["Bronze", "Gold"])
        shop.create_segment(SegmentSpec(kind="customer", code="vip", name="VIP", type="fixed"))
    rule = "loyalty_status = 'gold' AND IN SEGMENT 'vip'"
    checked = runner.invoke(app, ["rules", "check", rule, "--kind", "customer", "--db", db])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[0] == "loyalty_status = 'Gold' AND IN SEGMENT 'vip'"
    wrong = runner.invoke(
        app, ["rules", "check", "loyalty_status = 'Golden'", "--kind", "customer", "--db", db]
    )
    assert wrong.exit_code == 1
    assert "expected one of Bronze, Gold" in wrong.stderr + wrong.stdout
    alone = runner.invoke(app, ["rules", "check", rule, "--kind", "customer"])
    assert alone.exit_code == 1  # the built-in attributes alone know neither


def test_convert_translates_between_formats_and_prints_json_for_json_formats() -> None:
    options = ["--from", "shopify", "--to", "jsonlogic", "--kind", "customer"]
    result = runner.invoke(app, ["rules", "convert", "amount_spent > 100", *options])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {">": [{"var": "lifetime_value"}, 100]}
    sql = runner.invoke(app, ["rules", "convert", "brand != 'Nike'", "--from", "text",
                              "--to", "sql", "--dialect", "sqlite"])  # fmt: skip
    assert sql.stdout.strip() == """NOT (NOT "brand" IS NULL AND LOWER("brand") = 'nike')"""


def test_convert_refuses_what_it_cannot_say_with_a_message_not_a_traceback() -> None:
    result = runner.invoke(app, ["rules", "convert", '{"map": [{"var": "tags"}, true]}',
                                 "--from", "jsonlogic", "--to", "text"])  # fmt: skip
    assert result.exit_code == 1
    assert "at rule.map: JsonLogic operator 'map' cannot be converted" in result.stderr
    broken = runner.invoke(app, ["rules", "convert", "{", "--from", "querybuilder", "--to", "text"])
    assert broken.exit_code == 2
    assert "is JSON" in broken.stderr


def test_convert_reads_custom_attributes_of_the_tenant_with_db(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    with Segmentry(db) as engine:
        engine.default_shop().declare_attribute("product", "season", "string")
    logic = '{"==": [{"var": "attributes.season"}, "summer"]}'
    result = runner.invoke(app, ["rules", "convert", logic, "--from", "jsonlogic", "--to", "text",
                                 "--db", db])  # fmt: skip
    assert (result.exit_code, result.stdout.strip()) == (0, "season = 'summer'")


def test_convert_to_sql_takes_the_tenants_zone_by_its_iana_name() -> None:
    """``--zone``: the printed clause, run in DuckDB, counts days in that zone."""
    import duckdb

    zone = ZoneInfo("Pacific/Kiritimati")
    today = datetime.now(UTC).astimezone(zone).date()
    options = ["--from", "text", "--to", "sql", "--dialect", "duckdb", "--kind", "customer"]
    result = runner.invoke(app, ["rules", "convert", "birthday >= -30d", *options,
                                 "--zone", "Pacific/Kiritimati"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "'Pacific/Kiritimati'" in result.stdout
    conn = duckdb.connect()
    conn.execute("CREATE TABLE customers (id TEXT, birthday DATE)")
    days = {f"c{n}": today - timedelta(days=n) for n in (29, 30, 31)}
    conn.executemany("INSERT INTO customers VALUES (?, ?)", list(days.items()))
    found = conn.execute(f"SELECT id FROM customers WHERE {result.stdout}").fetchall()
    assert sorted(row[0] for row in found) == ["c29", "c30"]
    madrid = runner.invoke(app, ["rules", "convert", "created_at = 2024-07-01", *options,
                                 "--zone", "Europe/Madrid"])  # fmt: skip
    assert "'2024-06-30 22:00:00.000000+00:00'" in madrid.stdout
    utc = runner.invoke(app, ["rules", "convert", "created_at = 2024-07-01", *options])
    assert "'2024-07-01 00:00:00.000000+00:00'" in utc.stdout


def test_convert_refuses_an_unknown_zone_and_a_zone_beside_db(tmp_path: Path) -> None:
    options = ["--from", "text", "--to", "sql", "--dialect", "postgres", "--kind", "customer"]
    unknown = runner.invoke(app, ["rules", "convert", "birthday > -1d", *options,
                                  "--zone", "Mars/Olympus_Mons"])  # fmt: skip
    assert unknown.exit_code == 2
    assert "unknown time zone 'Mars/Olympus_Mons'" in unknown.stderr
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    Segmentry(db).close()
    both = runner.invoke(app, ["rules", "convert", "birthday > -1d", *options,
                               "--zone", "UTC", "--db", db])  # fmt: skip
    assert both.exit_code == 2
    assert "tenant's own time zone" in both.stderr
    sqlite = runner.invoke(app, ["rules", "convert", "birthday > -1d", "--from", "text",
                                 "--to", "sql", "--dialect", "sqlite", "--kind", "customer",
                                 "--zone", "Europe/Madrid"])  # fmt: skip
    assert sqlite.exit_code == 1
    assert "relative time '-1d' in SQLite cannot be converted" in sqlite.stderr
