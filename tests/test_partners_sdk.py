"""The partner SDK (``partners.HubClient``) against a hub on a real socket.

Tokens (refresh on expiry, a new one after a 401, private_key_jwt), safe
retries (a lost answer, 429 with Retry-After, 5xx with back-off, bounded),
typed problems with their slug, and verification: a tampered receipt, record
or proof is caught, never handed to the caller.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from requests.adapters import HTTPAdapter

from partners import (
    AuthError,
    Forbidden,
    HubClient,
    HubUnreachable,
    InvalidRequest,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    VerificationFailed,
)
from partners.builders import ack_body, record_body
from tests.support import PartnerCreds
from tests.test_partners_support import e164, local_numbers, serve

FAST_RETRY = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05, max_total_wait=30)


@pytest.fixture
def hub(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


def client_for(url: str, creds: PartnerCreds, **kwargs: Any) -> HubClient:
    kwargs.setdefault("retry", FAST_RETRY)
    return HubClient(
        url,
        creds.client_id,
        client_secret=creds.client_secret,
        private_key=creds.private_key,
        kid=creds.kid,
        partner=creds.id,
        **kwargs,
    )


def signed_blocks(client: HubClient, count: int, seed: int = 1) -> list[dict[str, Any]]:
    return [
        client.sign(
            "record",
            record_body(
                client.partner,
                e164(n),
                category="scam",
                channels=["voice", "sms"],
                reason="Impersonates a bank",
                complaints=3,
                ref=f"ADN-{i}",
            ),
        )
        for i, n in enumerate(local_numbers(count, seed))
    ]


class Recorder(HTTPAdapter):
    """A transport adapter that can fake answers or lose real ones, and logs what it sent."""

    def __init__(self, script: Callable[[requests.PreparedRequest, int], requests.Response | str | None]) -> None:
        super().__init__()
        self.script = script
        self.calls: list[tuple[str, str]] = []
        self.lost: list[requests.Response] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append((str(request.method), str(request.url)))
        action = self.script(request, len(self.calls))
        if isinstance(action, requests.Response):
            action.request = request
            return action
        response = super().send(request, **kwargs)
        if action == "lose":
            self.lost.append(response)
            raise requests.ConnectionError("connection reset after the hub answered (simulated)")
        return response


def fake(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode()
    resp.headers.update({"Content-Type": "application/problem+json", **(headers or {})})
    return resp


# -- tokens -------------------------------------------------------------------


def test_token_is_fetched_again_when_it_expires(make_app, register) -> None:
    """Before sending a token the SDK knows has run out, it fetches a new one (no 401 round trip)."""
    app = make_app()
    op = register("telkomsel", "operator", ["Telkomsel"])
    with serve(app) as url:
        client = client_for(url, op, token_leeway=0)
        first = client.fetch_token()["access_token"]
        assert client.whoami()["partner"] == "telkomsel"
        assert client.transport.token is not None and client.transport.token["access_token"] == first
        # The hub would still take the old token; only the SDK's own view of its expiry moves.
        client.transport.session.token["expires_at"] = int(time.time()) - 1
        assert client.whoami()["partner"] == "telkomsel"
        second = client.transport.token
        assert second is not None and second["access_token"] != first


def test_a_revoked_token_is_replaced_after_the_401(hub: str, register) -> None:
    op = register("telkomsel", "operator", ["Telkomsel"])
    client = client_for(hub, op)
    old = client.fetch_token()["access_token"]
    revoked = requests.post(
        hub + "/oauth/revoke", data={"token": old}, auth=(op.client_id, op.client_secret), timeout=10
    )
    assert revoked.status_code == 200
    assert client.whoami()["partner"] == "telkomsel"  # 401, new token, same call again
    token = client.transport.token
    assert token is not None and token["access_token"] != old


def test_private_key_jwt_token_with_an_ed25519_assertion(hub: str, register) -> None:
    ott = register("whatsapp", "ott")
    client = HubClient(hub, ott.client_id, private_key=ott.private_key, kid=ott.kid, retry=FAST_RETRY)
    token = client.fetch_token()
    assert "records:write" in token["scope"].split()
    assert client.partner == "whatsapp"  # read from /v1/whoami
    assert client.fetch_token()["access_token"] != token["access_token"]  # a fresh jti each time: no replay refusal
    header = json.loads(_b64(token["access_token"].split(".")[0]))
    assert header["alg"] == "Ed25519"


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_bad_secret_is_an_auth_error_with_the_oauth_code(hub: str, register) -> None:
    op = register("telkomsel", "operator", ["Telkomsel"])
    client = HubClient(hub, op.client_id, client_secret="not-the-secret", retry=FAST_RETRY)
    with pytest.raises(AuthError) as caught:
        client.whoami()
    assert caught.value.slug == "invalid_client"


# -- typed problems -----------------------------------------------------------


def test_401_and_403_are_typed_with_their_slug(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    client = client_for(hub, ministry)
    with pytest.raises(Forbidden) as caught:
        client.push_acks([client.sign("ack", ack_body("kominfo", "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10", "blocked"))])
    assert (caught.value.slug, caught.value.status) == ("forbidden", 403)
    assert "acks:write" in caught.value.detail
    assert caught.value.body["type"] == "urn:tangkal:problem:forbidden"
    with pytest.raises(AuthError) as unauth:
        client.transport.request("GET", "/v1/whoami", auth=False)
    assert (unauth.value.slug, unauth.value.status) == ("unauthorized", 401)
    with pytest.raises(NotFound) as missing:
        client.get_record("8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10")
    assert missing.value.slug == "not-found"
    with pytest.raises(InvalidRequest) as bad:
        client.hash_range("XYZ")
    assert bad.value.slug == "invalid-request"


def test_rejected_items_carry_their_slug_and_the_rest_go_through(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    client = client_for(hub, ministry)
    good = signed_blocks(client, 2)
    forged = copy.deepcopy(good[1])
    forged["record"]["id"] = "11111111-2222-4333-8444-555555555555"  # signature no longer matches
    results = client.push_records([good[0], forged])
    assert [r.status for r in results] == ["accepted", "rejected"]
    assert results[1].error is not None and results[1].error.slug == "invalid-signature"
    assert results[0].receipt_body is not None and results[0].receipt_body["object_id"] == good[0]["record"]["id"]


# -- retries ------------------------------------------------------------------


def test_a_lost_answer_is_retried_and_comes_back_duplicate_with_the_original_receipts(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    client = client_for(hub, ministry)
    batch = signed_blocks(client, 25)

    def lose_the_first_push_answer(req: requests.PreparedRequest, n: int) -> str | None:
        first_push = req.method == "POST" and req.path_url == "/v1/records" and not adapter.lost
        return "lose" if first_push else None

    adapter = Recorder(lose_the_first_push_answer)

    client.session.mount("http://", adapter)
    results = client.push_records(batch)
    assert len(adapter.lost) == 1 and adapter.lost[0].status_code == 200
    original = adapter.lost[0].json()["results"]
    assert [r["status"] for r in original] == ["accepted"] * 25
    assert [r.status for r in results] == ["duplicate"] * 25
    assert [r.receipt for r in results] == [r["receipt"] for r in original]
    assert sum(1 for m, u in adapter.calls if m == "POST" and u.endswith("/v1/records")) == 2


def test_429_waits_for_retry_after_and_5xx_backs_off(hub: str, register) -> None:
    op = register("telkomsel", "operator", ["Telkomsel"])
    client = client_for(hub, op, retry=RetryPolicy(attempts=5, backoff=0.5, max_backoff=4))
    client.fetch_token()
    waits: list[float] = []
    client.transport.sleep = waits.append
    answers = {
        1: fake(
            429,
            {"type": "urn:tangkal:problem:rate-limited", "title": "t", "status": 429, "detail": "slow down"},
            {"Retry-After": "7"},
        ),
        2: fake(503, {"type": "urn:tangkal:problem:unavailable", "title": "t", "status": 503, "detail": "db"}),
        3: fake(502, {}),
    }
    client.session.mount("http://", Recorder(lambda req, n: answers.get(n)))
    assert client.whoami()["partner"] == "telkomsel"
    assert waits[0] == 7.0
    assert 0.5 <= waits[1] <= 1.0 and 1.0 <= waits[2] <= 2.0  # exponential by attempt, half jitter


def test_retries_are_bounded(hub: str, register) -> None:
    op = register("telkomsel", "operator", ["Telkomsel"])
    client = client_for(hub, op)
    client.fetch_token()
    client.transport.sleep = lambda s: None
    always = Recorder(
        lambda req, n: fake(503, {"type": "urn:tangkal:problem:unavailable", "status": 503, "detail": "down"})
    )
    client.session.mount("http://", always)
    with pytest.raises(ServerError) as caught:
        client.whoami()
    assert caught.value.slug == "unavailable" and len(always.calls) == FAST_RETRY.attempts
    limited = Recorder(
        lambda req, n: fake(
            429, {"type": "urn:tangkal:problem:rate-limited", "status": 429, "detail": "x"}, {"Retry-After": "3600"}
        )
    )
    client.session.mount("http://", limited)
    with pytest.raises(RateLimited) as slow:
        client.whoami()
    assert slow.value.retry_after == 3600 and len(limited.calls) == 1  # beyond the wait budget: no sleeping an hour


def test_an_unreachable_hub_is_hub_unreachable_not_a_requests_error(register, hub: str) -> None:
    op = register("telkomsel", "operator", ["Telkomsel"])
    client = HubClient(
        "http://127.0.0.1:9", op.client_id, client_secret=op.client_secret, retry=RetryPolicy(attempts=2, backoff=0.01)
    )
    with pytest.raises(HubUnreachable):
        client.fetch_token()


# -- verification -------------------------------------------------------------


def test_a_tampered_receipt_or_record_is_detected(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    client = client_for(hub, ministry)
    (signed,) = signed_blocks(client, 1)
    (result,) = client.push_records([signed])
    assert result.receipt is not None
    client.trust.receipt(result.receipt, signed)  # the genuine pair verifies

    bumped = copy.deepcopy(result.receipt)
    bumped["receipt"]["seq"] += 1
    with pytest.raises(VerificationFailed, match="signature"):
        client.trust.receipt(bumped, signed)

    other = copy.deepcopy(signed)
    other["record"]["number"] = "+6281299999999"
    with pytest.raises(VerificationFailed, match="content differs"):
        client.trust.receipt(result.receipt, other)


def test_a_push_answer_with_a_tampered_receipt_raises(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    client = client_for(hub, ministry)
    batch = signed_blocks(client, 2)

    def tamper(req: requests.PreparedRequest, n: int) -> requests.Response | None:
        if req.method != "POST" or req.path_url != "/v1/records":
            return None
        real = HTTPAdapter().send(req, timeout=30)
        body = real.json()
        body["results"][1]["receipt"]["receipt"]["log_index"] = 99
        return fake(200, body)

    client.session.mount("http://", Recorder(tamper))
    with pytest.raises(VerificationFailed):
        client.push_records(batch)


def test_pull_look_ups_and_proofs_verify(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    ott = register("whatsapp", "ott")
    issuer = client_for(hub, ministry)
    batch = signed_blocks(issuer, 30)
    issuer.push_records(batch[:10])
    first_head = issuer.log_head()
    results = issuer.push_records(batch[10:])
    reader = client_for(hub, ott)
    pages = list(reader.pull_all(0, limit=7))
    ids = [item["record"]["id"] for page in pages for item in page.items]
    assert ids == [s["record"]["id"] for s in batch] and pages[-1].has_more is False
    number = batch[3]["record"]["number"]
    assert reader.number(number)["blocked"] is True
    assert reader.is_blocked(number) is True
    assert reader.is_blocked("081234000001") is False
    assert reader.get_record(batch[3]["record"]["id"])["record"] == batch[3]["record"]
    tree = reader.verify_inclusion(results[-1].signed, results[-1].receipt or {})
    assert tree["size"] == 30
    a, b = reader.verify_consistency(first_head, reader.log_head())
    assert (a["size"], b["size"]) == (10, 30)

    forged_head = copy.deepcopy(first_head)
    forged_head["tree_head"]["root_hash"] = "0" * 64
    with pytest.raises(VerificationFailed):
        reader.verify_consistency(forged_head, reader.log_head())


def test_a_pulled_record_with_a_forged_issuer_signature_is_refused(hub: str, register) -> None:
    ministry = register("kominfo", "ministry")
    ott = register("whatsapp", "ott")
    issuer = client_for(hub, ministry)
    issuer.push_records(signed_blocks(issuer, 3))
    reader = client_for(hub, ott)

    def forge(req: requests.PreparedRequest, n: int) -> requests.Response | None:
        if req.method != "GET" or not req.path_url.startswith("/v1/records?"):
            return None
        body = HTTPAdapter().send(req, timeout=30).json()
        sig = body["items"][1]["signature"]
        sig["value"] = ("A" if sig["value"][0] != "A" else "B") + sig["value"][1:]
        return fake(200, body)

    reader.session.mount("http://", Recorder(forge))
    with pytest.raises(VerificationFailed):
        reader.pull(0, 10)


def test_the_sdk_receipt_check_agrees_with_keys_verify(app: Flask, hub: str, register) -> None:
    """partners.trust checks receipts itself (with a key cache); it must judge exactly as keys.verify does."""
    from hub.signing import signer
    from keys.errors import SigningError
    from keys.verify import verify_receipt

    ministry = register("kominfo", "ministry")
    client = client_for(hub, ministry)
    signed = signed_blocks(client, 2)
    (result, _other) = client.push_records(signed)
    assert result.receipt is not None
    body = result.receipt["receipt"]

    def resigned(**changes: Any) -> dict[str, Any]:
        changed = {k: v for k, v in {**body, **changes}.items() if v is not ...}
        with app.app_context():
            return signer().sign("receipt", changed)

    other_record = copy.deepcopy(signed[0])
    other_record["record"]["reason"] = "changed"
    cases = [
        (result.receipt, signed[0]),
        (result.receipt, None),
        (result.receipt, signed[1]),
        (result.receipt, other_record),
        (result.receipt, {"ack": signed[0]["record"], "signature": signed[0]["signature"]}),
        (resigned(seq=-1), signed[0]),
        (resigned(seq=True), signed[0]),
        (resigned(log_index=1.5), signed[0]),
        (resigned(kind="report"), signed[0]),
        (resigned(kind="ack"), signed[0]),
        (resigned(sha256=body["sha256"].upper()), signed[0]),
        (resigned(hub=""), signed[0]),
        (resigned(extra="x"), signed[0]),
        (resigned(received_at=...), signed[0]),
        (resigned(object_id=signed[1]["record"]["id"]), signed[0]),
        ({**result.receipt, "signature": {**result.receipt["signature"], "kid": "nobody"}}, signed[0]),
        ({**result.receipt, "extra": 1}, signed[0]),
    ]
    jwks = client.trust.hub_jwks()
    outcomes = []
    for receipt, obj in cases:
        try:
            verify_receipt(receipt, jwks, obj)
            reference = True
        except SigningError:
            reference = False
        try:
            client.trust.receipt(receipt, obj)
            ours = True
        except VerificationFailed:
            ours = False
        assert ours == reference, (receipt, obj)
        outcomes.append(ours)
    assert outcomes[:2] == [True, True] and not any(outcomes[2:])
