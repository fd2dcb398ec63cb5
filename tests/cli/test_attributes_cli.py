"""``segmentry attributes``: declare custom attributes and list every attribute."""

from __future__ import annotations

import json

from segmentry.engine.shop import Shop
from tests.cli.conftest import Cli


def test_a_declared_enum_is_listed_and_checked_in_rules(cli: Cli, shop: Shop) -> None:
    result = cli("attributes", "declare", "customer", "loyalty_status", "enum",
                 "--label", "Loyalty Status", "--value", "Bronze", "--value", "Silver",
                 "--value", "Gold")  # fmt: skip
    assert result.exit_code == 0
    assert "enum of Bronze, Silver, Gold" in result.stdout
    listed = json.loads(cli("attributes", "list", "--kind", "customer", "--json").stdout)["items"]
    custom = [a for a in listed if not a["builtin"]]
    assert custom == [{"kind": "customer", "key": "loyalty_status", "label": "Loyalty Status",
                       "type": "enum", "values": ["Bronze", "Silver", "Gold"],
                       "builtin": False, "derived": False}]  # fmt: skip
    assert listed[0]["key"] == "id"  # built-in ones first
    shop.upsert("customer", "c1", {"loyalty_status": "gold"})
    preview = cli("segments", "preview", "loyalty_status = 'Golden'", "--kind", "customer")
    assert preview.exit_code == 1
    assert "expected one of Bronze, Silver, Gold" in preview.stderr


def test_list_shows_every_kind_and_which_attributes_are_derived(cli: Cli) -> None:
    listed = json.loads(cli("attributes", "list", "--json").stdout)["items"]
    assert {a["kind"] for a in listed} == {"product", "customer", "order"}
    derived = {a["key"] for a in listed if a["derived"]}
    assert {"discount_percent", "average_order_value", "units_sold", "revenue"} <= derived
    human = cli("attributes", "list", "--kind", "product").stdout
    assert "discount_percent" in human
    assert "built-in (derived)" in human


def test_a_key_that_shadows_a_built_in_one_is_refused(cli: Cli) -> None:
    result = cli("attributes", "declare", "product", "price", "number")
    assert result.exit_code == 1
    assert "price" in result.stderr
    assert "built-in" in result.stderr
    bad_type = cli("attributes", "declare", "product", "size", "colour")
    assert bad_type.exit_code == 2
