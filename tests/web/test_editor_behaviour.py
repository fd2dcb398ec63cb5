"""Behaviour functions as rows: each function and window, rows to the canonical text
and that text back to the same rows; what rows cannot show stays text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec
from segmentry.model.schema import Kind, Schema
from segmentry.rules.jsonform import to_json
from segmentry.rules.parser import parse
from segmentry.web.editor import behaviour, builder, editing, view
from segmentry.web.editor.behaviour import Window
from segmentry.web.editor.builder import Group, Row
from tests.web.conftest import Tenant, Visitor
from tests.web.test_forms import field_error

CUSTOMERS = {a.key: a for a in Schema(Kind.CUSTOMER)}
PRODUCTS = {a.key: a for a in Schema(Kind.PRODUCT)}


def row(fn: str, op: str, number: str = "", window: Window | None = None, **kw: str) -> Row:
    shown = Row(f"@{fn}", op, [number] if number else [], window=window or Window())
    shown.where, shown.channel = kw.get("where", ""), kw.get("channel", "")
    return shown


LAST_30_DAYS = Window(behaviour.IN_LAST, "30", "d")
ROWS_AND_TEXT = [
    (row("orders_placed", ">=", "2", Window(behaviour.IN_LAST, "90", "d"),
         where="channel", channel="app"),
     "orders_placed(channel = 'app', since: -90d) >= 2", CUSTOMERS),
    (row("amount_spent", ">", "100", LAST_30_DAYS), "amount_spent(since: -30d) > 100", CUSTOMERS),
    (row("amount_spent", "<=", "99.99", Window(behaviour.BETWEEN, since="2024-01-01",
                                               until="2024-12-31")),
     "amount_spent(since: 2024-01-01, until: 2024-12-31) <= 99.99", CUSTOMERS),
    (row("purchased", behaviour.DID, window=LAST_30_DAYS, where="segment:premiumProducts"),
     "purchased(IN SEGMENT 'premiumProducts', since: -30d)", CUSTOMERS),
    (row("purchased", behaviour.DID_NOT), "NOT purchased()", CUSTOMERS),
    (row("purchased", behaviour.DID_NOT, window=Window(behaviour.BETWEEN, since="2025-06-01")),
     "NOT purchased(since: 2025-06-01)", CUSTOMERS),
    (row("units_purchased", "!=", "3", Window(behaviour.BETWEEN, until="2024-12-31"),
         where="segment:coffee"),
     "units_purchased(IN SEGMENT 'coffee', until: 2024-12-31) != 3", CUSTOMERS),
    (row("units_sold", ">", "100", Window(behaviour.IN_LAST, "2", "w")),
     "units_sold(since: -2w) > 100", PRODUCTS),
    (row("revenue", "=", "0", Window(behaviour.IN_LAST, "1", "y"), where="segment:vip"),
     "revenue(IN SEGMENT 'vip', since: -1y) = 0", PRODUCTS),
    (row("revenue", "<", "1000"), "revenue() < 1000", PRODUCTS),
]  # fmt: skip


@pytest.mark.parametrize(("shown", "text", "attributes"), ROWS_AND_TEXT)
def test_a_behaviour_row_is_its_canonical_text_and_the_text_its_row(
    shown: Row, text: str, attributes: builder.Attributes
) -> None:
    editor = editing.Editor(items=[shown])
    editing.apply(editor, "to-text", attributes)
    assert (editor.mode, editor.text, editor.failed) == (editing.TEXT, text, False)
    editing.apply(editor, "to-builder", attributes)
    assert (editor.mode, editor.note) == (editing.BUILDER, "")
    assert editor.items == [shown]


def test_behaviour_rows_join_attribute_rows_and_any_of_groups() -> None:
    text = "loyalty_status = 'gold' AND (amount_spent() > 5 OR purchased(since: -1y))"
    items = builder.rows_from_rule(to_json(parse(text)), CUSTOMERS)
    assert items == [
        Row("loyalty_status", "=", ["gold"]),
        Group([row("amount_spent", ">", "5"),
               row("purchased", behaviour.DID, window=Window(behaviour.IN_LAST, "1", "y"))]),
    ]  # fmt: skip
    assert builder.to_rule(items, CUSTOMERS) == to_json(parse(text))


def test_the_form_fields_of_a_behaviour_row_make_its_rule() -> None:
    fields = [
        ("row-0-attr", "@amount_spent"), ("row-0-op", ">"), ("row-0-value", " 100 "),
        ("row-0-where", "channel"), ("row-0-channel", "app "),
        ("row-0-window", "last"), ("row-0-count", "30"), ("row-0-unit", "d"),
        ("row-1-attr", "@purchased"), ("row-1-op", "not purchased"),
        ("row-1-where", "segment:premiumProducts"),
        ("row-1-window", "between"), ("row-1-since", "2024-01-01"), ("row-1-until", ""),
    ]  # fmt: skip
    editor = editing.from_form(fields, CUSTOMERS)
    editing.apply(editor, "to-text", CUSTOMERS)
    assert editor.text == (
        "amount_spent(channel = 'app', since: -30d) > 100\n"
        "AND NOT purchased(IN SEGMENT 'premiumProducts', since: 2024-01-01)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "purchased(brand = 'Nike')",  # a product condition, not a segment
        "purchased(IN SEGMENT 'a' OR IN SEGMENT 'b')",
        "orders_placed(channel != 'app') > 1",
        "orders_placed(total > 100) > 1",
        "units_sold(IN SEGMENT 'vip' AND country = 'ES') > 1",
        "amount_spent(since: today) > 1",  # windows the controls do not say
        "amount_spent(since: -1m, until: -30d) > 1",
        "amount_spent(since: -30d, until: 2026-01-01) > 1",
        "purchased(since: 2024-01-01T10:00)",
        "NOT amount_spent() > 5",  # only purchased is shown negated
    ],
)
def test_a_function_richer_than_a_row_stays_text(text: str) -> None:
    attributes = PRODUCTS if text.startswith("units_sold") else CUSTOMERS
    editor = editing.Editor(editing.TEXT, text=text)
    editing.apply(editor, "to-builder", attributes)
    assert (editor.mode, editor.note) == (editing.TEXT, editing.NO_ROWS_NOTE)
    assert editing.from_rule(to_json(parse(text)), attributes).mode == editing.TEXT


@pytest.mark.parametrize(
    ("shown", "error"),
    [
        (row("amount_spent", ">", ""), "Enter a number."),
        (row("amount_spent", ">", "lots"), "'lots' is not a number; write it like 100 or 19.99"),
        (row("orders_placed", ">", "1", Window(behaviour.IN_LAST, "a month", "d")),
         "'a month' is not a whole number; write it like 30"),
        (row("orders_placed", ">", "1", Window(behaviour.IN_LAST, "", "d")),
         "Enter how many days, weeks, months or years."),
        (row("purchased", behaviour.DID, window=Window(behaviour.BETWEEN)),
         "Enter a date, or both."),
        (row("orders_placed", ">", "1", where="channel", channel=" "), "Enter the channel."),
        (row("orders_placed", "between", "1"), "Choose a comparison."),
    ],
)  # fmt: skip
def test_a_behaviour_row_that_cannot_be_read_says_so_at_the_row(shown: Row, error: str) -> None:
    assert builder.to_rule([shown], CUSTOMERS) is None
    assert shown.error == error


def test_a_behaviour_row_not_filled_in_yet_waits_for_the_preview() -> None:
    waiting = row("amount_spent", ">", "", Window(behaviour.IN_LAST, "", "d"))
    assert builder.to_rule([waiting], CUSTOMERS, strict=False) is None
    assert (waiting.pending, waiting.error) == (True, "")


def test_choosing_a_function_offers_its_comparisons_and_conditions() -> None:
    assert builder.operators(None, "@amount_spent") == ["=", "!=", "<", "<=", ">", ">="]
    assert builder.operators(None, "@purchased") == ["purchased", "not purchased"]
    assert builder.label("not purchased", None) == "has not purchased"
    assert builder.widget(None, "@purchased", "purchased") is builder.Widget.NONE
    assert builder.widget(None, "@revenue", ">") is builder.Widget.NUMBER
    assert [k for k, _ in behaviour.choices("product")] == ["@units_sold", "@revenue"]
    assert [k for k, _ in behaviour.choices("customer")] == [
        "@orders_placed", "@amount_spent", "@purchased", "@units_purchased",
    ]  # fmt: skip
    shown = view.row_view("0", row("purchased", "purchased"), CUSTOMERS, ["vip"], ["shoes"])
    assert (shown.which, shown.where) == (
        "Which products",
        [("", "any product"), ("segment:shoes", "a product in segment shoes")],
    )
    orders = view.row_view("0", row("orders_placed", ">"), CUSTOMERS, [], ["shoes"])
    assert orders.where == [("", "any order"), ("channel", "channel is")]


def test_changing_the_function_of_a_row_starts_its_condition_afresh() -> None:
    fields = [
        ("row-0-shown", "@purchased"), ("row-0-shownop", "purchased"),
        ("row-0-attr", "@orders_placed"), ("row-0-op", "purchased"),
        ("row-0-where", "segment:shoes"), ("row-0-window", "last"), ("row-0-count", "7"),
    ]  # fmt: skip
    editor = editing.from_form(fields, CUSTOMERS)
    assert editor.items == [row("orders_placed", "=", window=Window(behaviour.IN_LAST, "7", "d"))]


# -- through the page, without JavaScript ------------------------------------------------------

SPENT_ROW = {
    "mode": "builder", "row-0-attr": "@amount_spent", "row-0-op": ">", "row-0-value": "100",
    "row-0-where": "", "row-0-window": "last", "row-0-count": "30", "row-0-unit": "d",
}  # fmt: skip


def orders(shop: Shop) -> None:
    """c2 spent 150 a week ago; c1 spent 150 a year ago and 20 yesterday."""
    now = datetime.now(UTC)
    for code, customer, days, price in (("o1", "c2", 7, "150"), ("o2", "c1", 365, "150"),
                                        ("o3", "c1", 1, "20")):  # fmt: skip
        placed = (now - timedelta(days=days)).isoformat()
        line = {"product_id": "p1", "quantity": 1, "unit_price": price}
        shop.put_order(code, {"customer_id": customer, "placed_at": placed, "lines": [line]})


def test_the_attribute_select_offers_the_functions_of_the_kind(signed_in: Visitor) -> None:
    customers = signed_in.get("/customers/segments/new").text
    behaviours = customers[customers.index('<optgroup label="Behaviour">') :]
    assert re.findall(r'<option value="@(\w+)"', behaviours) == [
        "orders_placed", "amount_spent", "purchased", "units_purchased",
    ]  # fmt: skip
    products = signed_in.get("/products/segments/new").text
    assert re.findall(r'<option value="@(\w+)"', products) == ["segment", "units_sold", "revenue"]


def test_a_behaviour_row_draws_its_controls_labelled_with_its_row(
    signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.create_segment(SegmentSpec(kind="product", code="shoes", name="Shoes",
                                           rule="price > 100"))  # fmt: skip
    fields = {"kind": "customer", "mode": "builder", "row-0-attr": "@purchased",
              "row-0-window": "between", "action": "refresh"}  # fmt: skip
    page = signed_in.post("/rule/editor", fields).text
    labels = re.findall(r'<label for="row-0-(\w+)"><span class="visually-hidden">'
                        r"Condition 1: </span>([^<]*)<", page)  # fmt: skip
    assert labels == [("attr", "Attribute"), ("op", "Operator"), ("where", "Which products"),
                      ("window", "When"), ("since", "From"), ("until", "to")]  # fmt: skip
    assert '<option value="segment:shoes">a product in segment shoes</option>' in page
    assert 'id="row-0-since" name="row-0-since" type="date"' in page
    assert 'id="row-0-value"' not in page  # purchased is true or false: no number


def test_a_behaviour_row_previews_saves_and_opens_again_as_rows(
    signed_in: Visitor, tenant: Tenant
) -> None:
    orders(tenant.shop)
    preview = signed_in.post("/rule/preview", {"kind": "customer", **SPENT_ROW})
    assert '<strong id="preview-count">1</strong>' in preview.text
    assert "amount_spent(since: -30d) &gt; 100" in preview.text
    form = {"name": "Big spenders", "code": "bigSpenders", "type": "dynamic",
            "status": "active", "description": "", "action": "save", **SPENT_ROW}  # fmt: skip
    saved = signed_in.post("/customers/segments/new", form)
    assert saved.url.path == "/segments/bigSpenders"
    assert tenant.shop.segment("bigSpenders").rule_text == "amount_spent(since: -30d) > 100"
    assert [m.id for m in tenant.shop.members("bigSpenders").items] == ["c2"]
    edit = signed_in.get("/segments/bigSpenders/edit").text
    assert '<option value="@amount_spent" selected>' in edit
    assert re.search(r'id="row-0-count" name="row-0-count" value="30"', edit)
    assert '<option value="last" selected>in the last</option>' in edit


def test_a_problem_in_a_behaviour_row_is_shown_at_the_row(signed_in: Visitor) -> None:
    fields = {"kind": "customer", "mode": "builder", "row-0-attr": "@purchased",
              "row-0-op": "purchased", "row-0-where": "segment:nope"}  # fmt: skip
    page = signed_in.post("/rule/preview", fields)
    assert "nope" in field_error(page, "row-0")
    assert "Fix the rule to see how many customers it selects." in page.text
