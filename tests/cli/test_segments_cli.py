"""``segmentry segments``: create, list, show, members, preview and explain."""

from __future__ import annotations

import json

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import Use, UseType
from tests.cli.conftest import Cli


@pytest.fixture
def catalog(shop: Shop) -> Shop:
    shop.upsert_many("product", [
        {"id": "p1", "name": "Air Zoom", "brand": "Nike", "price": 120},
        {"id": "p2", "name": "Club Tee", "brand": "Nike", "price": 25},
        {"id": "p3", "name": "Ultraboost", "brand": "Adidas", "price": 180},
        {"id": "p4", "name": "Socks", "price": 9.99},
    ])  # fmt: skip
    return shop


def test_create_evaluates_the_rule_and_says_how_many_are_in(cli: Cli, catalog: Shop) -> None:
    result = cli("segments", "create", "nikePremium", "--kind", "product",
                 "--name", "Nike over 100", "--rule", "brand = 'nike' and price > 100")  # fmt: skip
    assert result.exit_code == 0
    assert "Created dynamic product segment 'nikePremium' (active) with 1 members" in result.stdout
    assert "brand = 'nike' AND price > 100" in result.stdout  # the canonical text
    assert [m.id for m in catalog.members("nikePremium").items] == ["p1"]


def test_create_json_gives_the_segment_in_the_api_shape(cli: Cli, catalog: Shop) -> None:
    rule = json.dumps({"attr": "price", "op": ">", "value": 100})  # the JSON form works too
    result = cli("segments", "create", "premium", "--kind", "product", "--name", "Premium",
                 "--rule", rule, "--description", "Over 100", "--json")  # fmt: skip
    segment = json.loads(result.stdout)
    assert segment["rule"] == {"text": "price > 100", "json": json.loads(rule)}
    assert (segment["code"], segment["type"], segment["status"]) == ("premium", "dynamic", "active")
    assert (segment["member_count"], segment["version"]) == (2, 1)
    assert segment["description"] == "Over 100"


def test_a_fixed_segment_takes_member_ids(cli: Cli, catalog: Shop) -> None:
    result = cli("segments", "create", "picks", "--kind", "product", "--name", "Picks",
                 "--type", "fixed", "--member", "p2", "--member", "p4")  # fmt: skip
    assert result.exit_code == 0
    assert [m.id for m in catalog.members("picks").items] == ["p2", "p4"]
    unknown = cli("segments", "create", "more", "--kind", "product", "--name", "More",
                  "--type", "fixed", "--member", "p9")  # fmt: skip
    assert unknown.exit_code == 1
    assert "'p9'" in unknown.stderr


def test_a_rule_error_prints_the_caret_and_hint_and_exits_1(cli: Cli, catalog: Shop) -> None:
    result = cli("segments", "create", "bad", "--kind", "product", "--name", "Bad",
                 "--rule", "prce > 100 AND tags > 2")  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[:4] == [
        "line 1, column 1: unknown attribute 'prce'",
        "  prce > 100 AND tags > 2",
        "  ^^^^",
        "  hint: did you mean 'price'?",
    ]
    assert "line 1, column 21: '>' does not apply to tags (a list)" in result.stderr
    assert catalog.segments() == []


def test_a_rule_argument_that_was_not_utf8_is_refused_at_its_position(
    cli: Cli, catalog: Shop
) -> None:
    # Python hands a command line byte that is not UTF-8 (here 0xff) over as a lone
    # surrogate; no database stores one.
    rule = "name = '\udcff'"
    for args in (("create", "bad", "--name", "Bad", "--rule", rule), ("preview", rule)):
        result = cli("segments", *args, "--kind", "product")
        assert result.exit_code == 1
        assert result.stderr.startswith(
            "line 1, column 9: U+DCFF is a lone surrogate, not a character\n"
        )
    checked = cli("rules", "check", rule, "--kind", "product")
    assert checked.exit_code == 1
    assert "U+DCFF is a lone surrogate" in checked.stderr
    assert catalog.segments() == []


def test_a_rule_that_is_broken_json_is_a_usage_error(cli: Cli, catalog: Shop) -> None:
    result = cli("segments", "preview", '{"attr": "price",', "--kind", "product")
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_list_and_show(cli: Cli, catalog: Shop) -> None:
    cli("segments", "create", "premium", "--kind", "product", "--name", "Premium",
        "--rule", "price > 100")  # fmt: skip
    catalog.put_use("premium", Use("home", UseType.RECOMMENDATION, "Home page block"))
    listed = json.loads(cli("segments", "list", "--json").stdout)["items"]
    assert [(s["code"], s["member_count"]) for s in listed] == [("premium", 2)]
    assert json.loads(cli("segments", "list", "--kind", "customer", "--json").stdout) == {
        "items": []
    }
    human = cli("segments", "list").stdout
    assert "premium" in human
    assert "Premium" in human
    assert "dynamic" in human
    shown = json.loads(cli("segments", "show", "premium", "--json").stdout)
    assert shown["uses"] == [
        {"id": "home", "type": "recommendation", "name": "Home page block", "url": None}
    ]
    card = cli("segments", "show", "premium").stdout
    assert "price > 100" in card
    assert "Home page block" in card


def test_an_unknown_segment_is_named_and_exits_1(cli: Cli, catalog: Shop) -> None:
    result = cli("segments", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no segment with code 'nope'"


def test_members_are_paged_with_a_cursor(cli: Cli, catalog: Shop) -> None:
    cli("segments", "create", "cheap", "--kind", "product", "--name", "Cheap",
        "--rule", "price < 150")  # fmt: skip
    first = json.loads(cli("segments", "members", "cheap", "--limit", "2", "--json").stdout)
    assert [m["id"] for m in first["items"]] == ["p1", "p2"]
    assert first["items"][0]["since"].endswith("Z")
    cursor = first["next_cursor"]
    rest = json.loads(cli("segments", "members", "cheap", "--cursor", cursor, "--json").stdout)
    assert ([m["id"] for m in rest["items"]], rest["next_cursor"]) == (["p4"], None)
    human = cli("segments", "members", "cheap", "--limit", "2").stdout
    assert "2 shown of 3 members." in human
    assert f"Next page: --cursor {cursor}" in human


def test_preview_of_a_new_rule_and_of_an_edit(cli: Cli, catalog: Shop) -> None:
    found = json.loads(cli("segments", "preview", "price >= 120", "--kind", "product",
                           "--json").stdout)  # fmt: skip
    assert found == {"count": 2, "sample": ["p1", "p3"]}
    assert "2 would be members." in cli("segments", "preview", "price >= 120",
                                        "--kind", "product").stdout  # fmt: skip
    cli("segments", "create", "premium", "--kind", "product", "--name", "Premium",
        "--rule", "price > 100")  # fmt: skip
    edit = json.loads(cli("segments", "preview", "price > 20", "--segment", "premium",
                          "--json").stdout)  # fmt: skip
    assert (edit["count"], edit["entering"], edit["leaving"]) == (3, 1, 0)
    assert edit["sample_entering"] == ["p2"]
    assert catalog.segment("premium").member_count == 2  # nothing saved
    neither = cli("segments", "preview", "price > 20")
    assert neither.exit_code == 2
    assert "give either --kind" in neither.stderr


def test_explain_shows_each_condition_with_the_value_seen(cli: Cli, catalog: Shop) -> None:
    cli("segments", "create", "nikePremium", "--kind", "product", "--name", "Nike over 100",
        "--rule", "brand = 'Nike' AND price > 100")  # fmt: skip
    human = cli("segments", "explain", "nikePremium", "p2").stdout
    assert "p2 is not a member of nikePremium." in human
    assert "✓ brand = 'Nike'   (seen: 'Nike')" in human
    assert "✗ price > 100   (seen: 25)" in human
    explained = json.loads(cli("segments", "explain", "nikePremium", "p1", "--json").stdout)
    assert explained["member"] is True
    assert explained["tree"]["and"][1] == {
        "attr": "price", "op": ">", "value": 100, "seen": 120, "result": True
    }  # fmt: skip
    missing = cli("segments", "explain", "nikePremium", "p9")
    assert missing.exit_code == 1
    assert "product 'p9' does not exist" in missing.stderr


def test_renaming_a_used_segment_lists_its_uses_unless_forced(cli: Cli, catalog: Shop) -> None:
    cli("segments", "create", "premiumProducts", "--kind", "product", "--name", "Premium",
        "--rule", "price > 100")  # fmt: skip
    use = Use("home-picks", UseType.WORKFLOW, "Home page: premium picks", "https://shop/wf/7")
    catalog.put_use("premiumProducts", use)
    refused = cli("segments", "rename", "premiumProducts", "premiumProductsX")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: segment 'premiumProducts' has 1 use(s), which ask for it by its code; "
        "rename with force to override",
        "  workflow 'home-picks': Home page: premium picks <https://shop/wf/7>",
        "rename it with --force to override",
    ]
    assert [s.code for s in catalog.segments()] == ["premiumProducts"]
    forced = cli("segments", "rename", "premiumProducts", "premiumProductsX", "--force")
    assert forced.exit_code == 0
    assert forced.stdout == (
        "Renamed segment 'premiumProducts' to 'premiumProductsX' (version 2).\n"
    )
    assert [s.code for s in catalog.segments()] == ["premiumProductsX"]
    assert cli("segments", "rename", "premiumProductsX", "premium").exit_code == 1  # still used
    catalog.remove_use("premiumProductsX", "home-picks")
    unused = cli("segments", "rename", "premiumProductsX", "premium", "--json")
    assert json.loads(unused.stdout)["code"] == "premium"
