"""Bad form input: a clear message at the field, a 4xx, never a 500, nothing written."""

from __future__ import annotations

import re

import httpx

from segmentry.engine.types import SegmentEdit, SegmentSpec
from tests.web.conftest import Tenant, Visitor

PRICE_ROW = {"mode": "builder", "row-0-attr": "price", "row-0-op": ">", "row-0-value": "100"}


def field_error(page: httpx.Response, field: str) -> str:
    """The message shown at a field (its ``…-error`` element)."""
    found = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page.text)
    assert found, f"no error element for {field}"
    return found[1].strip()


def new_segment(visitor: Visitor, **fields: str) -> httpx.Response:
    form = {
        "name": "Pricey",
        "code": "pricey",
        "type": "dynamic",
        "status": "active",
        "description": "",
        "kind": "product",
        "action": "save",
        **PRICE_ROW,
        **fields,
    }
    return visitor.post("/products/segments/new", form)


def test_a_good_form_creates_the_segment(signed_in: Visitor, tenant: Tenant) -> None:
    page = new_segment(signed_in)
    assert page.url.path == "/segments/pricey"
    assert '<dd id="member-count">2</dd>' in page.text
    assert tenant.shop.segment("pricey").rule_text == "price > 100"


def test_a_bad_code_is_shown_at_the_code_field_and_nothing_is_saved(
    signed_in: Visitor, tenant: Tenant
) -> None:
    page = new_segment(signed_in, code="9 lives", name="Kept name")
    assert page.status_code == 400
    assert "must start with a letter" in field_error(page, "f-code")
    assert 'value="Kept name"' in page.text
    assert tenant.shop.segments() == []


def test_a_taken_code_and_a_missing_name_are_shown_at_their_fields(
    signed_in: Visitor, tenant: Tenant
) -> None:
    new_segment(signed_in)
    taken = new_segment(signed_in, name="Again")
    assert taken.status_code == 400
    assert "already exists" in field_error(taken, "f-code")
    nameless = new_segment(signed_in, code="other", name="  ")
    assert nameless.status_code == 400
    assert field_error(nameless, "f-name")
    assert [s.code for s in tenant.shop.segments()] == ["pricey"]


def test_a_rule_error_in_text_is_shown_at_its_line_and_column(
    signed_in: Visitor, tenant: Tenant
) -> None:
    text = {"mode": "text", "rule_text": "brand = 'Nike'\nAND prce > 100"}
    page = new_segment(signed_in, **text)
    assert page.status_code == 400
    assert "<strong>Line 2, column 5:</strong> unknown attribute &#39;prce&#39;" in page.text
    assert "did you mean &#39;price&#39;?" in page.text
    assert "AND prce &gt; 100\n    ^^^^</pre>" in page.text
    assert tenant.shop.segments() == []


def test_a_surrogate_escape_in_a_rule_is_shown_at_its_position(
    signed_in: Visitor, tenant: Tenant
) -> None:
    text = {"mode": "text", "rule_text": "name = '\\ud800'"}
    message = "<strong>Line 1, column 9:</strong> U+D800 is a lone surrogate, not a character"
    page = new_segment(signed_in, **text)
    assert page.status_code == 400
    assert message in page.text
    assert tenant.shop.segments() == []
    preview = signed_in.post("/rule/preview", {"kind": "product", **text})
    assert message in preview.text
    listed = signed_in.get("/products?rule=name = 'x\\ud800'")
    assert listed.status_code == 400
    assert "Line 1, column 10:" in listed.text
    assert "U+D800 is a lone surrogate" in listed.text


def test_a_form_that_is_not_utf8_is_refused_not_saved_with_u_fffd(
    signed_in: Visitor, tenant: Tenant
) -> None:
    form = "&".join(f"{k}={v}" for k, v in {**PRICE_ROW, "name": "Caf%E9", "code": "cafe",
        "type": "dynamic", "status": "active", "kind": "product", "action": "save",
        "csrf_token": signed_in.token}.items())  # fmt: skip
    page = signed_in.http.post("/products/segments/new", content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert page.status_code == 400
    assert "The form is not UTF-8 text" in page.text
    assert tenant.shop.segments() == []


def test_a_bad_value_in_a_row_is_shown_at_that_row(signed_in: Visitor, tenant: Tenant) -> None:
    rows = {"row-1-attr": "brand", "row-1-op": "=", "row-1-value": "Nike", "row-0-value": "lots"}
    page = new_segment(signed_in, **rows)
    assert page.status_code == 400
    assert (
        field_error(page, "row-0") == "&#39;lots&#39; is not a number; write it like 100 or 19.99"
    )
    assert field_error(page, "row-1") == ""
    assert tenant.shop.segments() == []


def test_an_engine_error_lands_on_the_row_it_is_about(signed_in: Visitor) -> None:
    rows = {
        "row-1-attr": "tags",
        "row-1-op": "contains",
        "row-1-value": "sale",
        "row-2-attr": "name",
        "row-2-op": "matches",
        "row-2-value": "(unclosed",
    }
    page = signed_in.post("/rule/preview", {"kind": "product", **PRICE_ROW, **rows})
    assert page.status_code == 200
    assert field_error(page, "row-0") == ""
    assert field_error(page, "row-1") == ""
    assert "pattern" in field_error(page, "row-2")
    assert "Fix the rule to see how many products it selects." in page.text


def test_filters_and_cursors_that_make_no_sense_are_refused_clearly(
    signed_in: Visitor, tenant: Tenant
) -> None:
    listed = signed_in.get("/products/segments?type=weird&status=active")
    assert listed.status_code == 400
    assert field_error(listed, "filter-type") == "Choose a type: dynamic, fixed."
    new_segment(signed_in)
    paged = signed_in.get("/segments/pricey/members?cursor=abc")
    assert paged.status_code == 400
    assert "is not a cursor this list gave out" in paged.text
    ruled = signed_in.get("/products?rule=price >")
    assert ruled.status_code == 400
    assert "Line 1, column" in ruled.text
    assert signed_in.get("/planets/segments").status_code == 404
    assert signed_in.get("/why?segment=pricey&id=").status_code == 400


def test_an_oversized_form_is_refused_before_it_is_read(signed_in: Visitor) -> None:
    huge = signed_in.post("/products/segments/new", {"description": "x" * 1_100_000})
    assert huge.status_code == 413


def test_without_javascript_the_editor_buttons_still_work(signed_in: Visitor) -> None:
    more = new_segment(signed_in, action="add-group")
    assert more.status_code == 200
    assert 'name="group-1" value="any"' in more.text
    assert more.text.count('class="row') >= 3  # the price row and the group's two rows
    as_text = new_segment(signed_in, action="to-text")
    assert ">price &gt; 100</textarea>" in as_text.text


def test_a_stale_edit_is_shown_as_a_conflict_and_kept(signed_in: Visitor, tenant: Tenant) -> None:
    new_segment(signed_in)
    edit_page = signed_in.get("/segments/pricey/edit")
    assert 'name="version" value="1"' in edit_page.text
    tenant.shop.edit_segment("pricey", SegmentEdit(name="Their name"))  # someone else saves
    mine = {
        "name": "My name",
        "code": "pricey",
        "description": "",
        "status": "active",
        "version": "1",
        "original_code": "pricey",
        "action": "save",
        "kind": "product",
        "mode": "text",
        "rule_text": "price > 150",
    }
    conflict = signed_in.post("/segments/pricey/edit", mine)
    assert conflict.status_code == 409
    assert "Someone else saved this segment while you were editing" in conflict.text
    assert "<dd>Their name</dd>" in conflict.text
    assert 'value="My name"' in conflict.text  # the user's edit is still in the form
    assert ">price &gt; 150</textarea>" in conflict.text
    assert 'name="version" value="2"' in conflict.text
    assert tenant.shop.segment("pricey").name == "Their name"
    saved = signed_in.post("/segments/pricey/edit", {**mine, "version": "2"})
    assert saved.url.path == "/segments/pricey"
    assert (tenant.shop.segment("pricey").name, tenant.shop.segment("pricey").member_count) == (
        "My name",
        1,
    )


def test_an_edit_that_removes_every_row_asks_for_a_condition(
    signed_in: Visitor, tenant: Tenant
) -> None:
    new_segment(signed_in)
    form = {
        "name": "Pricey",
        "code": "pricey",
        "description": "",
        "status": "active",
        "version": "1",
        "action": "save",
        "mode": "builder",
    }
    page = signed_in.post("/segments/pricey/edit", form)
    assert page.status_code == 400
    assert field_error(page, "f-rule").startswith("Add at least one condition")
    assert tenant.shop.segment("pricey").version == 1


def test_fragments_that_do_not_say_their_kind_are_refused(signed_in: Visitor) -> None:
    refused = signed_in.post("/rule/preview", {"kind": "planet", "mode": "text"})
    assert refused.status_code == 400
    assert "does not say which kind" in refused.text


def test_declaring_attributes(signed_in: Visitor, tenant: Tenant) -> None:
    form = {
        "key": "loyalty_status",
        "label": "Loyalty Status",
        "type": "enum",
        "values": "Bronze, Silver\nGold",
    }
    declared = signed_in.post("/customers/attributes", form)
    assert declared.url.path == "/customers/attributes"
    assert "<td>Bronze, Silver, Gold</td>" in declared.text
    again = signed_in.post("/customers/attributes", form)
    assert again.status_code == 400
    assert "already" in field_error(again, "a-key")
    bad = signed_in.post("/customers/attributes", {**form, "key": "Loyalty!"})
    assert "must start with a lowercase letter" in field_error(bad, "a-key")
    shadow = signed_in.post(
        "/customers/attributes", {**form, "key": "email", "type": "string", "values": ""}
    )
    assert "shadow" in field_error(shadow, "a-key")
    no_values = signed_in.post("/customers/attributes", {**form, "key": "tier", "values": ""})
    assert "needs between 1 and" in field_error(no_values, "a-values")
    keys = [a.key for a in tenant.shop.attributes("customer") if not a.builtin]
    assert keys == ["loyalty_status"]


def test_a_builder_rule_can_use_a_new_custom_enum(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.declare_attribute("customer", "tier", "enum", values=["Bronze", "Gold"])
    rows = {
        "kind": "customer",
        "mode": "builder",
        "row-0-attr": "tier",
        "row-0-op": "=",
        "row-0-value": "Gold",
        "row-0-shown": "tier",
    }
    page = signed_in.post("/rule/editor", {**rows, "action": "refresh"})
    assert '<option value="Gold" selected>Gold</option>' in page.text
    assert '<code id="rule-as-text">tier = &#39;Gold&#39;</code>' in page.text


def test_existing_segments_save_with_a_preview_of_who_enters_and_leaves(
    signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.create_segment(
        SegmentSpec(kind="product", code="cheap", name="Cheap", rule="price < 30")
    )
    form = {"original_code": "cheap", "mode": "text", "rule_text": "price < 150"}
    preview = signed_in.post("/rule/preview", form)
    assert '<strong id="preview-entering">1</strong>' in preview.text
    assert '<strong id="preview-leaving">0</strong>' in preview.text
    assert '<a href="/product/p1">Air Zoom <span class="id">p1</span></a>' in preview.text


def test_a_status_change_from_a_stale_page_changes_nothing(
    signed_in: Visitor, tenant: Tenant
) -> None:
    new_segment(signed_in)
    tenant.shop.edit_segment("pricey", SegmentEdit(name="Renamed meanwhile"))
    stale = signed_in.post("/segments/pricey/status", {"status": "inactive", "version": "1"})
    assert "Someone changed this segment meanwhile" in stale.text
    assert signed_in.post("/segments/pricey/status", {"status": "inactive"}).status_code == 400
    assert tenant.shop.segment("pricey").status.value == "active"
    done = signed_in.post("/segments/pricey/status", {"status": "inactive", "version": "2"})
    assert "Segment deactivated." in done.text
    assert tenant.shop.segment("pricey").member_count == 0


def test_every_problem_of_a_form_is_listed_at_once_in_sentences(
    signed_in: Visitor, tenant: Tenant
) -> None:
    new_segment(signed_in)
    page = new_segment(signed_in, name=" ", **{"row-0-attr": "prce"})  # code taken too
    assert page.status_code == 400
    summary = " ".join(page.text[page.text.index('id="form-problems"') :].split())
    summary = summary[: summary.index("</section>")]
    assert "Nothing was saved: 3 problems to fix" in summary
    assert '<a href="#f-name">Name</a>: Enter a name.' in summary
    taken = "A segment with the code &#39;pricey&#39; already exists."
    assert f'<a href="#f-code">Code</a>: {taken}' in summary
    assert '<a href="#rule-editor">Rule</a>: Fix the rule' in summary
    assert field_error(page, "f-name") == "Enter a name."
    assert [s.code for s in tenant.shop.segments()] == ["pricey"]


def test_enter_in_a_field_does_not_send_the_form(signed_in: Visitor) -> None:
    page = signed_in.get("/products/segments/new")
    default = re.search(r'<button type="submit"[^>]*class="default-submit"[^>]*>', page.text)
    assert default is not None
    assert " disabled" in default[0]  # a disabled default button: Enter submits nothing


def test_a_saved_edit_says_so_and_only_known_notices_show(
    signed_in: Visitor, tenant: Tenant
) -> None:
    new_segment(signed_in)
    form = {"name": "Dear", "code": "pricey", "description": "", "status": "active",
            "version": "1", "original_code": "pricey", "action": "save", **PRICE_ROW}  # fmt: skip
    saved = signed_in.post("/segments/pricey/edit", form)
    assert saved.url.params["notice"] == "saved"
    assert '<p class="notice" role="status" id="notice">Saved.</p>' in saved.text
    forged = signed_in.get("/segments/pricey", params={"notice": "hacked by <b>x</b>"})
    assert 'id="notice"' not in forged.text


def test_the_rule_language_help_is_a_page_of_the_site(signed_in: Visitor) -> None:
    editor = signed_in.get("/products/segments/new")
    assert '<a href="/help/rules"' in editor.text
    help_page = signed_in.get("/help/rules")
    assert help_page.status_code == 200
    assert "<code>CONTAINS ANY</code>" in help_page.text
