"""POST /v1/rules/convert and ``rule_format`` on segment create and edit."""

from __future__ import annotations

from segmentry.engine.segmentry import Segmentry
from tests.api.conftest import Caller, TestClient, is_problem


def test_a_rule_converts_against_the_tenants_own_attributes(api: Caller) -> None:
    loyalty = {"kind": "customer", "key": "loyalty", "type": "enum", "values": ["Gold", "Silver"]}
    declared = api.post("/v1/attributes", json=loyalty)
    assert declared.is_success, declared.text
    body = {"kind": "customer", "from": "text", "to": "jsonlogic",
            "rule": "loyalty = 'gold' AND lifetime_value > 100"}  # fmt: skip
    answer = api.post("/v1/rules/convert", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"rule": {"and": [
        {"==": [{"var": "attributes.loyalty"}, "Gold"]}, {">": [{"var": "lifetime_value"}, 100]},
    ]}}  # fmt: skip
    back = {"kind": "customer", "from": "jsonlogic", "to": "text", "rule": answer.json()["rule"]}
    assert api.post("/v1/rules/convert", json=back).json() == {
        "rule": "loyalty = 'Gold' AND lifetime_value > 100"
    }


def test_a_shopify_query_becomes_a_warehouse_clause(api: Caller) -> None:
    body = {"kind": "customer", "from": "shopify", "to": "sql", "dialect": "postgres",
            "rule": "number_of_orders >= 3"}  # fmt: skip
    answer = api.post("/v1/rules/convert", json=body)
    assert answer.json() == {"rule": 'NOT "orders_count" IS NULL AND "orders_count" >= 3'}


def test_what_cannot_be_converted_is_a_422_naming_the_construct_and_where(api: Caller) -> None:
    logic = {"and": [{">": [{"var": "price"}, 1]}, {"map": [{"var": "tags"}, 1]}]}
    body = {"kind": "product", "from": "jsonlogic", "to": "text", "rule": logic}
    problem = is_problem(api.post("/v1/rules/convert", json=body), 422, "unconvertible-rule")
    assert problem["construct"] == "JsonLogic operator 'map'"
    assert problem["errors"][0]["location"] == "rule.and[1].map"
    written = {"kind": "product", "from": "text", "to": "sql", "dialect": "duckdb",
               "rule": "IN SEGMENT 'vip'"}  # fmt: skip
    is_problem(api.post("/v1/rules/convert", json=written), 422, "unconvertible-rule")
    bad_text = {"kind": "product", "from": "text", "to": "json", "rule": "price >"}
    assert (
        is_problem(api.post("/v1/rules/convert", json=bad_text), 422, "invalid-rule")["errors"][0][
            "column"
        ]
        == 8
    )
    unknown = {"kind": "product", "from": "yaml", "to": "text", "rule": "x"}
    is_problem(api.post("/v1/rules/convert", json=unknown), 422, "invalid-request")


def test_a_segment_is_created_and_edited_from_other_formats_and_keeps_our_form(
    api: Caller,
) -> None:
    for number, price in enumerate([5, 50, 500]):
        api.put(f"/v1/products/p{number}", json={"price": price, "brand": "Nike"})
    query = {"combinator": "and", "rules": [
        {"field": "brand", "operator": "=", "value": "nike"},
        {"field": "price", "operator": "between", "value": "10,100"}]}  # fmt: skip
    segment = {"kind": "product", "code": "mid", "name": "Mid", "rule": query}
    created = api.post("/v1/segments", json={**segment, "rule_format": "querybuilder"})
    assert created.status_code == 201, created.text
    assert created.json()["rule"]["text"] == "brand = 'nike' AND price BETWEEN 10 AND 100"
    assert created.json()["member_count"] == 1
    edit = {"rule": {">": [{"var": "price"}, 10]}, "rule_format": "jsonlogic"}
    edited = api.patch("/v1/segments/mid", json=edit)
    assert (edited.json()["rule"]["text"], edited.json()["member_count"]) == ("price > 10", 2)


def test_a_rule_that_cannot_be_converted_creates_nothing(api: Caller) -> None:
    body = {"kind": "customer", "code": "bday", "name": "B", "rule_format": "shopify",
            "rule": "anniversary('metafields.facts.birth_date') = 2024-05-03"}  # fmt: skip
    problem = is_problem(api.post("/v1/segments", json=body), 422, "unconvertible-rule")
    assert problem["construct"] == "anniversary() = 2024-05-03"
    assert api.get("/v1/segments/bday").status_code == 404
    edit = api.post("/v1/segments", json={"kind": "customer", "code": "c", "name": "C",
                                          "rule": "orders_count > 1"})  # fmt: skip
    assert edit.status_code == 201
    refused = api.patch(
        "/v1/segments/c", json={"rule": "rfm_group = 'x'", "rule_format": "shopify"}
    )
    is_problem(refused, 422, "unconvertible-rule")
    assert api.get("/v1/segments/c").json()["version"] == 1


def test_a_deeply_nested_rule_is_a_4xx_not_a_500(api: Caller) -> None:
    logic: dict[str, object] = {"==": [{"var": "brand"}, "x"]}
    for _ in range(400):
        logic = {"!": logic}
    body = {"kind": "product", "from": "jsonlogic", "to": "sql", "dialect": "sqlite", "rule": logic}
    is_problem(api.post("/v1/rules/convert", json=body), 422, "unconvertible-rule")


def test_match_modes_convert_and_counting_items_that_pass_a_test_is_a_422(api: Caller) -> None:
    some = {"field": "tags", "operator": "=", "match": {"mode": "some"},
            "value": {"combinator": "and", "rules": [
                {"field": "", "operator": "beginsWith", "value": "sale-"}]}}  # fmt: skip
    body = {"kind": "product", "from": "querybuilder", "to": "text",
            "rule": {"combinator": "and", "rules": [some]}}  # fmt: skip
    answer = api.post("/v1/rules/convert", json=body)
    assert answer.json() == {"rule": "ANY tags STARTS WITH 'sale-'"}, answer.text
    at_least = {**some, "match": {"mode": "atLeast", "threshold": 2}}
    body["rule"] = {"combinator": "or", "rules": [{"field": "price", "operator": ">",
                                                   "value": 1}, at_least]}  # fmt: skip
    problem = is_problem(api.post("/v1/rules/convert", json=body), 422, "unconvertible-rule")
    assert problem["construct"] == "match mode 'atLeast'"
    assert problem["errors"][0]["location"] == "rule.rules[1].match"


def test_shopify_refuses_by_name_what_its_filters_cannot_say(api: Caller) -> None:
    body = {"kind": "customer", "from": "text", "to": "shopify",
            "rule": "orders_count > 1 AND count(tags) >= 2"}  # fmt: skip
    problem = is_problem(api.post("/v1/rules/convert", json=body), 422, "unconvertible-rule")
    assert problem["construct"] == "count(tags) >= 2"
    assert problem["errors"][0]["location"] == "rule[1]"
    body["rule"] = "ANY tags = 'vip' AND purchased(id IN ('42'), since: -30d)"
    assert api.post("/v1/rules/convert", json=body).json() == {
        "rule": "customer_tags CONTAINS 'vip' AND products_purchased(id: 42, date: >= -30d) = true"
    }
    read = {"kind": "customer", "from": "shopify", "to": "text",
            "rule": "products_purchased(id: (42, 43), date: >= -30d) = false"}  # fmt: skip
    assert api.post("/v1/rules/convert", json=read).json() == {
        "rule": "NOT purchased(id IN ('42', '43'), since: -30d)"
    }
    read["rule"] = "number_of_orders > 1 AND\n products_purchased(id: 1, tag: 'a') = true"
    problem = is_problem(api.post("/v1/rules/convert", json=read), 422, "unconvertible-rule")
    assert problem["construct"] == "products_purchased(id:, tag:)"
    assert problem["errors"][0]["location"] == "line 2, column 28"


def test_counts_quantifiers_and_pairs_export_to_a_warehouse(api: Caller) -> None:
    body = {"kind": "product", "from": "text", "to": "sql", "dialect": "duckdb",
            "rule": "count(tags) >= 2 AND NONE tags = 'x' AND price < original_price"}  # fmt: skip
    answer = api.post("/v1/rules/convert", json=body)
    assert answer.json() == {"rule": (
        "COALESCE(ARRAY_LENGTH(\"tags\"), 0) >= 2 AND NOT EXISTS(SELECT 1 FROM UNNEST(\"tags\") "
        "AS _items(_item) WHERE LOWER(_item) = 'x') AND (NOT \"price\" IS NULL AND NOT "
        "\"original_price\" IS NULL AND \"price\" < \"original_price\")"
    )}, answer.text  # fmt: skip
    body["rule"] = "ANY tags MATCHES '^a'"
    problem = is_problem(api.post("/v1/rules/convert", json=body), 422, "unconvertible-rule")
    assert (problem["construct"], problem["errors"][0]["location"]) == ("ANY tags MATCHES", "rule")


def test_relative_times_export_in_the_tenants_zone_but_sqlite_refuses_them(
    segmentry: Segmentry, client: TestClient
) -> None:
    tenant = segmentry.create_tenant("santiago shop", time_zone="America/Santiago")
    _, key = segmentry.issue_key(tenant.tenant_id, "santiago key")
    api = Caller(client, key, tenant.tenant_id)
    body = {"kind": "customer", "from": "text", "to": "sql", "dialect": "postgres",
            "rule": "birthday > -30d AND last_order_at >= today"}  # fmt: skip
    answer = api.post("/v1/rules/convert", json=body)
    assert answer.status_code == 200, answer.text
    assert "CURRENT_TIMESTAMP AT TIME ZONE 'America/Santiago'" in answer.json()["rule"]
    refused = is_problem(api.post("/v1/rules/convert", json={**body, "dialect": "sqlite"}),
                         422, "unconvertible-rule")  # fmt: skip
    assert refused["construct"] == "relative time '-30d' in SQLite"
    assert refused["errors"][0]["location"] == "rule.and[0]"
