"""Webhooks over HTTP (SPEC §9): the secret shown once, edits, validation naming the
field, tenant isolation, and a webhook as a use of the segments it names."""

from __future__ import annotations

from segmentry.engine.delivery import signing
from tests.api.conftest import Caller, TestClient, is_problem
from tests.delivery.conftest import vip_shop

URL = "http://127.0.0.1:9/hook"


def create(api: Caller, **body: object) -> dict[str, object]:
    answer = api.post("/v1/webhooks", json={"url": URL, **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


def test_create_answers_the_secret_once_and_the_webhook_reads_back(api: Caller) -> None:
    vip_shop(api)
    created = create(api, segments=["vip"], changes=["entered"], description="welcome mail")
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert len(signing.key_of(secret)) == 24
    hook_id = created["id"]
    got = api.get(f"/v1/webhooks/{hook_id}").json()
    assert "secret" not in got
    assert got["segments"] == ["vip"]
    assert got["kinds"] == ["product", "customer"]
    assert got["changes"] == ["entered"]
    assert got["enabled"] is True
    assert got["description"] == "welcome mail"
    listed = api.get("/v1/webhooks").json()["items"]
    assert [w["id"] for w in listed] == [hook_id]
    assert all("secret" not in w for w in listed)


def test_defaults_take_every_segment_kind_and_change(api: Caller) -> None:
    created = create(api)
    assert created["segments"] == ["*"]
    assert created["kinds"] == ["product", "customer"]
    assert created["changes"] == ["entered", "exited"]


def test_patch_edits_each_field(api: Caller) -> None:
    vip_shop(api)
    hook_id = create(api)["id"]
    patched = api.patch(
        f"/v1/webhooks/{hook_id}",
        json={
            "url": "https://127.0.0.1:9/other",
            "segments": ["ios", "vip"],
            "kinds": ["customer"],
            "changes": ["exited"],
            "enabled": False,
            "description": "d",
        },
    )
    assert patched.status_code == 200, patched.text
    got = api.get(f"/v1/webhooks/{hook_id}").json()
    assert got["url"] == "https://127.0.0.1:9/other"
    assert sorted(got["segments"]) == ["ios", "vip"]
    assert got["kinds"] == ["customer"]
    assert got["changes"] == ["exited"]
    assert got["enabled"] is False
    assert got["disabled_reason"] == "disabled by a user"
    enabled = api.patch(f"/v1/webhooks/{hook_id}", json={"enabled": True}).json()
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None


def test_delete_then_not_found(api: Caller) -> None:
    hook_id = create(api)["id"]
    assert api.delete(f"/v1/webhooks/{hook_id}").status_code == 204
    is_problem(api.get(f"/v1/webhooks/{hook_id}"), 404, "not-found")
    is_problem(api.delete(f"/v1/webhooks/{hook_id}"), 404, "not-found")


def test_rotate_answers_a_new_secret(api: Caller) -> None:
    created = create(api)
    rotated = api.post(f"/v1/webhooks/{created['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]


def test_bad_input_is_a_422_naming_the_field(api: Caller) -> None:
    vip_shop(api)
    cases = {
        "url": {"url": "ftp://example.com/x"},
        "segments": {"url": URL, "segments": ["nope"]},
        "changes": {"url": URL, "changes": ["entered", "moved"]},
        "kinds": {"url": URL, "kinds": ["order"]},
    }
    for field, body in cases.items():
        problem = is_problem(api.post("/v1/webhooks", json=body), 422, "invalid-value")
        assert problem["field"] == field, problem
    for url in (
        "not a url",
        "http:///nohost",
        "javascript:alert(1)",
        "http://[::1",
        "http://a:99999/",
    ):
        problem = is_problem(api.post("/v1/webhooks", json={"url": url}), 422, "invalid-value")
        assert problem["field"] == "url"
    hook_id = create(api)["id"]
    problem = is_problem(
        api.patch(f"/v1/webhooks/{hook_id}", json={"changes": ["gone"]}), 422, "invalid-value"
    )
    assert problem["field"] == "changes"
    assert api.get("/v1/webhooks").json()["items"][0]["changes"] == ["entered", "exited"]
    is_problem(
        api.post(f"/v1/webhooks/{hook_id}/replay", json={"after": -1}), 422, "invalid-request"
    )


def test_private_addresses_need_the_flag(api: Caller, strict_client: TestClient) -> None:
    strict = Caller(strict_client, api.key, api.tenant_id)
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ):
        problem = is_problem(strict.post("/v1/webhooks", json={"url": url}), 422, "invalid-value")
        assert problem["field"] == "url"
    assert strict.get("/v1/webhooks").json()["items"] == []
    assert api.post("/v1/webhooks", json={"url": "http://127.0.0.1:8080/hook"}).status_code == 201


def test_tenants_never_see_each_others_webhooks(api: Caller, other: Caller) -> None:
    hook_id = create(api)["id"]
    assert other.get("/v1/webhooks").json()["items"] == []
    for method, path, body in (
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("POST", "/replay", {"after": 0}),
        ("GET", "/deliveries", None),
    ):
        answer = other.request(method, f"/v1/webhooks/{hook_id}{path}", json=body)
        is_problem(answer, 404, "not-found")
    assert api.get(f"/v1/webhooks/{hook_id}").json()["enabled"] is True


def test_a_webhook_is_a_use_of_the_segments_it_names(api: Caller) -> None:
    vip_shop(api)
    hook_id = create(api, segments=["vip", "ios"], description="push")["id"]
    uses = api.get("/v1/segments/vip/uses").json()["items"]
    assert [(u["id"], u["type"], u["name"]) for u in uses] == [
        (f"webhook:{hook_id}", "webhook", "push")
    ]
    problem = is_problem(api.delete("/v1/segments/vip"), 409, "in-use")
    assert problem["users"][0]["id"] == f"webhook:{hook_id}"
    problem = is_problem(api.patch("/v1/segments/vip", json={"code": "vip2"}), 409, "in-use")
    assert api.get("/v1/segments/vip").status_code == 200
    renamed = api.patch("/v1/segments/vip?force=true", json={"code": "vip2"})
    assert renamed.status_code == 200, renamed.text
    assert sorted(api.get(f"/v1/webhooks/{hook_id}").json()["segments"]) == ["ios", "vip2"]
    assert api.delete("/v1/segments/vip2?force=true").status_code == 204
    got = api.get(f"/v1/webhooks/{hook_id}").json()
    assert got["segments"] == ["ios"]
    assert got["enabled"] is True
    assert api.delete("/v1/segments/ios?force=true").status_code == 204
    got = api.get(f"/v1/webhooks/{hook_id}").json()
    assert got["segments"] == []
    assert got["enabled"] is False
    assert "deleted" in got["disabled_reason"]


def test_a_webhook_for_every_segment_is_not_a_use_of_each(api: Caller) -> None:
    vip_shop(api)
    create(api)
    assert api.get("/v1/segments/vip/uses").json()["items"] == []
    assert api.delete("/v1/segments/vip").status_code == 204
