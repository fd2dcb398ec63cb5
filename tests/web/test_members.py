"""Members: pages, CSV export, a fixed segment's list, uses and delete."""

from __future__ import annotations

import csv
import io

from segmentry.engine.types import SegmentSpec, SegmentType, Use, UseType
from tests.web.conftest import Tenant, Visitor


def fixed(tenant: Tenant, members: list[str] | None = None) -> None:
    tenant.shop.create_segment(
        SegmentSpec(
            kind="customer", code="vip", name="VIP", type=SegmentType.FIXED, members=members or []
        )
    )


def test_members_come_a_page_at_a_time_with_their_main_attributes(
    signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.upsert_many("product", [{"id": f"x{i:03}", "price": 500 + i} for i in range(60)])
    tenant.shop.create_segment(
        SegmentSpec(kind="product", code="big", name="Big", rule="price > 100")
    )
    first = signed_in.get("/segments/big/members")
    assert "62 products in this segment." in first.text
    assert first.text.count('aria-label="Why is ') == 50
    assert '<td class="num">120</td>' in first.text  # p1's unit price, in its column
    assert '<th scope="col" class="num">Unit Price</th>' in first.text
    assert 'rel="next"' in first.text
    second = signed_in.get(
        first.text.split('href="')[-1].split('" rel="next"')[0].replace("&amp;", "&")
    )
    assert second.text.count('aria-label="Why is ') == 12
    assert "x059" in second.text
    assert "x047" not in second.text


def test_the_csv_export_holds_every_member(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.create_segment(
        SegmentSpec(kind="customer", code="noOrders", name="No orders", rule="lifetime_value = 0")
    )
    export = signed_in.get("/segments/noOrders/members.csv")
    assert export.headers["content-type"].startswith("text/csv")
    assert 'filename="noOrders.csv"' in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == [
        "id",
        "member_since",
        "email",
        "first_name",
        "last_name",
        "platform",
        "lifetime_value",
    ]
    assert [(r[0], r[2], r[6]) for r in rows[1:]] == [
        ("c1", "ana@example.com", "0"),
        ("c3", "cy@example.com", "0"),
        ("c4", "di@example.com", "0"),
    ]


def test_unknown_ids_change_nothing_unless_skipped(signed_in: Visitor, tenant: Tenant) -> None:
    fixed(tenant)
    refused = signed_in.post("/segments/vip/members", {"add": "c1, ghost\nc2 phantom"})
    assert refused.status_code == 400
    assert "Nothing was changed: 2 ids name no customer of this shop" in refused.text
    assert "<li><code>ghost</code></li>" in refused.text
    assert tenant.shop.segment("vip").member_count == 0
    skipped = signed_in.post(
        "/segments/vip/members", {"add": "c1, ghost\nc2 phantom", "skip_unknown": "yes"}
    )
    assert skipped.status_code == 200
    assert "Added 2, removed 0." in skipped.text
    assert "Skipped 2 unknown ids:" in skipped.text
    assert [m.id for m in tenant.shop.members("vip").items] == ["c1", "c2"]


def test_a_csv_upload_adds_its_first_column(signed_in: Visitor, tenant: Tenant) -> None:
    fixed(tenant)
    body = b"id,note\nc2,first\nc4,second\n\nc2,again\n"
    files = {"file": ("vip.csv", body, "text/csv")}
    done = signed_in.post("/segments/vip/members/upload", files=files)
    assert done.url.params["added"] == "2"
    assert "Added 2, removed 0." in done.text
    assert [m.id for m in tenant.shop.members("vip").items] == ["c2", "c4"]


def test_a_bad_upload_is_explained_and_changes_nothing(signed_in: Visitor, tenant: Tenant) -> None:
    fixed(tenant)
    latin = signed_in.post(
        "/segments/vip/members/upload",
        files={"file": ("v.csv", "c1\ncafé".encode("latin-1"), "text/csv")},
    )
    assert latin.status_code == 400
    assert "The file is not UTF-8 text" in latin.text
    empty = signed_in.post(
        "/segments/vip/members/upload", files={"file": ("v.csv", b"id\n", "text/csv")}
    )
    assert "The file holds no ids." in empty.text
    missing = signed_in.post("/segments/vip/members/upload", {"skip_unknown": "yes"})
    assert "Choose a CSV file to upload." in missing.text
    assert tenant.shop.segment("vip").member_count == 0


def test_ticked_members_are_removed(signed_in: Visitor, tenant: Tenant) -> None:
    fixed(tenant, ["c1", "c2", "c3"])
    page = signed_in.get("/segments/vip/members")
    assert 'name="remove" value="c2"' in page.text
    done = signed_in.post("/segments/vip/members", {"remove": ["c1", "c3"]})
    assert "Added 0, removed 2." in done.text
    assert [m.id for m in tenant.shop.members("vip").items] == ["c2"]


def test_a_dynamic_segment_offers_no_list_to_edit(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.create_segment(
        SegmentSpec(kind="customer", code="rich", name="Rich", rule="lifetime_value > 100")
    )
    page = signed_in.get("/segments/rich/members")
    assert "Manage the list" not in page.text
    refused = signed_in.post("/segments/rich/members", {"add": "c1"})
    assert refused.status_code == 400
    assert "is dynamic: its members follow its rule" in refused.text


def test_delete_lists_the_uses_and_asks_again_before_forcing(
    signed_in: Visitor, tenant: Tenant
) -> None:
    fixed(tenant, ["c1"])
    tenant.shop.put_use(
        "vip", Use("spring", UseType.WORKFLOW, "Spring mail", "https://mail.example/spring")
    )
    uses = signed_in.get("/segments/vip/uses")
    assert '<th scope="row">Spring mail</th><td>workflow</td>' in uses.text
    confirm = signed_in.get("/segments/vip/delete")
    assert "Spring mail" in confirm.text
    asked = signed_in.post("/segments/vip/delete")
    assert asked.status_code == 409
    assert "This segment is in use" in asked.text
    assert "Delete anyway, although 1 use relies on it" in asked.text
    assert tenant.shop.segment("vip").member_count == 1
    gone = signed_in.post("/segments/vip/delete", {"force": "yes"})
    assert gone.url.path == "/customers/segments"
    assert "Segment <code>vip</code> was deleted. Its customers were not." in gone.text
    assert [s.code for s in tenant.shop.segments()] == []
    assert tenant.shop.get("customer", "c1").id == "c1"


def test_a_segment_other_rules_refer_to_cannot_be_forced_away(
    signed_in: Visitor, tenant: Tenant
) -> None:
    fixed(tenant, ["c1"])
    tenant.shop.create_segment(
        SegmentSpec(
            kind="customer",
            code="vipApp",
            name="VIP app",
            rule="IN SEGMENT 'vip' AND app_installed = yes",
        )
    )
    refused = signed_in.post("/segments/vip/delete", {"force": "yes"})
    assert refused.status_code == 409
    assert '<a href="/segments/vipApp/edit">VIP app</a> <code>vipApp</code>' in refused.text
    assert "Delete anyway" not in refused.text
    before = signed_in.get("/segments/vip/delete")  # shown before anyone tries
    assert '<a href="/segments/vipApp/edit">VIP app</a>' in before.text
    assert '<a class="button" href="/segments/vip">Keep it</a>' in before.text
    assert "Delete segment</button>" not in before.text
    uses = signed_in.get("/segments/vip/uses")
    assert '<a href="/segments/vipApp">VIP app</a>' in uses.text
    assert {s.code for s in tenant.shop.segments()} == {"vip", "vipApp"}


def test_typed_ids_stay_in_the_box_after_a_refusal(signed_in: Visitor, tenant: Tenant) -> None:
    fixed(tenant)
    refused = signed_in.post("/segments/vip/members", {"add": "c1, ghost"})
    assert refused.status_code == 400
    assert ">c1, ghost</textarea>" in refused.text


def test_nothing_changed_is_not_shown_as_a_success(signed_in: Visitor, tenant: Tenant) -> None:
    fixed(tenant, ["c1"])
    again = signed_in.post("/segments/vip/members", {"add": "c1"})
    assert "Added 0, removed 0" not in again.text
    assert 'class="report neutral"' in again.text
    assert "Nothing changed: the ids given were already members" in again.text
