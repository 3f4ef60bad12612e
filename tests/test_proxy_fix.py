"""``PROXY_FIX_X_FOR`` (docs/operations.md): forwarded headers are trusted for exactly that many proxies, none by default.

The client address picks the rate-limit bucket of unauthenticated calls and
of ``/oauth/*``, and the console's sign-in log records it; the forwarded
scheme decides whether the OAuth endpoints see HTTPS. A hub that trusted
``X-Forwarded-For`` with no proxy in front would let every client choose
its own address.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request

from tests.support import PartnerCreds, basic_auth, register_partner

FORWARDED = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",  # a client's own claim, then what the balancer saw
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "hub.example",
}


def _with_address_probe(app: Flask) -> Flask:
    app.add_url_rule("/_probe/address", "probe_address", lambda: request.remote_addr or "")
    return app


def _token_status(app: Flask, creds: PartnerCreds) -> tuple[int, str]:
    resp = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={**basic_auth(creds), **FORWARDED},
        base_url="http://10.0.0.2",
    )
    return resp.status_code, resp.get_json().get("error", "")


def test_forwarded_headers_are_ignored_by_default(make_app: Callable[..., Flask]) -> None:
    app = _with_address_probe(make_app(HUB_URL="https://hub.example"))
    assert app.config["PROXY_FIX_X_FOR"] == 0
    resp = app.test_client().get("/_probe/address", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert resp.get_data(as_text=True) == "10.0.0.1"
    creds = register_partner(app, "telkomsel", "operator", ["Telkomsel"])
    assert _token_status(app, creds) == (400, "insecure_transport")  # X-Forwarded-Proto: https not believed


def test_one_trusted_hop_takes_the_address_and_scheme_the_balancer_saw(make_app: Callable[..., Flask]) -> None:
    app = _with_address_probe(make_app(HUB_URL="https://hub.example", PROXY_FIX_X_FOR=1))
    resp = app.test_client().get("/_probe/address", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert resp.get_data(as_text=True) == "203.0.113.9"  # the client's own "198.51.100.7" is not believed
    creds = register_partner(app, "telkomsel", "operator", ["Telkomsel"])
    assert _token_status(app, creds)[0] == 200
