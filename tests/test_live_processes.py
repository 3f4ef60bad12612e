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
