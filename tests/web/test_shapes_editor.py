"""Rows of an attribute against another, a count, an anniversary and a list quantifier,
and the negative operators: each row is its canonical text and the text its row; the
form's fields make the rule; the page draws the controls labelled with their row; a
rule saved so opens again as rows, and previews as any rule does."""

from __future__ import annotations

import re

import pytest

from segmentry.model.schema import Kind, Schema
from segmentry.rules.jsonform import to_json
from segmentry.rules.parser import parse
from segmentry.web.editor import builder, editing, shapes
from segmentry.web.editor.builder import Group, Row
from tests.web.conftest import Tenant, Visitor
from tests.web.test_forms import field_error

CUSTOMERS = {a.key: a for a in Schema(Kind.CUSTOMER)}
PRODUCTS = {a.key: a for a in Schema(Kind.PRODUCT)}
AGAINST = shapes.ATTRIBUTE

ROWS_AND_TEXT = [
    (Row("price", "<", against=AGAINST, other="original_price"),
     "price < original_price", PRODUCTS),
    (Row("published_at", ">=", against=AGAINST, other="created_at"),
     "published_at >= created_at", PRODUCTS),
    (Row("platform", "!=", against=AGAINST, other="country"),  # an enum against a string
     "platform != country", CUSTOMERS),
    (Row("tags", "contains none", ["sale, clearance"]),
     "tags CONTAINS NONE ('sale', 'clearance')", PRODUCTS),
    (Row("count(tags)", ">=", ["2"]), "count(tags) >= 2", PRODUCTS),
    (Row("count(categories)", "not between", ["1", "3"]),
     "count(categories) NOT BETWEEN 1 AND 3", PRODUCTS),
    (Row("tags", "any starts with", ["vip"]), "ANY tags STARTS WITH 'vip'", CUSTOMERS),
    (Row("categories", "all ends with", ["wear"]), "ALL categories ENDS WITH 'wear'", PRODUCTS),
    (Row("tags", "none matches", ["^test"]), "NONE tags MATCHES '^test'", PRODUCTS),
    (Row("tags", "any =", ["gold"]), "ANY tags = 'gold'", CUSTOMERS),
    (Row("anniversary(birthday)", "=", ["today"]), "anniversary(birthday) = today", CUSTOMERS),
    (Row("anniversary(created_at)", "between", ["today", "+7d"]),
     "anniversary(created_at) BETWEEN today AND +7d", CUSTOMERS),
    (Row("anniversary(birthday)", "not between", ["tomorrow", "2026-12-31"]),
     "anniversary(birthday) NOT BETWEEN tomorrow AND 2026-12-31", CUSTOMERS),
    (Row("name", "not starts with", ["Air"]), "name NOT STARTS WITH 'Air'", PRODUCTS),
    (Row("email", "not ends with", ["@example.com"]),
     "email NOT ENDS WITH '@example.com'", CUSTOMERS),
    (Row("price", "not between", ["50", "100"]), "price NOT BETWEEN 50 AND 100", PRODUCTS),
]  # fmt: skip


@pytest.mark.parametrize(("shown", "text", "attributes"), ROWS_AND_TEXT)
def test_each_new_row_is_its_canonical_text_and_the_text_its_row(
    shown: Row, text: str, attributes: builder.Attributes
) -> None:
    editor = editing.Editor(items=[shown])
    editing.apply(editor, "to-text", attributes)
    assert (editor.mode, editor.text, editor.failed) == (editing.TEXT, text, False)
    editing.apply(editor, "to-builder", attributes)
    assert (editor.mode, editor.note) == (editing.BUILDER, "")
    assert editor.items == [shown]


def test_every_condition_kind_at_once_comes_back_as_the_same_text() -> None:
    text = (
        "ANY tags STARTS WITH 'vip' AND count(tags) >= 2 AND tags CONTAINS NONE ('test')\n"
        "AND (anniversary(birthday) BETWEEN today AND +7d OR lifetime_value > average_order_value)"
    )
    items = builder.rows_from_rule(to_json(parse(text)), CUSTOMERS)
    assert items is not None
    assert items[3] == Group([
        Row("anniversary(birthday)", "between", ["today", "+7d"]),
        Row("lifetime_value", ">", against=AGAINST, other="average_order_value"),
    ])  # fmt: skip
    assert builder.to_rule(items, CUSTOMERS) == to_json(parse(text))


def test_the_operators_offered_include_the_negatives_and_the_quantifiers() -> None:
    name = builder.lookup(PRODUCTS, "name")
    assert {"not starts with", "not ends with"} <= set(builder.operators(name, "name"))
    price = builder.lookup(PRODUCTS, "price")
    assert "not between" in builder.operators(price, "price")
    tags = builder.lookup(PRODUCTS, "tags")
    labels = [builder.label(op, tags) for op in builder.operators(tags, "tags")]
    assert "contains none of" in labels
    assert labels[-18:-15] == ["any item is", "any item is not", "any item contains"]
    assert labels[-1] == "no item matches pattern"
    count = builder.lookup(PRODUCTS, "count(tags)")
    assert count is not None
    assert count.label == "Number of Tags"
    assert builder.operators(count, "count(tags)") == [
        "=", "!=", "<", "<=", ">", ">=", "between", "not between",
    ]  # fmt: skip
    birthday = builder.lookup(CUSTOMERS, "anniversary(birthday)")
    day_ops = builder.operators(birthday, "anniversary(birthday)")
    assert [builder.label(op, birthday) for op in day_ops][:3] == ["on", "not on", "before"]


@pytest.mark.parametrize(
    "text",
    [
        "ANY tags STARTS WITH ' vip'",  # rows trim what is typed: text keeps the space
        "anniversary(birthday) = ' today'",
        "count(tags) > stock",  # a function against an attribute
    ],
)
def test_a_shape_rows_cannot_give_back_stays_text(text: str) -> None:
    assert builder.rows_from_rule(to_json(parse(text)), CUSTOMERS | PRODUCTS) is None


def test_a_wrong_other_attribute_leaves_the_focus_on_it_after_text() -> None:
    fields = [
        ("row-0-attr", "price"),
        ("row-0-op", "<"),
        ("row-0-against", "attribute"),
        ("row-0-other", "original_price"),
        ("row-1-attr", "stock"),
        ("row-1-value", "x"),
    ]
    editor = editing.from_form(fields, PRODUCTS)
    editor.rows[0].error = "no such attribute"  # as the library's error is placed
    editing.apply(editor, "to-text", PRODUCTS)
    assert (editor.mode, editor.focus) == (editing.BUILDER, "row-0-other")


def test_the_form_fields_of_the_new_rows_make_their_rule() -> None:
    fields = [
        ("row-0-attr", "price"), ("row-0-op", "<"), ("row-0-value", ""),
        ("row-0-against", "attribute"), ("row-0-other", "original_price"),
        ("row-1-attr", "tags"), ("row-1-op", "none starts with"), ("row-1-value", " test "),
        ("row-2-attr", "count(tags)"), ("row-2-op", "between"),
        ("row-2-value", "1"), ("row-2-value", " 3"),
    ]  # fmt: skip
    editor = editing.from_form(fields, PRODUCTS)
    editing.apply(editor, "to-text", PRODUCTS)
    assert editor.text == (
        "price < original_price\nAND NONE tags STARTS WITH 'test'\nAND count(tags) BETWEEN 1 AND 3"
    )


def test_another_attribute_is_chosen_at_once_and_only_where_it_compares() -> None:
    fields = [
        ("row-0-shown", "price"), ("row-0-shownop", "<"), ("row-0-shownagainst", ""),
        ("row-0-attr", "price"), ("row-0-op", "<"), ("row-0-against", "attribute"),
        ("row-1-shown", "price"), ("row-1-shownop", "<"),
        ("row-1-attr", "price"), ("row-1-op", "between"), ("row-1-against", "attribute"),
        ("row-2-shown", "price"), ("row-2-attr", "stock"), ("row-2-op", "<"),
        ("row-2-against", "attribute"), ("row-2-other", "original_price"),
    ]  # fmt: skip
    editor = editing.from_form(fields, PRODUCTS)
    first, between, changed = editor.rows
    assert (first.against, first.other) == (AGAINST, "original_price")  # the first number
    assert editor.focus == "row-0-other"  # what took the value's place
    assert (between.against, between.other) == ("", "")  # BETWEEN takes values
    assert (changed.against, changed.other) == ("", "")  # a new attribute starts afresh
    fields = [
        ("row-0-shown", "price"), ("row-0-shownop", "<"), ("row-0-shownagainst", "attribute"),
        ("row-0-attr", "stock"), ("row-0-op", "<"), ("row-0-against", "attribute"),
    ]  # fmt: skip
    assert editing.from_form(fields, PRODUCTS).focus == ""  # left on the attribute chosen


def test_an_anniversary_row_starts_at_today() -> None:
    fields = [("row-0-shown", "birthday"), ("row-0-attr", "anniversary(birthday)")]
    editor = editing.from_form(fields, CUSTOMERS)
    assert editor.rows == [Row("anniversary(birthday)", "=", ["today"])]
    fields = [("row-0-shown", "anniversary(birthday)"), ("row-0-shownop", "="),
              ("row-0-attr", "anniversary(birthday)"), ("row-0-op", "between"),
              ("row-0-value", "today")]  # fmt: skip
    assert editing.from_form(fields, CUSTOMERS).rows[0].values == ["today", "+7d"]


# -- through the page, without JavaScript ------------------------------------------------------


def labels(page: str, path: str = "0", number: int = 1) -> list[tuple[str, str]]:
    return re.findall(
        rf'<label for="row-{path}-(\w+)"><span class="visually-hidden">'
        rf"Condition {number}: </span>(?:<span[^>]*>)?([^<]*)<",
        page,
    )


def test_the_new_rows_draw_their_controls_labelled_with_their_row(signed_in: Visitor) -> None:
    fields = {"kind": "product", "mode": "builder", "row-0-attr": "price", "row-0-op": "<",
              "row-0-against": "attribute", "row-0-other": "original_price",
              "row-1-attr": "count(tags)", "row-1-op": "between",
              "row-2-attr": "tags", "row-2-op": "any starts with", "action": "refresh"}  # fmt: skip
    page = signed_in.post("/rule/editor", fields).text
    assert labels(page) == [("attr", "Attribute"), ("op", "Operator"),
                            ("other", "Other attribute"), ("against", "Compare with")]  # fmt: skip
    others = page[
        page.index('id="row-0-other"') : page.index("</select>", page.index("row-0-other"))
    ]
    assert '<option value="original_price" selected>Original Price</option>' in others
    assert 'value="stock"' in others  # an integer compares with a number
    assert 'value="name"' not in others
    assert 'value="price"' not in others
    assert labels(page, "1", 2) == [("attr", "Attribute"), ("op", "Operator"),
                                    ("value", "From"), ("value2", "to")]  # fmt: skip
    assert '<option value="count(tags)" selected>Number of Tags</option>' in page
    assert '<option value="any starts with" selected>any item starts with</option>' in page
    assert ("against", "Compare with") not in labels(page, "2", 3)
    assert 'list="row-2-values"' in page  # the shop's tags suggested for each item
    assert '<option value="sale" label="1 product">' in page


def test_an_anniversary_segment_previews_saves_and_opens_again_as_rows(
    signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.patch("customer", "c2", {"birthday": "1990-01-01", "tags": ["vip-gold"]})
    rows = {"mode": "builder", "row-0-attr": "anniversary(birthday)", "row-0-op": "between",
            "row-0-value": ["today", "+366d"], "row-1-attr": "tags",
            "row-1-op": "any starts with", "row-1-value": "VIP"}  # fmt: skip
    preview = signed_in.post("/rule/preview", {"kind": "customer", **rows})
    assert '<strong id="preview-count">1</strong>' in preview.text
    text = "anniversary(birthday) BETWEEN today AND +366d AND ANY tags STARTS WITH 'VIP'"
    assert text.replace("'", "&#39;") in preview.text
    form = {"name": "Birthdays", "code": "birthdays", "type": "dynamic", "status": "active",
            "description": "", "action": "save", **rows}  # fmt: skip
    saved = signed_in.post("/customers/segments/new", form)
    assert saved.url.path == "/segments/birthdays"
    assert tenant.shop.segment("birthdays").rule_text == text
    edit = signed_in.get("/segments/birthdays/edit").text
    assert '<option value="anniversary(birthday)" selected>Anniversary of Birthday</option>' in edit
    assert 'id="row-0-value2" name="row-0-value" value="+366d"' in edit
    assert '<option value="any starts with" selected>' in edit


def test_a_problem_with_the_other_attribute_is_shown_at_the_row(signed_in: Visitor) -> None:
    fields = {"kind": "product", "mode": "builder", "row-0-attr": "published_at",
              "row-0-op": "<", "row-0-against": "attribute", "row-0-other": "nope"}  # fmt: skip
    page = signed_in.post("/rule/preview", fields)
    assert "nope" in field_error(page, "row-0")
