"""Every error the hub answers is RFC 9457 problem+json, judged in the
protocol's order: 401, 403, then 413/415, then 400."""

from __future__ import annotations

import pytest
from flask import Blueprint, jsonify
from pydantic import BaseModel, ConfigDict

from hub.api import read_json, validate
from hub.auth.protect import require
from tests.support import bearer


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


def _probe_blueprint() -> Blueprint:
    bp = Blueprint("probe", __name__)

    @bp.post("/v1/probe")
    @require("records:write")
    def probe():
        body = validate(_Body, read_json())
        return jsonify(body.model_dump())

    @bp.get("/v1/ministry-only")
    @require("reports:read")
    def ministry_only():
        return jsonify({"ok": True})

    @bp.get("/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    return bp


@pytest.fixture
def probe_app(make_app):
    app = make_app()
    app.register_blueprint(_probe_blueprint())
    return app


@pytest.fixture
def probe(probe_app, register):
    client = probe_app.test_client()
    op = register("telkomsel", "operator", ["Telkomsel"])
    from tests.support import basic_auth

    tok = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).get_json()
    return client, bearer(tok["access_token"])


def _assert_problem(resp, status, slug):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"] == f"urn:tangkal:problem:{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_not_found_and_method_not_allowed(client):
    _assert_problem(client.get("/v1/nothing-here"), 404, "not-found")
    resp = client.get("/oauth/token")
    _assert_problem(resp, 405, "method-not-allowed")
    assert "POST" in resp.headers["Allow"]


def test_partner_keys_of_unknown_partner_is_404(client):
    _assert_problem(client.get("/v1/partners/nobody/keys"), 404, "not-found")


def test_missing_scope_is_403(probe):
    client, auth = probe
    _assert_problem(client.get("/v1/ministry-only", headers=auth), 403, "forbidden")


def test_valid_body_passes(probe):
    client, auth = probe
    resp = client.post("/v1/probe", json={"name": "a", "count": 1}, headers=auth)
    assert resp.status_code == 200 and resp.get_json() == {"name": "a", "count": 1}


def test_malformed_json_is_invalid_json(probe):
    client, auth = probe
    for raw in (b"{", b'{"name": NaN}', b'{"a": 1, "a": 2}', b"\xff\xfe"):
        _assert_problem(
            client.post("/v1/probe", data=raw, content_type="application/json", headers=auth), 400, "invalid-json"
        )


def test_bad_shape_is_invalid_request_with_field_pointers(probe):
    client, auth = probe
    body = _assert_problem(
        client.post("/v1/probe", json={"name": 3, "extra": True}, headers=auth), 400, "invalid-request"
    )
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/name", "/count", "/extra"}


def test_wrong_media_type_is_415(probe):
    client, auth = probe
    _assert_problem(
        client.post("/v1/probe", data="name=a", content_type="application/x-www-form-urlencoded", headers=auth),
        415,
        "unsupported-media-type",
    )
    _assert_problem(
        client.post("/v1/probe", data=b'{"name":"a","count":1}', headers=auth), 415, "unsupported-media-type"
    )


def test_body_over_4_mib_is_413(probe):
    client, auth = probe
    big = b'{"name": "' + b"x" * (4 * 1024 * 1024) + b'", "count": 1}'
    _assert_problem(client.post("/v1/probe", data=big, content_type="application/json", headers=auth), 413, "too-large")


def test_judging_order_auth_before_size_and_scope_before_body(probe):
    client, auth = probe
    big = b"x" * (5 * 1024 * 1024)
    _assert_problem(client.post("/v1/probe", data=big, content_type="text/plain"), 401, "unauthorized")
    _assert_problem(
        client.get("/v1/ministry-only", data=big, content_type="text/plain", headers=auth), 403, "forbidden"
    )


def test_unexpected_error_is_a_problem_that_leaks_nothing(probe_app):
    probe_app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = probe_app.test_client().get("/v1/boom")
    body = _assert_problem(resp, 500, "internal-error")
    assert "secret internals" not in resp.get_data(as_text=True)
    assert body["detail"]


def test_rate_limit_is_429_with_retry_after(make_app, register):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STRATEGY="moving-window", RATELIMIT_TOKEN="2 per minute")
    client = app.test_client()
    statuses = [client.post("/oauth/token", data={"grant_type": "client_credentials"}).status_code for _ in range(3)]
    assert statuses[:2] == [401, 401]
    resp = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    body = _assert_problem(resp, 429, "rate-limited")
    assert 1 <= int(resp.headers["Retry-After"]) <= 61
    assert body["detail"]
