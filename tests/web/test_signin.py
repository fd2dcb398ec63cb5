"""Signing in with an API key, the session cookie, and signing out."""

from __future__ import annotations

from segmentry.engine.segmentry import Segmentry
from tests.web.conftest import Tenant, Visitor


def test_a_page_asks_for_a_key_and_comes_back_after_sign_in(
    visitor: Visitor, tenant: Tenant
) -> None:
    asked = visitor.get("/customers/segments")
    assert asked.url.path == "/signin"
    assert 'name="next" value="/customers/segments"' in asked.text
    visitor.post("/signin", {"api_key": tenant.key, "next": "/customers/segments"})
    back = visitor.get("/customers/segments")
    assert back.url.path == "/customers/segments"
    assert "<h1>Segmentation</h1>" in back.text


def test_the_session_cookie_is_signed_http_only_and_same_site(
    visitor: Visitor, tenant: Tenant
) -> None:
    visitor.get("/signin")
    answer = visitor.http.post(
        "/signin",
        data={"api_key": tenant.key, "csrf_token": visitor.token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie


def test_a_bad_key_is_refused_with_a_message_at_the_field(visitor: Visitor) -> None:
    refused = visitor.sign_in("sk_not_a_real_key")
    assert refused.status_code == 401
    assert "This API key is unknown or was revoked." in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert visitor.get("/products/segments").url.path == "/signin"
    empty = visitor.post("/signin", {"api_key": "  "})
    assert empty.status_code == 401
    assert "Enter an API key." in empty.text


def test_a_forged_cookie_is_not_a_session(visitor: Visitor, tenant: Tenant) -> None:
    visitor.sign_in(tenant.key)
    (cookie,) = list(visitor.http.cookies.jar)
    assert cookie.value is not None
    forged = cookie.value[:-4] + ("AAAA" if not cookie.value.endswith("AAAA") else "BBBB")
    visitor.http.cookies.clear()
    visitor.http.cookies.set(cookie.name, forged)
    assert visitor.get("/products/segments").url.path == "/signin"


def test_sign_out_ends_the_session(signed_in: Visitor) -> None:
    out = signed_in.post("/signout")
    assert out.url.path == "/signin"
    assert signed_in.get("/products/segments").url.path == "/signin"


def test_a_revoked_key_stops_working_on_the_next_click(
    segmentry: Segmentry, signed_in: Visitor, tenant: Tenant
) -> None:
    tenant_id = tenant.shop.tenant_id
    (key,) = [k for k in segmentry.keys(tenant_id) if k.revoked_at is None]
    segmentry.revoke_key(tenant_id, key.key_id)
    assert signed_in.get("/products/segments").url.path == "/signin"


def test_sign_in_never_sends_the_user_to_another_site(visitor: Visitor, tenant: Tenant) -> None:
    visitor.get("/signin")
    landed = visitor.post("/signin", {"api_key": tenant.key, "next": "//evil.example/"})
    assert landed.url.host == "127.0.0.1"
    assert landed.url.path == "/products/segments"
