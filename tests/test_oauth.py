"""PROTOCOL.md section 3: the token endpoint, its three client authentications,
scopes, RFC 9068 tokens, revocation, introspection and metadata."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support import basic_auth, bearer

HUB = "http://localhost"


def _token_resp(client, creds, scope=None, **extra):
    data = {"grant_type": "client_credentials", **extra}
    if scope is not None:
        data["scope"] = scope
    return client.post("/oauth/token", data=data, headers=basic_auth(creds))


def _decode_with_published_keys(client, token):
    keyset = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    return jwt.decode(token, keyset, algorithms=["Ed25519"])


def test_client_secret_basic_gives_rfc9068_token_verifiable_with_jwks(client, register):
    op = register("telkomsel", "operator", ["Telkomsel"])
    resp = _token_resp(client, op)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {
        "records:write",
        "records:read",
        "acks:write",
        "log:read",
        "attestations:write",
        "numbers:write",
    }
    decoded = _decode_with_published_keys(client, body["access_token"])
    header, claims = decoded.header, decoded.claims
    assert header["typ"] == "at+jwt" and header["alg"] == "Ed25519" and header["kid"]
    assert claims["iss"] == HUB and claims["aud"] == HUB
    assert claims["sub"] == op.client_id and claims["client_id"] == op.client_id
    assert claims["partner"] == "telkomsel"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["scope"] == body["scope"] and claims["jti"]
    assert resp.headers["Cache-Control"] == "no-store"


def test_client_secret_post(client, register):
    ott = register("whatsapp", "ott")
    resp = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": ott.client_id, "client_secret": ott.client_secret},
    )
    assert resp.status_code == 200
    assert _decode_with_published_keys(client, resp.get_json()["access_token"]).claims["partner"] == "whatsapp"


def test_wrong_secret_and_unknown_client_are_invalid_client(client, register):
    op = register("xl", "operator")
    op.client_secret = "not-the-secret"
    resp = _token_resp(client, op)
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "invalid_client"
    op.client_id = "tk_nobody"
    assert _token_resp(client, op).get_json()["error"] == "invalid_client"


def test_unsupported_grant_type(client, register):
    op = register("xl", "operator")
    resp = client.post("/oauth/token", data={"grant_type": "password"}, headers=basic_auth(op))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "unsupported_grant_type"


def test_scope_narrows_and_scope_beyond_is_invalid_scope(client, register):
    op = register("telkomsel", "operator")
    narrowed = _token_resp(client, op, scope="records:read log:read").get_json()
    assert narrowed["scope"] == "log:read records:read"
    claims = _decode_with_published_keys(client, narrowed["access_token"]).claims
    assert claims["scope"] == "log:read records:read"
    for beyond in ("records:read reports:read", "reports:write", "nonsense"):
        resp = _token_resp(client, op, scope=beyond)
        assert resp.status_code == 400
        assert resp.get_json()["error"] == "invalid_scope", beyond


def test_ministry_scopes(client, register):
    kominfo = register("kominfo", "ministry")
    scope = _token_resp(client, kominfo).get_json()["scope"]
    assert set(scope.split()) == {
        "records:write",
        "records:read",
        "reports:read",
        "reports:write",
        "log:read",
        "audit:read",
    }
    assert _token_resp(client, kominfo, scope="acks:write").get_json()["error"] == "invalid_scope"


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
@pytest.mark.parametrize("aud", [HUB + "/oauth/token", HUB])
def test_private_key_jwt(client, register, alg, aud):
    ott = register("telegram", "ott")
    resp = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": ott.assertion(aud, alg=alg),
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _decode_with_published_keys(client, resp.get_json()["access_token"]).claims["partner"] == "telegram"


def _assertion_request(client, assertion):
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_replayed_client_assertion_is_refused(client, register):
    ott = register("telegram", "ott")
    assertion = ott.assertion(HUB + "/oauth/token", jti="once-only")
    assert _assertion_request(client, assertion).status_code == 200
    replay = _assertion_request(client, assertion)
    assert replay.status_code == 400  # RFC 6749 §5.2: 401 only for Authorization-header auth
    assert replay.get_json()["error"] == "invalid_client"
    # The same jti in a fresh assertion is a replay too.
    assert _assertion_request(client, ott.assertion(HUB + "/oauth/token", jti="once-only")).status_code == 400


def test_client_assertion_refusals(client, register, cli):
    ott = register("telegram", "ott")
    other = register("line", "ott")
    # wrong audience
    assert _assertion_request(client, ott.assertion("https://elsewhere.example/oauth/token")).status_code == 400
    # signed by another partner's key, claiming to be this client
    forged = other.assertion(HUB)
    forged_as_ott = ott.__class__(**{**ott.__dict__, "private_key": other.private_key})
    assert _assertion_request(client, forged_as_ott.assertion(HUB)).status_code == 400
    assert _assertion_request(client, forged).status_code == 200
    # expired
    assert _assertion_request(client, ott.assertion(HUB, lifetime=-120)).status_code == 400
    # a revoked key signs nothing the hub accepts
    assert cli("partner", "revoke-key", "telegram", ott.kid).exit_code == 0
    resp = _assertion_request(client, ott.assertion(HUB))
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_client"


def test_protected_call_without_or_with_bad_token_is_401_problem(client, register, token, app):
    resp = client.get("/v1/whoami")
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"] == "urn:tangkal:problem:unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/v1/whoami", headers=bearer("not.a.jwt"))
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    op = register("telkomsel", "operator")
    tok = token(op)
    good = client.get("/v1/whoami", headers=bearer(tok))
    assert good.status_code == 200
    assert good.get_json()["partner"] == "telkomsel" and good.get_json()["kind"] == "operator"
    # (1.1) a hub that fixed its own URL refuses a request naming another host (hub.origin)
    assert client.get("/v1/whoami", headers=bearer(tok), base_url="http://other-host").status_code == 400


def test_token_expires_by_the_hubs_clock(client, register, clock):
    op = register("telkomsel", "operator")
    clock.freeze(datetime.now(UTC))  # a busy machine's seconds must not eat the leeway under test
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).get_json()
    assert tok["expires_in"] == 900
    clock.advance(timedelta(seconds=900 + 4))  # within the 5 s leeway: still good
    assert client.get("/v1/whoami", headers=bearer(tok["access_token"])).status_code == 200
    clock.advance(timedelta(seconds=2))  # past exp and the leeway
    assert client.get("/v1/whoami", headers=bearer(tok["access_token"])).status_code == 401


def test_token_signed_by_a_foreign_key_is_401(client, register):
    from joserfc.jwk import OKPKey

    op = register("telkomsel", "operator")
    now = int(time.time())
    claims = {
        "iss": HUB,
        "aud": HUB,
        "sub": op.client_id,
        "client_id": op.client_id,
        "partner": op.id,
        "scope": "records:read",
        "iat": now,
        "exp": now + 60,
        "jti": "x",
    }
    foreign = OKPKey.generate_key("Ed25519", parameters={"kid": "evil"})
    forged = jwt.encode({"alg": "Ed25519", "typ": "at+jwt", "kid": "evil"}, claims, foreign, algorithms=["Ed25519"])
    assert client.get("/v1/whoami", headers=bearer(forged)).status_code == 401


def test_revocation_holds_on_another_app_instance_at_once(make_app, register):
    a = make_app()
    b = make_app()
    ca, cb = a.test_client(), b.test_client()
    op = register("telkomsel", "operator")
    tok = ca.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).get_json()[
        "access_token"
    ]
    assert cb.get("/v1/whoami", headers=bearer(tok)).status_code == 200
    assert ca.post("/oauth/revoke", data={"token": tok}, headers=basic_auth(op)).status_code == 200
    assert cb.get("/v1/whoami", headers=bearer(tok)).status_code == 401
    assert ca.get("/v1/whoami", headers=bearer(tok)).get_json()["detail"] == "The access token has been revoked."


def test_revoking_someone_elses_token_is_200_and_changes_nothing(client, register, token):
    op = register("telkomsel", "operator")
    other = register("xl", "operator")
    tok = token(op)
    resp = client.post("/oauth/revoke", data={"token": tok}, headers=basic_auth(other))
    assert resp.status_code == 200
    assert client.get("/v1/whoami", headers=bearer(tok)).status_code == 200
    # garbage tokens are also answered 200 (RFC 7009 §2.2)
    assert client.post("/oauth/revoke", data={"token": "garbage"}, headers=basic_auth(other)).status_code == 200


def test_introspection_is_for_ministry_clients(client, register, token):
    kominfo = register("kominfo", "ministry")
    op = register("telkomsel", "operator")
    tok = token(op)
    resp = client.post("/oauth/introspect", data={"token": tok}, headers=basic_auth(kominfo))
    body = resp.get_json()
    assert resp.status_code == 200 and body["active"] is True
    assert body["partner"] == "telkomsel" and body["client_id"] == op.client_id
    refused = client.post("/oauth/introspect", data={"token": tok}, headers=basic_auth(op))
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"
    client.post("/oauth/revoke", data={"token": tok}, headers=basic_auth(op))
    assert client.post("/oauth/introspect", data={"token": tok}, headers=basic_auth(kominfo)).get_json() == {
        "active": False
    }
    assert client.post("/oauth/introspect", data={"token": "x"}, headers=basic_auth(kominfo)).get_json() == {
        "active": False
    }


def test_server_metadata(client):
    meta = client.get("/.well-known/oauth-authorization-server").get_json()
    assert meta["issuer"] == HUB
    assert meta["token_endpoint"] == HUB + "/oauth/token"
    assert meta["jwks_uri"] == HUB + "/.well-known/jwks.json"
    assert meta["revocation_endpoint"] == HUB + "/oauth/revoke"
    assert meta["introspection_endpoint"] == HUB + "/oauth/introspect"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    }
    assert set(meta["token_endpoint_auth_signing_alg_values_supported"]) == {"Ed25519", "EdDSA"}


def test_hub_url_setting_overrides_request_url(make_app, register):
    app = make_app(HUB_URL="https://hub.tangkal.example")
    client = app.test_client()
    op = register("telkomsel", "operator")
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).get_json()
    claims = _decode_with_published_keys(client, tok["access_token"]).claims
    assert claims["iss"] == claims["aud"] == "https://hub.tangkal.example"
    assert client.get("/v1/whoami", headers=bearer(tok["access_token"]), base_url="http://10.0.0.9").status_code == 200
