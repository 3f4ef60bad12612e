"""Two real hub processes (gunicorn) on one database: what one revokes, the
other refuses at once, and a token from one is good at the other."""

from __future__ import annotations

import pytest
import requests

from tests.support import LiveHub, basic_auth, bearer

pytestmark = pytest.mark.slow


@pytest.fixture
def two_hubs(hub_env, app):
    env = {**hub_env, "HUB_URL": "http://hub.test"}
    hubs = [LiveHub(env), LiveHub(env)]
    yield hubs
    for h in hubs:
        h.stop()


def test_revoked_token_is_refused_by_a_second_process(two_hubs, register):
    a, b = two_hubs
    op = register("telkomsel", "operator", ["Telkomsel"])
    tok = a.token(op)
    assert requests.get(b.url + "/v1/whoami", headers=bearer(tok), timeout=10).status_code == 200
    assert (
        requests.post(a.url + "/oauth/revoke", data={"token": tok}, headers=basic_auth(op), timeout=10).status_code
        == 200
    )
    resp = requests.get(b.url + "/v1/whoami", headers=bearer(tok), timeout=10)
    assert resp.status_code == 401
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "WWW-Authenticate" in resp.headers


def test_private_key_jwt_replay_across_processes(two_hubs, register):
    a, b = two_hubs
    ott = register("whatsapp", "ott")
    assertion = ott.assertion("http://hub.test/oauth/token")
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    first = requests.post(a.url + "/oauth/token", data=form, timeout=10)
    assert first.status_code == 200, first.text
    replay = requests.post(b.url + "/oauth/token", data=form, timeout=10)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_client"


def test_a_retired_hub_key_stops_working_within_a_second_on_every_process(two_hubs, register, app):
    """Rotate, then retire the old key from another process (the admin's): both hubs refuse its tokens within 1 s
    and sign nothing more with it."""
    import time

    from hub.signing import create_key, retire_key, signer

    a, b = two_hubs
    op = register("telkomsel", "operator", ["Telkomsel"])
    with app.app_context():
        old = signer().kid
    tok = a.token(op)
    assert requests.get(b.url + "/v1/whoami", headers=bearer(tok), timeout=10).status_code == 200
    with app.app_context():
        new = create_key(app).kid
        retire_key(app, old)
        retired_at = time.monotonic()
        # at once on the instance that retired it
        assert app.test_client().get("/v1/whoami", headers=bearer(tok)).status_code == 401
    refused: dict[str, float] = {}
    while len(refused) < 2 and time.monotonic() - retired_at < 5:
        for hub in (a, b):
            if hub.url not in refused:
                if requests.get(hub.url + "/v1/whoami", headers=bearer(tok), timeout=10).status_code == 401:
                    refused[hub.url] = time.monotonic() - retired_at
        time.sleep(0.05)
    assert len(refused) == 2 and max(refused.values()) < 1.3, refused
    for hub in (a, b):
        fresh = hub.token(op)
        header = jws_header(fresh)
        assert header["kid"] == new
        head = requests.get(hub.url + "/v1/log/head", headers=bearer(fresh), timeout=10).json()
        assert head["signature"]["kid"] == new


def jws_header(token: str) -> dict[str, str]:
    import base64
    import json

    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))
