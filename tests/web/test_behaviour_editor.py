"""The segment editor with behaviour functions: the demo's rules open as rows, a rule
richer than rows can show stays in text mode with the note, and the live preview
counts and samples a behaviour rule's members as for any rule."""

from __future__ import annotations

import pytest

from segmentry.model.schema import Kind, Schema
from segmentry.rules.jsonform import to_json
from segmentry.rules.parser import parse
from segmentry.web.editor import builder, editing
from tests.web.conftest import Tenant, Visitor

CUSTOMERS = {a.key: a for a in Schema(Kind.CUSTOMER)}
RULES = [
    "orders_placed() > 0 AND orders_placed(since: -90d) = 0",
    "purchased(IN SEGMENT 'premiumProducts', since: -30d)",
    "app_installed = true AND amount_spent(since: -1y) > 100",
]


@pytest.mark.parametrize("text", RULES)
def test_the_demo_behaviour_rules_open_as_rows(text: str) -> None:
    assert builder.rows_from_rule(to_json(parse(text)), CUSTOMERS) is not None


@pytest.mark.parametrize("text", ["purchased(brand = 'Nike')", "NOT amount_spent() > 5"])
def test_a_richer_behaviour_rule_stays_in_text_mode_with_the_note(text: str) -> None:
    assert builder.rows_from_rule(to_json(parse(text)), CUSTOMERS) is None
    editor = editing.Editor(editing.TEXT, text=text)
    editing.to_builder(editor, CUSTOMERS)
    assert editor.mode == editing.TEXT
    assert editor.note == editing.NO_ROWS_NOTE


def test_the_live_preview_counts_a_behaviour_rule(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.put_orders([
        {"id": "o1", "customer_id": "c1", "placed_at": "2024-01-05T10:00:00Z",
         "lines": [{"product_id": "p3", "quantity": 1, "unit_price": 180}]},
        {"id": "o2", "customer_id": "c2", "placed_at": "2024-02-05T10:00:00Z",
         "lines": [{"product_id": "p4", "quantity": 2, "unit_price": 9.5}]},
        {"id": "o3", "customer_id": "c2", "placed_at": "2024-03-05T10:00:00Z",
         "lines": [{"product_id": "p4", "quantity": 1, "unit_price": 9.5}]},
    ])  # fmt: skip
    form = {"kind": "customer", "mode": "text", "rule_text": "orders_placed() >= 2"}
    preview = signed_in.post("/rule/preview", form)
    assert preview.status_code == 200
    assert '<strong id="preview-count">1</strong>' in preview.text
    assert "c2" in preview.text
    wrong = {"kind": "product", "mode": "text", "rule_text": "orders_placed() >= 2"}
    refused = signed_in.post("/rule/preview", wrong)
    assert "customer" in refused.text  # a customer function in a product rule, said so
