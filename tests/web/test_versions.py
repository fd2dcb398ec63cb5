"""A segment's versions, what each changed, restore, and duplicate, over HTTP."""

from __future__ import annotations

from segmentry.engine.types import SegmentEdit, SegmentSpec, SegmentType
from tests.web.conftest import Tenant, Visitor


def test_versions_say_what_changed_and_a_stale_restore_changes_nothing(
    signed_in: Visitor, tenant: Tenant
) -> None:
    shop = tenant.shop
    shop.create_segment(SegmentSpec(kind="product", code="dear", name="Dear", rule="price > 100"))
    shop.edit_segment("dear", SegmentEdit(rule="price > 150"))
    page = " ".join(signed_in.get("/segments/dear/versions").text.split())
    assert "<dt>Rule</dt><dd><del>price &gt; 100</del> → <ins>price &gt; 150</ins></dd>" in page
    assert 'name="restore" value="1">Restore version 1</button>' in page
    assert 'value="2">Restore version 2' not in page  # the current one
    shop.edit_segment("dear", SegmentEdit(name="Dearer"))  # someone saves meanwhile
    stale = signed_in.post("/segments/dear/versions", {"restore": "1", "version": "2"})
    assert stale.status_code == 409
    assert "Nothing was restored." in stale.text
    assert shop.segment("dear").version == 3
    done = signed_in.post("/segments/dear/versions", {"restore": "1", "version": "3"})
    assert done.url.params["notice"] == "restored"
    assert (shop.segment("dear").rule_text, shop.segment("dear").name) == ("price > 100", "Dear")
    assert shop.segment("dear").version == 4


def test_a_duplicate_is_only_a_filled_in_form_and_says_members_are_not_copied(
    signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.create_segment(SegmentSpec(kind="customer", code="vip", name="VIP",
                                           type=SegmentType.FIXED, members=["c1"]))  # fmt: skip
    tenant.shop.create_segment(SegmentSpec(kind="customer", code="vipCopy", name="Taken",
                                           type=SegmentType.FIXED))  # fmt: skip
    form = signed_in.get("/segments/vip/duplicate")
    assert 'value="Copy of VIP"' in form.text
    assert 'value="vipCopy2"' in form.text  # vipCopy is taken
    assert "its members are not copied" in form.text
    assert 'id="type-fixed" name="type" value="fixed" checked' in form.text
    assert len(tenant.shop.segments("customer")) == 2
