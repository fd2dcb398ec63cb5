"""Every POST must carry the session's CSRF token; one without it changes nothing."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from segmentry.engine.segmentry import Segmentry
from segmentry.engine.types import SegmentSpec, SegmentType
from segmentry.web.app import create_web_app
from tests.web.conftest import Tenant, Visitor

CONCRETE = {"{kinds}": "products", "{code}": "vip", "{webhook_id}": "wh_0"}


def post_paths(segmentry: Segmentry) -> list[str]:
    """Every POST path of the web page, with its parameters filled in."""
    routes = create_web_app(segmentry).routes
    posts = [r for r in routes if isinstance(r, Route) and r.methods and "POST" in r.methods]
    return [re.sub(r"\{\w+\}", lambda m: CONCRETE[m[0]], r.path) for r in posts]


def test_every_post_route_refuses_a_missing_or_wrong_token(
    segmentry: Segmentry, signed_in: Visitor, tenant: Tenant
) -> None:
    tenant.shop.create_segment(
        SegmentSpec(kind="customer", code="vip", name="VIP", type=SegmentType.FIXED)
    )
    paths = post_paths(segmentry)
    assert len(paths) >= 10  # sign-in, sign-out, editor, members, delete, ...
    form = {"api_key": tenant.key, "add": "c1", "name": "X", "code": "x", "key": "k"}
    for path in paths:
        for token in ("", "forged-token"):
            refused = signed_in.http.post(path, data={**form, "csrf_token": token})
            assert refused.status_code == 403, path
            assert "Reload the page and try again." in refused.text
    assert tenant.shop.segment("vip").member_count == 0
    assert [s.code for s in tenant.shop.segments()] == ["vip"]
    assert signed_in.get("/products/segments").url.path == "/products/segments"  # still in


def test_htmx_sends_the_token_as_a_header(signed_in: Visitor) -> None:
    form = {"kind": "product", "mode": "text", "rule_text": "price > 100"}
    refused = signed_in.http.post("/rule/preview", data=form, headers={"X-CSRF-Token": "nope"})
    assert refused.status_code == 403
    answered = signed_in.http.post(
        "/rule/preview", data=form, headers={"X-CSRF-Token": signed_in.token, "HX-Request": "true"}
    )
    assert answered.status_code == 200
    assert '<strong id="preview-count">2</strong>' in answered.text


@pytest.mark.parametrize("path", ["/signin", "/products/segments"])
def test_the_token_is_in_every_form_and_in_the_htmx_headers(signed_in: Visitor, path: str) -> None:
    page = signed_in.get(path)
    forms = page.text.count('method="post"')
    assert forms >= 1
    assert page.text.count(f'name="csrf_token" value="{signed_in.token}"') == forms
    assert f'hx-headers=\'{{"X-CSRF-Token": "{signed_in.token}"}}\'' in page.text


def test_an_upload_without_the_token_is_refused(signed_in: Visitor, tenant: Tenant) -> None:
    tenant.shop.create_segment(
        SegmentSpec(kind="customer", code="vip", name="VIP", type=SegmentType.FIXED)
    )
    files = {"file": ("vip.csv", b"c1\nc2\n", "text/csv")}
    refused = signed_in.http.post("/segments/vip/members/upload", files=files)
    assert refused.status_code == 403
    assert tenant.shop.segment("vip").member_count == 0
