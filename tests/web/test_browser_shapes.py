"""The rows of an attribute against another, a count, a list quantifier and an
anniversary in Chromium, with the keyboard alone on a phone-wide window: built,
matched by the text form, previewed and saved; and a rule of every condition kind
typed as text, shown as rows and printed back the same."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from segmentry.engine.types import SegmentSpec
from segmentry.rules.parser import parse
from segmentry.rules.printer import format_rule
from tests.web.browser import Site, shoot, sign_in
from tests.web.test_browser_behaviour import narrow, no_horizontal_scroll
from tests.web.test_browser_second_pass import tab_to

pytestmark = pytest.mark.xdist_group("browser")  # one browser at a time on two cores
__all__ = ["narrow"]  # the 390 px window, a fixture

BUILT = format_rule(parse(
    "price < original_price AND count(tags) >= 1 AND ANY tags STARTS WITH 'sa' "
    "AND anniversary(created_at) NOT BETWEEN today AND +7d"
))  # fmt: skip


def choose(page: Page, select: str, typed: str, value: str) -> None:
    """Type-ahead in the focused select, then let the editor re-render (500 ms after
    the select's last change), as a person reading the new row would."""
    expect(page.locator(select)).to_be_focused()
    page.keyboard.type(typed)
    expect(page.locator(select)).to_have_value(value)
    page.wait_for_timeout(600)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    expect(page.locator(select)).to_be_focused()  # the focus survived the swap


def add_row(page: Page, number: int) -> None:
    tab_to(page, page.get_by_role("button", name="Add condition"), most=20)
    page.keyboard.press("Enter")
    expect(page.locator(f"#row-{number}-attr")).to_be_focused()  # the new row's first control


def test_the_new_rows_are_built_previewed_and_saved_with_the_keyboard(
    narrow: Page, site: Site
) -> None:
    site.shop.patch("product", "p1", {"original_price": 150})  # 120: discounted, on sale
    site.shop.patch("product", "p5", {"original_price": 140})  # its full price
    page = narrow
    sign_in(page, site.key)
    page.goto("/products/segments/new")
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type("Discounted sale")
    page.keyboard.press("Tab")
    page.keyboard.type("discountedSale")

    tab_to(page, page.locator("#row-0-attr"))
    choose(page, "#row-0-attr", "Unit P", "price")
    expect(page.locator("#row-0-op")).to_be_visible()
    page.keyboard.press("Tab")
    choose(page, "#row-0-op", "less", "<")
    page.keyboard.press("Tab")  # past the value to "Compare with"
    page.keyboard.press("Tab")
    against = page.get_by_label("Condition 1: Compare with")
    expect(against).to_be_focused()
    page.keyboard.type("another")
    other = page.get_by_label("Condition 1: Other attribute")
    expect(other).to_be_focused()  # what took the value's place
    expect(other).to_have_value("original_price")
    expect(page.locator("#rule-as-text")).to_have_text("price < original_price")
    expect(page.locator("#preview-count")).to_have_text("1")

    add_row(page, 1)
    choose(page, "#row-1-attr", "Number of T", "count(tags)")
    page.keyboard.press("Tab")
    choose(page, "#row-1-op", "at l", ">=")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Condition 2: Value")).to_be_focused()
    page.keyboard.type("1")

    add_row(page, 2)
    choose(page, "#row-2-attr", "Tags", "tags")
    page.keyboard.press("Tab")
    choose(page, "#row-2-op", "any item s", "any starts with")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Condition 3: Value")).to_be_focused()
    page.keyboard.type("sa")

    add_row(page, 3)
    choose(page, "#row-3-attr", "Anniversary of C", "anniversary(created_at)")
    expect(page.get_by_label("Condition 4: Value")).to_have_value("today")
    page.keyboard.press("Tab")
    choose(page, "#row-3-op", "not b", "not between")
    expect(page.get_by_label("Condition 4: From")).to_have_value("today")
    expect(page.get_by_label("Condition 4: to")).to_have_value("+7d")
    expect(page.locator("#rule-as-text")).to_have_text(BUILT)
    expect(page.locator("#preview-count")).to_have_text("1")
    expect(page.locator(".sample")).to_contain_text("Air Zoom Pegasus")
    no_horizontal_scroll(page)
    shoot(page, "editor-shapes")

    tab_to(page, page.get_by_role("button", name="Text", exact=True), back=True, most=40)
    page.keyboard.press("Enter")
    text = page.get_by_label("Rule text")
    expect(text).to_be_focused()
    expect(text).to_have_value(BUILT)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "Rows": the same rows again
    expect(page.locator("#row-0-attr")).to_be_focused()
    expect(page.get_by_label("Condition 1: Other attribute")).to_have_value("original_price")
    expect(page.locator("#row-1-attr")).to_have_value("count(tags)")
    expect(page.locator("#row-2-op")).to_have_value("any starts with")
    expect(page.get_by_label("Condition 4: to")).to_have_value("+7d")
    no_horizontal_scroll(page)

    tab_to(page, page.get_by_role("button", name="Create segment"), most=40)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Discounted sale")).to_be_visible()
    expect(page.locator("#member-count")).to_have_text("1")
    no_horizontal_scroll(page)
    assert site.shop.segment("discountedSale").rule_text == BUILT


EVERY_KIND = (
    "platform = 'ios' AND created_at > -30d AND IN SEGMENT 'appUsers' "
    "AND amount_spent(since: -30d) > 100 AND lifetime_value > average_order_value "
    "AND tags CONTAINS NONE ('test') AND count(tags) <= 3 AND ANY tags STARTS WITH 'vip' "
    "AND anniversary(birthday) BETWEEN today AND +7d AND email NOT ENDS WITH '@example.org' "
    "AND (first_name NOT STARTS WITH 'Z' OR purchased(IN SEGMENT 'nikeSale') "
    "OR lifetime_value NOT BETWEEN 1 AND 5)"
)
SHOWN = [  # each row's attribute and operator, as the rows show them
    ("platform", "="), ("created_at", "in the last"), ("@segment", "in segment"),
    ("@amount_spent", ">"), ("lifetime_value", ">"), ("tags", "contains none"),
    ("count(tags)", "<="), ("tags", "any starts with"), ("anniversary(birthday)", "between"),
    ("email", "not ends with"), ("first_name", "not starts with"), ("@purchased", "purchased"),
    ("lifetime_value", "not between"),
]  # fmt: skip


def test_a_rule_of_every_condition_kind_shows_as_rows_and_prints_back_the_same(
    narrow: Page, site: Site
) -> None:
    site.shop.create_segment(SegmentSpec(kind="customer", code="appUsers", name="App users",
                                         rule="app_installed = true"))  # fmt: skip
    page = narrow
    sign_in(page, site.key)
    page.goto("/customers/segments/new")
    page.get_by_role("button", name="Text", exact=True).click()
    page.get_by_label("Rule text").fill(EVERY_KIND)
    expect(page.locator("#preview-count")).to_be_visible()
    page.get_by_role("button", name="Rows", exact=True).click()
    expect(page.locator("#rule-note")).to_have_count(0)  # rows, not "edit it as text"
    paths = [str(i) for i in range(10)] + ["10.0", "10.1", "10.2"]
    for path, (attr, op) in zip(paths, SHOWN, strict=True):
        expect(page.locator(f"[id='row-{path}-attr']")).to_have_value(attr)
        expect(page.locator(f"[id='row-{path}-op']")).to_have_value(op)
    expect(page.get_by_label("Condition 5: Other attribute")).to_have_value("average_order_value")
    expect(page.get_by_label("Condition 6: Value")).to_have_value("test")
    expect(page.get_by_label("Condition 9: to")).to_have_value("+7d")
    no_horizontal_scroll(page)
    canonical = format_rule(parse(EVERY_KIND))
    expect(page.locator("#rule-as-text")).to_have_text(canonical)
    page.get_by_role("button", name="Text", exact=True).click()
    expect(page.get_by_label("Rule text")).to_have_value(canonical)
