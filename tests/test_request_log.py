"""Structured request logs: one JSON line per request with an id also in X-Request-Id, and nothing secret.

The realistic run is a real hub under gunicorn at LOG_LEVEL=INFO, as
production runs it, driven through pushes, pulls, a number's look-up, a
hash-range query, token requests with secrets (basic, post, a client
assertion) and mistakes that put numbers in the path and the query; its
whole log is scanned with tests/log_scan.py. (conftest.py also scans every
test's log records.)
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
import requests

from hub.request_log import JsonFormatter, redact, safe_path
from keys.keyfiles import private_key_to_pem
from tests.live_support import fetch_token, live_env
from tests.log_scan import find_leaks, record_texts
from tests.records_world import ISAT, TSEL
from tests.support import LiveHub, bearer, record_body


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tangkal.request"]


def test_one_line_per_request_with_its_id_in_the_answer(world, caplog):
    with caplog.at_level(logging.INFO, logger="tangkal.request"):
        resp = world.client.get(f"/v1/numbers/{TSEL}?x=1", headers=world.auth(world.whatsapp))
        unauth = world.client.get("/v1/records")
    assert resp.status_code == 200 and unauth.status_code == 401
    first, second = request_lines(caplog)
    line = json.loads(JsonFormatter().format(first))
    assert {k: line[k] for k in ("method", "path", "query", "status", "partner", "logger", "level")} == {
        "method": "GET",
        "path": "/v1/numbers/{number}",
        "query": ["x"],
        "status": 200,
        "partner": "whatsapp",
        "logger": "tangkal.request",
        "level": "INFO",
    }
    assert line["request_id"] == resp.headers["X-Request-Id"] and isinstance(line["duration_ms"], float)
    assert line["at"].endswith("Z")
    assert second.partner is None and second.status == 401  # type: ignore[attr-defined]
    assert second.request_id == unauth.headers["X-Request-Id"] != line["request_id"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("5f0c2b7e-8c1d-4e55-9a43-7b0d2c1e9f00", True),
        ("lb-1234abcd.trace:7", True),
        ("short", False),  # too short
        ("has space in it", False),
        ("x" * 129, False),
        ("req-6281234567890", False),  # a run of digits could be a phone number
        ("+6281234567890abc", False),
        ("abcdefgh\u00e9ij", False),  # not ASCII
    ],
)
def test_a_well_formed_incoming_request_id_is_kept_and_anything_else_replaced(client, incoming, kept):
    resp = client.get("/healthz", headers={"X-Request-Id": incoming})
    answered = resp.headers["X-Request-Id"]
    assert (answered == incoming) is kept
    if not kept:
        assert 8 <= len(answered) <= 128 and not find_leaks([answered])


def test_errors_and_unknown_paths_are_logged_without_the_number(world, caplog):
    with caplog.at_level(logging.INFO, logger="tangkal.request"):
        world.client.get("/v1/numbers/081234567890", headers=world.auth(world.whatsapp))  # 400
        world.client.get(f"/v1/nowhere/{TSEL}?number={TSEL}")  # 404
        world.client.get("/v1/nowhere/%2B6281234567890")
    lines = [json.loads(JsonFormatter().format(r)) for r in request_lines(caplog)]
    assert [(x["status"], x["path"], x["query"]) for x in lines] == [
        (400, "/v1/numbers/{number}", []),
        (404, "/v1/nowhere/{number}", ["number"]),
        (404, "/v1/nowhere/{number}", []),
    ]
    assert find_leaks(json.dumps(x) for x in lines) == []


def test_the_formatter_redacts_what_slipped_through():
    """The last line of defence: a careless message is blanked, and the scanner sees what was attempted.

    The record is made, not logged: logged, the session's own scan (conftest) would rightly fail this test.
    """
    token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ0ZWxrb21zZWwifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
    record = logging.LogRecord(
        "hub.somewhere",
        logging.WARNING,
        __file__,
        1,
        "number %s token Bearer %s key -----BEGIN PRIVATE KEY-----\nMC4CAQ\n",
        (TSEL, token),
        None,
    )
    out = JsonFormatter().format(record)
    assert find_leaks([out]) == []
    assert {leak.what for leak in find_leaks(record_texts(record))} >= {"E.164 number", "PEM private key"}
    assert redact("call 081234567890 or +6281234567890") == "call {number} or {number}"
    assert safe_path("/v1/numbers/+6281234567890") == "/v1/numbers/{number}"


def test_the_scanner_finds_each_kind_of_leak():
    secret = "Zr2v8JmQy0oT3c9sKd7LwP1xAq5nHf4gUe6bVi8RtYs"
    samples = {
        f"looked up {TSEL}": "E.164 number",
        "path /v1/numbers/%2B6281234567890": "E.164 number",
        "called 081234567890": "national number",
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz": "Authorization value",
        "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ0ZWxrb21zZWwifQ.c2ln": "JWT (bearer token or client assertion)",
        "client_secret=abcdefghijkl": "client secret member",
        "-----BEGIN PRIVATE KEY-----": "PEM private key",
        '{"kty":"OKP","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}': "JWK private part",
        f"secret is {secret}": "a known secret",
    }
    for text, what in samples.items():
        assert what in {leak.what for leak in find_leaks([text], [secret])}, text
    clean = [
        '{"request_id":"5f0c2b7e-8c1d-4e55-9a43-7b0d2c1e9f00","duration_ms":12.08,"status":200}',
        "seq 1764652800123 at 2026-11-28T10:00:00.123Z",
        "Bearer {credential} and /v1/numbers/{number}",
    ]
    assert find_leaks(clean, [secret]) == []


# --- a realistic run, as production logs it --------------------------------------------


def _push(url: str, who: Any, headers: dict[str, str], *numbers: str) -> None:
    body = {"records": [who.sign("record", record_body(who.id, n)) for n in numbers]}
    resp = requests.post(url + "/v1/records", json=body, headers=headers, timeout=30)
    assert resp.status_code == 200 and all(r["status"] == "accepted" for r in resp.json()["results"])


def test_a_live_hub_logs_a_realistic_run_as_json_without_numbers_tokens_or_secrets(app, register, hub_env):
    from tests.conftest import _SECRETS

    kominfo = register("kominfo", "ministry")
    telkomsel = register("telkomsel", "operator", ["Telkomsel"])
    whatsapp = register("whatsapp", "ott")
    hub = LiveHub(live_env(hub_env, LOG_LEVEL="INFO"))
    sent_ids: list[str] = []
    try:
        url = hub.url
        tel = bearer(fetch_token(url, telkomsel))
        wa = bearer(fetch_token(url, whatsapp))
        # client_secret_post and a private_key_jwt assertion: secrets in bodies
        post = requests.post(
            url + "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": kominfo.client_id,
                "client_secret": kominfo.client_secret,
            },
            timeout=30,
        )
        assert post.status_code == 200
        assertion = whatsapp.assertion("http://hub.test/oauth/token")
        jwt_auth = requests.post(
            url + "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
            timeout=30,
        )
        assert jwt_auth.status_code == 200, jwt_auth.text
        wrong = requests.post(
            url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(telkomsel.client_id, "wrong-" + telkomsel.client_secret),
            timeout=30,
        )
        assert wrong.status_code == 401
        ministry = bearer(post.json()["access_token"])
        _push(url, telkomsel, tel, TSEL, ISAT)
        calls = [
            ("GET", "/v1/records?after=0&limit=10", wa),
            ("GET", f"/v1/numbers/{TSEL}", wa),
            ("GET", f"/v1/numbers/hash-range/{hashlib.sha256(TSEL.encode()).hexdigest()[:5]}", wa),
            ("GET", "/v1/numbers/081234567890", wa),  # a mistake: 400 with the suggestion
            ("GET", f"/v1/audit?number={TSEL.replace('+', '%2B')}", ministry),
            ("GET", f"/v1/records?after=0&limit=5000&number={TSEL}", wa),  # 400, a number in the query
            ("GET", "/v1/log/entries?start=0", ministry),
            ("GET", "/v1/records", {"Authorization": "Bearer not-a-token-" + kominfo.client_secret}),
        ]
        for method, path, headers in calls:
            resp = requests.request(method, url + path, headers=headers, timeout=30)
            sent_ids.append(resp.headers["X-Request-Id"])
        private_pem = private_key_to_pem(telkomsel.private_key).decode()
    finally:
        hub.stop()
        hub.log.close()
    text = open(hub.log.name).read()
    lines = text.splitlines()
    leaks = find_leaks(lines, [*_SECRETS, kominfo.client_secret, whatsapp.client_secret, assertion, private_pem])
    assert leaks == [], "\n".join(map(str, leaks[:10]))
    logged = [json.loads(x) for x in lines if x.startswith("{")]
    requests_logged = [x for x in logged if x.get("logger") == "tangkal.request"]
    by_id = {x["request_id"]: x for x in requests_logged}
    assert all(rid in by_id for rid in sent_ids)
    assert [by_id[rid]["path"] for rid in sent_ids[:2]] == ["/v1/records", "/v1/numbers/{number}"]
    assert by_id[sent_ids[0]]["partner"] == "whatsapp" and by_id[sent_ids[0]]["query"] == ["after", "limit"]
    tokens = [x for x in requests_logged if x["path"] == "/oauth/token"]
    assert sorted(x["status"] for x in tokens) == [200, 200, 200, 200, 401]
