"""The rule editor: what the builder shows of a rule as rows, the rule it makes, and
the editor's state as its buttons change it."""

from __future__ import annotations

from typing import Any

import pytest

from segmentry.model.schema import Kind, Schema, declare
from segmentry.rules.jsonform import to_json
from segmentry.rules.parser import parse
from segmentry.web.editor import builder, editing, shapes
from segmentry.web.editor.builder import Group, Row, Widget, widget

LOYALTY = declare(Kind.CUSTOMER, "loyalty_status", "enum", values=["Bronze", "Silver", "Gold"])
CUSTOMERS = {a.key: a for a in Schema(Kind.CUSTOMER, (LOYALTY,))}
PRODUCTS = {a.key: a for a in Schema(Kind.PRODUCT)}

SHOWN_AS_ROWS = [
    "price > 100",
    "brand = 'Nike' AND price > 100",
    "price BETWEEN 50 AND 100 AND available = true",
    "tags CONTAINS ANY ('a', 'b') AND (brand = 'Nike' OR brand = 'Adidas')",
    "brand IS NULL OR stock <= 0",
    "created_at > -30d AND NOT IN SEGMENT 'vip' AND IN SEGMENT 'new'",
    "name STARTS WITH 'Air' AND sku MATCHES '^AB-[0-9]+$'",
]


def rows_of(text: str, attributes: builder.Attributes = PRODUCTS) -> list[builder.Item] | None:
    return builder.rows_from_rule(to_json(parse(text)), attributes)


@pytest.mark.parametrize("text", SHOWN_AS_ROWS)
def test_rows_give_back_exactly_the_rule_they_show(text: str) -> None:
    items = rows_of(text)
    assert items is not None
    assert builder.to_rule(items, PRODUCTS) == to_json(parse(text))


@pytest.mark.parametrize(
    "text",
    [
        "NOT (brand = 'Nike' OR brand = 'Adidas')",
        "NOT brand = 'Nike'",
        "price > 1 OR (brand = 'Nike' AND stock > 0)",
        "(price > 1 OR stock > 1) AND (brand = 'a' OR (brand = 'b' AND stock = 2))",
        "tags CONTAINS ANY ('a, b', 'c')",  # a comma inside a value: one box cannot hold it
        "revenue(since: today) > 100",  # a window rows cannot say
        "price > 1 AND NOT units_sold(country = 'ES') >= 2",  # a negated count
        "brand = 'a' OR revenue(country = 'ES') > 5",  # a condition richer than a segment
    ],
)
def test_rules_rows_cannot_show_stay_in_text(text: str) -> None:
    assert rows_of(text) is None
    editor = editing.Editor(editing.TEXT, text=text)
    editing.to_builder(editor, PRODUCTS)
    assert editor.mode == editing.TEXT
    assert editor.note == editing.NO_ROWS_NOTE


def test_a_saved_behaviour_rule_opens_as_its_text() -> None:
    text = "NOT purchased(brand = 'Nike', since: -30d) AND orders_placed() >= 2"
    editor = editing.from_rule(to_json(parse(text)), CUSTOMERS)
    assert (editor.mode, editor.text, editor.note) == (editing.TEXT, text, editing.NO_ROWS_NOTE)


def test_enum_values_come_back_in_their_declared_spelling() -> None:
    items = rows_of("loyalty_status IN ('gold', 'SILVER') AND PLATFORM = 'ios'", CUSTOMERS)
    assert items == [
        Row("loyalty_status", "in", ["Gold", "Silver"]),
        Row("platform", "=", ["ios"]),
    ]


@pytest.mark.parametrize(
    ("row", "error"),
    [
        (Row("price", ">", ["lots"]), "'lots' is not a number; write it like 100 or 19.99"),
        (Row("price", ">", ["inf"]), "'inf' is not a number; write it like 100 or 19.99"),
        (Row("price", "between", ["1", ""]), "Enter both ends of the range."),
        (Row("available", "=", ["maybe"]), "Choose yes or no."),
        (Row("brand", "in", [" , "]), "Enter one or more values, separated by commas."),
        (Row("price", "sounds like", ["1"]), "Choose an operator."),
        (Row(builder.SEGMENT, builder.IN_SEGMENT, [""]), "Choose a segment."),
    ],
)
def test_a_value_that_cannot_be_read_is_an_error_at_its_row(row: builder.Row, error: str) -> None:
    assert builder.to_rule([row], PRODUCTS) is None
    assert row.error == error


def test_a_value_not_typed_yet_waits_instead_of_failing() -> None:
    row = Row("price", ">", [""])
    assert builder.to_rule([row], PRODUCTS, strict=False) is None
    assert (row.pending, row.error) == (True, "")
    assert builder.to_rule([Row("price", ">", [""])], PRODUCTS) is None  # saving: an error


def test_values_are_typed_by_the_attribute() -> None:
    rows: list[builder.Item] = [
        Row("price", "in", ["10, 19.5"]),
        Row("available", "!=", ["no"]),
        Row("brand", "=", [" Nike "]),
        Group([Row("stock", "<", ["3"]), Row("tags", "is null", [])]),
        Row(""),  # not filled in: ignored
    ]
    rule: Any = builder.to_rule(rows, PRODUCTS)
    assert rule == {"and": [
        {"attr": "price", "op": "in", "value": [10, 19.5]},
        {"attr": "available", "op": "!=", "value": False},
        {"attr": "brand", "op": "=", "value": "Nike"},  # trimmed: a space typed is a slip
        {"or": [{"attr": "stock", "op": "<", "value": 3}, {"attr": "tags", "op": "is null"}]},
    ]}  # fmt: skip


def test_form_fields_make_rows_and_groups_in_order() -> None:
    fields = [
        ("row-0-attr", "price"), ("row-0-op", ">"), ("row-0-value", "100"),
        ("group-1", "any"),
        ("row-1.0-attr", "brand"), ("row-1.0-op", "="), ("row-1.0-value", "Nike"),
        ("row-1.1-attr", "price"), ("row-1.1-op", "between"),
        ("row-1.1-value", "1"), ("row-1.1-value", "5"),
        ("csrf_token", "x"), ("row-999999-attr", "ignored: not a row field"),
    ]  # fmt: skip
    assert builder.rows_from_form(fields) == [
        Row("price", ">", ["100"]),
        Group([Row("brand", "=", ["Nike"]), Row("price", "between", ["1", "5"])]),
    ]


def test_too_many_rows_are_refused() -> None:
    fields = [(f"row-{i}-attr", "price") for i in range(builder.MAX_ROWS + 1)]
    with pytest.raises(builder.BuilderError, match="at most 200 rows"):
        builder.rows_from_form(fields)


def test_operators_and_value_inputs_fit_the_attribute_type() -> None:
    def ops(key: str) -> list[str]:
        return builder.operators(CUSTOMERS[key], key)

    assert ops("app_installed") == ["=", "!=", "is null", "is not null"]
    assert ops("tags")[:7] == ["contains", "not contains", "contains any", "contains all",
                               "contains none", "is null", "is not null"]  # fmt: skip
    assert ops("tags")[7:] == list(shapes.EACH_ROW_OPS)  # then "any item is"…
    assert "between" in ops("lifetime_value")
    assert "starts with" not in ops("lifetime_value")
    assert builder.label(">", CUSTOMERS["last_order_at"]) == "after"
    assert widget(CUSTOMERS["loyalty_status"], "loyalty_status", "=") is Widget.SELECT
    assert widget(CUSTOMERS["loyalty_status"], "loyalty_status", "in") is Widget.MULTI
    assert widget(CUSTOMERS["platform"], "platform", "starts with") is Widget.TEXT
    assert widget(CUSTOMERS["lifetime_value"], "lifetime_value", "between") is Widget.PAIR
    assert widget(CUSTOMERS["lifetime_value"], "lifetime_value", "not between") is Widget.PAIR
    assert widget(CUSTOMERS["tags"], "tags", "is null") is Widget.NONE


def test_switching_to_text_and_back_keeps_the_rule() -> None:
    editor = editing.Editor(items=rows_of("brand = 'Nike' AND (price > 100 OR stock = 0)") or [])
    editing.apply(editor, "to-text", PRODUCTS)
    assert (editor.mode, editor.text) == (
        editing.TEXT,
        "brand = 'Nike' AND (price > 100 OR stock = 0)",
    )
    editing.apply(editor, "to-builder", PRODUCTS)
    assert editor.mode == editing.BUILDER
    assert builder.to_rule(editor.items, PRODUCTS) == to_json(parse(editor.text))


def test_buttons_add_and_remove_rows_and_groups() -> None:
    editor = editing.Editor(items=[Row("price", ">", ["1"])])
    editing.apply(editor, "add-group", PRODUCTS)
    editing.apply(editor, "add-to:1", PRODUCTS)
    assert [len(i.rows) for i in editor.items if isinstance(i, builder.Group)] == [3]
    assert editing.paths(editor) == ["0", "1.0", "1.1", "1.2"]
    for _ in range(3):
        editing.apply(editor, "remove:1.0", PRODUCTS)
    assert editor.items == [Row("price", ">", ["1"])]  # the emptied group is gone
    editing.apply(editor, "remove:7", PRODUCTS)  # nothing there: nothing happens
    editing.apply(editor, "remove:0", PRODUCTS)
    assert editor.items == []


def test_text_that_does_not_parse_stays_text_with_its_errors() -> None:
    editor = editing.Editor(editing.TEXT, text="price >")
    editing.apply(editor, "to-builder", PRODUCTS)
    assert editor.mode == editing.TEXT
    assert editor.text_errors
    assert editor.text_errors[0].line == 1


def test_dates_as_people_say_them_are_relative_literals_both_ways() -> None:
    customers = {a.key: a for a in Schema(Kind.CUSTOMER)}
    rows: list[builder.Item] = [
        Row("last_order_at", "in the last", ["30", "d"]),
        Row("created_at", "more than ago", [" 2 ", "y"]),
        Row("birthday", "between", ["2024-01-01", "2024-12-31"]),
        Row("created_at", ">", ["-30d "]),  # a trailing space is not a type error
    ]
    rule: Any = builder.to_rule(rows, customers)
    assert rule == {"and": [
        {"attr": "last_order_at", "op": ">", "value": "-30d"},
        {"attr": "created_at", "op": "<", "value": "-2y"},
        {"attr": "birthday", "op": "between", "value": ["2024-01-01", "2024-12-31"]},
        {"attr": "created_at", "op": ">", "value": "-30d"},
    ]}  # fmt: skip
    back = builder.rows_from_rule(rule, customers)
    assert back is not None
    assert [(r.op, r.values) for r in builder.flat(back)] == [
        ("in the last", ["30", "d"]),
        ("more than ago", ["2", "y"]),
        ("between", ["2024-01-01", "2024-12-31"]),
        ("in the last", ["30", "d"]),
    ]
    assert builder.widget(customers["birthday"], "birthday", "<") is builder.Widget.DATE
    assert builder.label("=", customers["birthday"]) == "on"
    bad = Row("created_at", "in the last", ["a month"])
    assert builder.to_rule([bad], customers) is None
    assert bad.error == "'a month' is not a whole number; write it like 30"


def test_a_value_with_spaces_around_it_stays_text_rather_than_be_trimmed_unseen() -> None:
    assert builder.rows_from_rule({"attr": "brand", "op": "=", "value": " Nike "}, PRODUCTS) is None
