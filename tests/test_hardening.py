"""Fixes from the security review: each test fails on the code before it."""

from __future__ import annotations

import secrets
import time

from tests.support import basic_auth, bearer, record_body

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_junk_bearer_tokens_share_their_senders_rate_limit_bucket(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STRATEGY="moving-window", RATELIMIT_DEFAULT="3 per minute")
    client = app.test_client()
    statuses = [client.get("/v1/whoami", headers=bearer(secrets.token_urlsafe(12))).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def test_token_endpoint_counts_by_address_even_with_a_bearer_header(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STRATEGY="moving-window", RATELIMIT_TOKEN="2 per minute")
    client = app.test_client()
    statuses = [
        client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=bearer(secrets.token_urlsafe(12))
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_verified_partners_get_their_own_bucket(make_app, register):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_DEFAULT="3 per minute",
        RATELIMIT_TOKEN="100 per minute",
    )
    client = app.test_client()
    a, b = register("telkomsel", "operator"), register("xl", "operator")

    def tok(c):
        return client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(c)).get_json()[
            "access_token"
        ]

    ta, tb = tok(a), tok(b)
    assert [client.get("/v1/whoami", headers=bearer(ta)).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/v1/whoami", headers=bearer(tb)).status_code == 200


def test_disabled_partner_tokens_are_refused_at_once_and_secrets_rotate(client, register, token, cli):
    op = register("telkomsel", "operator")
    tok = token(op)
    assert cli("partner", "disable", "telkomsel").exit_code == 0
    assert client.get("/v1/whoami", headers=bearer(tok)).status_code == 401
    assert (
        client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).status_code
        == 401
    )
    assert cli("partner", "enable", "telkomsel").exit_code == 0
    assert client.get("/v1/whoami", headers=bearer(tok)).status_code == 200
    import json

    res = cli("partner", "rotate-secret", "telkomsel", "--json")
    fresh = json.loads(res.output)
    assert fresh["client_id"] == op.client_id and fresh["client_secret"] != op.client_secret
    assert (
        client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).status_code
        == 401
    )
    op.client_secret = fresh["client_secret"]
    assert (
        client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).status_code
        == 200
    )


def _assert_with(client, op, claims_override):
    from joserfc import jwt
    from joserfc.jwk import OKPKey

    from keys.keyfiles import private_key_to_pem

    now = int(time.time())
    claims = {
        "iss": op.client_id,
        "sub": op.client_id,
        "aud": "http://localhost/oauth/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(8),
    }
    claims.update(claims_override)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = OKPKey.import_key(private_key_to_pem(op.private_key), {"kid": op.kid})
    assertion = jwt.encode({"alg": "Ed25519", "kid": op.kid}, claims, key, algorithms=["Ed25519"])
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )


def test_client_assertions_must_be_short_lived(client, register):
    op = register("telegram", "ott")
    now = int(time.time())
    assert _assert_with(client, op, {}).status_code == 200
    for override in (
        {"exp": now + 10 * 365 * 86400},
        {"exp": 10**13},
        {"iat": None},
        {"iat": now - 3600, "exp": now + 60},
    ):
        resp = _assert_with(client, op, override)
        assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_client", override


def test_introspection_with_private_key_jwt(client, register, token):
    kominfo = register("kominfo", "ministry")
    tok = token(register("telkomsel", "operator"))
    from tests.support import PartnerCreds  # noqa: F401

    resp = client.post(
        "/oauth/introspect",
        data={
            "token": tok,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": kominfo.assertion("http://localhost/oauth/token"),
        },
    )
    assert resp.status_code == 200 and resp.get_json()["active"] is True


def test_deeply_nested_json_is_invalid_json(client, register, token):
    op = register("telkomsel", "operator")
    deep = b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = client.post("/v1/records", data=deep, content_type="application/json", headers=bearer(token(op)))
    assert resp.status_code == 400 and resp.get_json()["type"] == "urn:tangkal:problem:invalid-json"


def test_integers_beyond_json_precision_are_invalid_record(client, register, token):
    from tests.support import attestation_body

    op = register("telkomsel", "operator")
    auth = bearer(token(op))
    env = op.sign("attestation", attestation_body("telkomsel", []))
    env["attestation"]["blocked_count"] = 2**53  # no JCS form exists, so it cannot even be signed
    resp = client.post("/v1/attestations", json=env, headers=auth)
    assert resp.status_code == 400 and resp.get_json()["type"] == "urn:tangkal:problem:invalid-record"


def test_plain_http_to_a_public_host_is_an_oauth_error_not_a_500(make_app, register):
    app = make_app(HUB_URL="http://hub.example")
    client = app.test_client()
    op = register("telkomsel", "operator")
    resp = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op), base_url="http://hub.example"
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "insecure_transport"
    assert "HTTPS" in resp.get_json()["error_description"]


def test_proxy_fix_trusts_forwarded_proto_and_address(make_app, register):
    app = make_app(HUB_URL="https://hub.example", PROXY_FIX_X_FOR=1)
    client = app.test_client()
    op = register("telkomsel", "operator")
    resp = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={
            **basic_auth(op),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "hub.example",
        },
        base_url="http://10.0.0.2",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)


def test_unblock_of_a_hidden_block_reveals_neither_number_nor_issuer(client, register, token):
    kom = register("kominfo", "ministry")
    isat = register("indosat", "operator")
    block = kom.sign("record", record_body("kominfo", "+6281234567890"))
    client.post("/v1/records", json={"records": [block]}, headers=bearer(token(kom)))
    auth = bearer(token(isat))
    answers = []
    for number in ("+6281234567890", "+6281534567890"):
        env = isat.sign("record", record_body("indosat", number, action="unblock", supersedes=block["record"]["id"]))
        (res,) = client.post("/v1/records", json={"records": [env]}, headers=auth).get_json()["results"]
        answers.append((res["error"]["type"], res["error"]["detail"]))
    assert answers[0] == answers[1]
    assert answers[0][0].endswith("issuer-mismatch") and "kominfo" not in answers[0][1]


def test_expired_revocations_and_assertion_ids_are_purged(app, client, register, token):
    from datetime import timedelta

    from hub.auth.models import RevokedToken, UsedAssertion
    from hub.clock import now
    from hub.db import db
    from hub.reports.scheduler import run_purge

    with app.app_context():
        db.session.add(RevokedToken(jti="old", expires_at=now() - timedelta(hours=1)))
        db.session.add(RevokedToken(jti="live", expires_at=now() + timedelta(hours=1)))
        db.session.add(UsedAssertion(client_id="c", jti="old", expires_at=now() - timedelta(hours=1)))
        db.session.commit()
    assert run_purge(app) == 2
    with app.app_context():
        assert [r.jti for r in db.session.query(RevokedToken).all()] == ["live"]
