"""The command line's rule checker."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from segmentry.cli.main import app

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
