"""Issue 11's numbered findings, one test (or more) each, named after the finding.

Each test reproduces what the security review found and asserts what
PROTOCOL 1.1 promises instead (sections 3, 4, 7, 8, 9). The live ones start
real gunicorn hubs on the session's database (tests/support.py LiveHub).
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from keys.jcs import canonicalize
from keys.merkle import leaf_hash, root_from_leaf_hashes
from tests.records_world import ISAT, TSEL2, XL, World
from tests.support import LiveHub, ack_body, basic_auth, bearer, record_body


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# 1. The log leaks: what a caller may not see is given as its leaf hash


def _log_world(w: World) -> dict[str, Any]:
    """Records and acks of several partners, in the log in this order."""
    tsel_on_isat = w.block(w.telkomsel, ISAT)  # 0: telkomsel's; assigned to indosat and the OTTs
    kom_on_tsel = w.block(w.kominfo, TSEL2)  # 1: kominfo's; assigned to telkomsel and the OTTs
    kom_on_xl = w.block(w.kominfo, XL)  # 2: kominfo's; assigned to the OTTs only
    acks = [
        (w.indosat, tsel_on_isat, "rejected", "indosat's private reason"),  # 3: about telkomsel's record
        (w.whatsapp, kom_on_tsel, "blocked", None),  # 4: about kominfo's record
        (w.telegram, kom_on_xl, "not_applicable", "telegram's private reason"),  # 5
    ]
    for who, env, outcome, reason in acks:
        (res,) = w.ack(who, who.sign("ack", ack_body(who.id, env["record"]["id"], outcome, reason)))
        assert res["status"] == "accepted", res
    return {"tsel_on_isat": tsel_on_isat, "kom_on_tsel": kom_on_tsel, "kom_on_xl": kom_on_xl}


def _entries(w: World, who: Any) -> list[dict[str, Any]]:
    resp = w.client.get("/v1/log/entries?start=0&end=6", headers=w.auth(who))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return list(resp.get_json()["entries"])


def _hash_of(entry: dict[str, Any]) -> bytes:
    if set(entry) == {"leaf_hash"}:
        return bytes.fromhex(entry["leaf_hash"])
    return leaf_hash(canonicalize(entry))


def test_finding_1_log_entries_hide_what_the_caller_may_not_see(world: World):
    _log_world(world)
    full = _entries(world, world.kominfo)
    assert all("leaf_hash" not in e for e in full)  # the ministry sees every entry
    expected_visible = {
        # telkomsel: its own record 0, record 1 assigned to it, the ack (3) about its record 0
        "telkomsel": {0, 1, 3},
        # indosat: record 0 assigned to it, its own ack 3
        "indosat": {0, 3},
        # whatsapp: every record (OTTs are assigned all), its own ack 4
        "whatsapp": {0, 1, 2, 4},
        "telegram": {0, 1, 2, 5},
    }
    for pid, visible in expected_visible.items():
        got = _entries(world, getattr(world, pid))
        for i, entry in enumerate(got):
            if i in visible:
                assert entry == full[i], (pid, i)
            else:
                assert entry == {"leaf_hash": leaf_hash(canonicalize(full[i])).hex()}, (pid, i)
        text = str(got)
        if pid not in ("indosat", "telkomsel"):  # its sender and the record's issuer
            assert "indosat's private reason" not in text, pid
        if pid != "telegram":
            assert "telegram's private reason" not in text, pid


def test_finding_1_the_root_recomputes_from_the_mixture(world: World):
    _log_world(world)
    for who in (world.telkomsel, world.indosat, world.whatsapp):
        head = world.client.get("/v1/log/head", headers=world.auth(who)).get_json()["tree_head"]
        assert head["size"] == 6
        mixture = _entries(world, who)
        assert any("leaf_hash" in e for e in mixture)
        assert root_from_leaf_hashes([_hash_of(e) for e in mixture]).hex() == head["root_hash"]


def test_finding_1_visibility_costs_statements_bounded_by_the_page(world: World, app):
    """The page's visibility is a fixed number of statements however long the log is (no per-entry query)."""
    from sqlalchemy import event

    from hub.db import db

    _log_world(world)
    envs = [world.kominfo.sign("record", record_body("kominfo", f"+62812{i:08d}")) for i in range(40)]
    world.push(world.kominfo, *envs)
    counts = []
    for end in (6, 46):
        statements: list[str] = []
        with app.app_context():
            engine = db.engine

        def count(conn: Any, cursor: Any, statement: str, *args: Any, sink: list[str] = statements) -> None:
            sink.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            resp = world.client.get(f"/v1/log/entries?start=0&end={end}", headers=world.auth(world.telkomsel))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert resp.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_finding_1_a_leaf_kind_without_a_rule_is_hidden_from_all_but_the_ministry(world: World, app):
    """The hook for number events (hub.ledger.visibility.rule): until a kind registers its rule, it is hidden."""
    from hub import clock as hub_clock
    from hub.db import db
    from hub.ledger import log, visibility

    assert {"record", "ack"} <= visibility.kinds_with_rules()
    assert "some_future_kind" not in visibility.kinds_with_rules()
    data = canonicalize({"some_future_kind": {"id": "x"}, "signature": {"alg": "Ed25519", "kid": "k", "value": "v"}})
    with app.app_context():
        start = log.reserve(db.session, 1)
        log.append(db.session, start, [log.Entry("some_future_kind", "x", data)], hub_clock.now())
        db.session.commit()
    for who in (world.telkomsel, world.whatsapp):
        (entry,) = _entries_at(world, who, start)
        assert entry == {"leaf_hash": leaf_hash(data).hex()}
    (entry,) = _entries_at(world, world.kominfo, start)
    assert canonicalize(entry) == data


def _entries_at(w: World, who: Any, start: int) -> list[dict[str, Any]]:
    resp = w.client.get(f"/v1/log/entries?start={start}&end={start + 1}", headers=w.auth(who))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return list(resp.get_json()["entries"])


# --------------------------------------------------------------------------
# 2. 500s from the query string and dates


@pytest.mark.parametrize(
    "path",
    [
        "/v1/records?after=9223372036854775808",
        "/v1/records?after=-1",
        "/v1/records?limit=9223372036854775808",
        "/v1/log/inclusion?index=9223372036854775808&size=9223372036854775809",
        "/v1/log/consistency?first=1&second=9223372036854775808",
        "/v1/log/entries?start=9223372036854775808",
        "/v1/log/entries?start=0&end=99999999999999999999999",
        "/v1/reports?limit=9223372036854775808",
        "/v1/records?after=%EF%BC%91",  # a full-width 1
    ],
)
def test_finding_2_query_integers_are_bounded_before_sql(world: World, path: str):
    resp = world.client.get(path, headers=world.auth(world.kominfo))
    assert resp.status_code == 400, (path, resp.status_code, resp.get_data(as_text=True))
    assert resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"


def test_finding_2_adhoc_report_periods_are_bounded(world: World, clock):
    now = clock.now()
    kom = world.auth(world.kominfo)
    bad = [
        ("0001-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),  # year 1
        ("1999-12-31T23:59:59Z", "2000-01-02T00:00:00Z"),  # before 2000
        (_iso(now), _iso(now + timedelta(days=2))),  # ends more than a day past the hub's clock
        (_iso(now - timedelta(days=401)), _iso(now)),  # spans more than 400 days
        (_iso(now), _iso(now - timedelta(days=1))),  # ends before it starts
        (_iso(now), _iso(now)),  # empty
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ]
    for start, end in bad:
        resp = world.client.post("/v1/reports", json={"kind": "adhoc", "start": start, "end": end}, headers=kom)
        assert resp.status_code == 400, (start, end, resp.status_code, resp.get_data(as_text=True))
        assert resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"
    ok = world.client.post(
        "/v1/reports",
        json={"kind": "adhoc", "start": _iso(now - timedelta(days=399)), "end": _iso(now + timedelta(days=1))},
        headers=kom,
    )
    assert ok.status_code == 201, ok.get_data(as_text=True)


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:59.999Z", "9999-12-31T23:59:59.999Z"])
def test_finding_2_extreme_dates_in_queries_are_answered_not_500(world: World, ts: str):
    """Found while auditing every date a partner sends: TAXII's added_after at year 1 overflowed (500)."""
    taxii = {**world.auth(world.whatsapp), "Accept": "application/taxii+json;version=2.1"}
    (collection,) = world.client.get("/taxii2/api/collections/", headers=taxii).get_json()["collections"]
    for path, headers in [
        (f"/taxii2/api/collections/{collection['id']}/objects/?added_after={ts}", taxii),
        (f"/taxii2/api/collections/{collection['id']}/manifest/?added_after={ts}", taxii),
        (f"/v1/reports?since={ts}", world.auth(world.kominfo)),
        (f"/v1/audit?since={ts}", world.auth(world.kominfo)),
    ]:
        resp = world.client.get(path, headers=headers)
        assert resp.status_code < 500, (path, resp.status_code, resp.get_data(as_text=True)[:300])


# --------------------------------------------------------------------------
# 3. Timestamps and prefixes that are not ASCII


@pytest.mark.parametrize(
    "issued_at",
    [
        "２０２６-01-01T00:00:00Z",  # full-width digits
        "٢٠٢٦-01-01T00:00:00Z",  # Arabic-Indic digits
        "2026-01-01T00:00:00Z\n",  # trailing newline
        "2026-01-01T00:00:00.１Z",
    ],
)
def test_finding_3_non_ascii_or_newline_timestamps_are_rejected(world: World, issued_at: str):
    env = world.telkomsel.sign("record", record_body("telkomsel", ISAT, issued_at=issued_at, observed_at=issued_at))
    (res,) = world.push(world.telkomsel, env)
    assert res["status"] == "rejected", res
    pulled = world.pull_all(world.whatsapp)
    assert not pulled


@pytest.mark.parametrize("prefix", ["3f85e%0A", "3f85e%0D", "%EF%BC%93f85e", "3f85e%20", "3F85E"])
def test_finding_3_hash_range_prefix_is_five_ascii_hex(world: World, prefix: str):
    resp = world.client.get(f"/v1/numbers/hash-range/{prefix}", headers=world.auth(world.whatsapp))
    assert resp.status_code == 400, (prefix, resp.status_code)
    assert world.client.get("/v1/numbers/hash-range/3f85e", headers=world.auth(world.whatsapp)).status_code == 200


def test_finding_3_no_format_check_uses_backslash_d_or_dollar():
    """The audit, kept: every regex in hub/, partners/ and keys/ says [0-9] and is used with fullmatch."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for folder in ("hub", "partners", "keys"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            for n, line in enumerate(text.splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.search(r"""r["'][^"']*\\d""", code) or re.search(r"\bre\.match\(|\.match\(", code):
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
                if re.search(r"\.is(digit|decimal|numeric)\(", code):  # all three take non-ASCII digits
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
                if re.search(r"""r["'][^"']*\$["']""", code) and "pattern" not in code.lower():
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "\uff11\uff12", "12\n3", "1e3"])
def test_finding_3_the_sdk_reads_retry_after_as_ascii_delta_seconds_only(value: str):
    from partners.retry import parse_retry_after

    assert parse_retry_after(value) is None  # not delta-seconds, and not an HTTP date: never a crash
    assert parse_retry_after("12") == 12.0


# --------------------------------------------------------------------------
# 4. HUB_URL unset must not let the Host header choose iss and aud


def test_finding_4_without_hub_url_the_hub_fixes_its_url_and_refuses_other_hosts(make_app, register, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    app = make_app(HUB_URL=None)
    assert app.config["HUB_URL"] == "http://127.0.0.1:5000"  # fixed when the app was built
    client = app.test_client()
    ours, evil = "http://127.0.0.1:5000", "http://127.0.0.9:1234"
    refused = client.get("/.well-known/oauth-authorization-server", base_url=evil)
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert "127.0.0.9" not in str(client.get("/.well-known/oauth-authorization-server", base_url=ours).get_json())
    assert client.get("/.well-known/oauth-authorization-server", base_url=ours).get_json()["issuer"] == ours
    op = register("whatsapp", "ott")
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": op.assertion(evil + "/oauth/token"),
    }
    assert client.post("/oauth/token", data=form, base_url=evil).status_code == 400
    sent_to_us = client.post("/oauth/token", data=form, base_url=ours)
    assert sent_to_us.status_code in (400, 401) and sent_to_us.get_json()["error"] == "invalid_client"
    form["client_assertion"] = op.assertion(ours + "/oauth/token")
    good = client.post("/oauth/token", data=form, base_url=ours)
    assert good.status_code == 200, good.get_data(as_text=True)
    assert client.get("/v1/whoami", headers=bearer(good.get_json()["access_token"]), base_url=ours).status_code == 200


def test_finding_4_gunicorn_without_hub_url_serves_its_bind_address_only(hub_env, register, app):
    op = register("telkomsel", "operator", ["Telkomsel"])
    hub = LiveHub({**hub_env, "HUB_URL": "", "HUB_URL_FROM_BIND": ""})
    try:
        meta = requests.get(hub.url + "/.well-known/oauth-authorization-server", timeout=10)
        assert meta.status_code == 200 and meta.json()["issuer"] == hub.url
        other = requests.get(
            hub.url + "/.well-known/oauth-authorization-server", headers={"Host": "127.0.0.9:1234"}, timeout=10
        )
        assert other.status_code == 400 and other.headers["Content-Type"] == "application/problem+json"
        tok = hub.token(op)
        assert requests.get(hub.url + "/v1/whoami", headers=bearer(tok), timeout=10).status_code == 200
    finally:
        hub.stop()


# --------------------------------------------------------------------------
# 5. A chunked body over 4 MiB is refused, not cut and accepted


def test_finding_5_a_chunked_body_over_4_mib_is_413(hub_env, register, app):
    from keys.wire import MAX_BODY_BYTES

    op = register("telkomsel", "operator", ["Telkomsel"])
    hub = LiveHub({**hub_env, "HUB_URL": "http://hub.test"})
    try:
        tok = hub.token(op)
        env = op.sign("record", record_body("telkomsel", ISAT))
        head = b'{"records": [' + canonicalize(env) + b"]"
        padding = b" " * (MAX_BODY_BYTES - len(head))  # whitespace: the first 4 MiB would still be cut mid-object

        def chunks() -> Any:
            yield head
            for i in range(0, len(padding), 65536):
                yield padding[i : i + 65536]
            yield b"}" + b" " * 1024

        resp = requests.post(
            hub.url + "/v1/records",
            data=chunks(),
            headers={**bearer(tok), "Content-Type": "application/json"},
            timeout=60,
        )
        assert resp.status_code == 413, (resp.status_code, resp.text[:300])
        assert resp.headers["Content-Type"] == "application/problem+json"
        # nothing of it was stored
        pulled = requests.get(hub.url + "/v1/records?after=0", headers=bearer(tok), timeout=10).json()
        assert pulled["items"] == []
        # the same record in a small chunked body is accepted
        small = requests.post(
            hub.url + "/v1/records",
            data=iter([head, b"}"]),
            headers={**bearer(tok), "Content-Type": "application/json"},
            timeout=60,
        )
        assert small.status_code == 200 and small.json()["results"][0]["status"] == "accepted", small.text
    finally:
        hub.stop()


# --------------------------------------------------------------------------
# 6. A retired hub key: nothing signed after retirement uses it (the two-process
#    test is tests/test_live_processes.py::test_a_retired_hub_key_stops_working_within_a_second_on_every_process)


def test_finding_6_nothing_the_hub_signs_after_retirement_uses_the_retired_key(world: World, app):
    from hub.signing import create_key, retire_key, signer

    with app.app_context():
        old = signer().kid
    old_token = world.tokens["telkomsel"]
    with app.app_context():
        new = create_key(app).kid
        retire_key(app, old)
    assert world.client.get("/v1/whoami", headers=bearer(old_token)).status_code == 401  # at once, here
    resp = world.client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic(world.telkomsel))
    fresh = resp.get_json()["access_token"]
    assert _jws_kid(fresh) == new
    world.tokens["telkomsel"] = fresh
    env = world.block(world.telkomsel, ISAT)
    (item,) = world.pull_all(world.telkomsel)
    assert item["record"]["id"] == env["record"]["id"] and item["receipt"]["signature"]["kid"] == new
    head = world.client.get("/v1/log/head", headers=world.auth(world.telkomsel)).get_json()
    assert head["signature"]["kid"] == new
    jwks = world.client.get("/.well-known/jwks.json").get_json()
    assert old in {k["kid"] for k in jwks["keys"]}  # still published, for what it signed before


def _basic(creds: Any) -> dict[str, str]:

    return basic_auth(creds)


def _jws_kid(token: str) -> str:
    import base64
    import json

    part = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["kid"])


# --------------------------------------------------------------------------
# 7. Files and probes


def test_finding_7_the_sqlite_database_and_its_journal_files_are_0600(make_app, tmp_path, monkeypatch):

    from flask_migrate import upgrade

    from hub.db import db

    path = tmp_path / "hub.db"
    app = make_app(hub_key=False, DATABASE_URL=f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        db.session.execute(db.text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        db.session.execute(db.text("INSERT INTO probe VALUES (1)"))
        db.session.commit()
        files = [p for p in tmp_path.iterdir() if p.name.startswith("hub.db")]
        assert {p.name for p in files} >= {"hub.db", "hub.db-wal", "hub.db-shm"}
        modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
        db.session.remove()
        db.engine.dispose()
    assert set(modes.values()) == {"0o600"}, modes


def _basic_of(client_id: str, secret: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_finding_7_unknown_client_and_wrong_secret_get_the_same_answer_after_the_same_work(
    client, register, monkeypatch
):
    from hub.auth import secrets as hub_secrets

    op = register("telkomsel", "operator")
    verified: list[str] = []
    real = hub_secrets._hasher

    class Counting:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_.split("$")[1])  # the algorithm: argon2id for both
            return bool(real.verify(hash_, password))

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(hub_secrets, "_hasher", Counting())
    grant = {"grant_type": "client_credentials"}
    answers = []
    for client_id in ("tk_does_not_exist_at_all_here", op.client_id):
        for how in ("basic", "post"):
            verified.clear()
            if how == "basic":
                resp = client.post("/oauth/token", data=grant, headers=_basic_of(client_id, "wrong-secret"))
            else:
                resp = client.post(
                    "/oauth/token", data={**grant, "client_id": client_id, "client_secret": "wrong-secret"}
                )
            answers.append((how, resp.status_code, resp.get_json(), resp.headers.get("WWW-Authenticate")))
            assert verified == ["argon2id"], (client_id, how, verified)  # one Argon2 verification either way
    unknown_basic, unknown_post, wrong_basic, wrong_post = answers
    assert unknown_basic == wrong_basic and unknown_post == wrong_post, answers
    assert unknown_basic[2]["error"] == "invalid_client" and unknown_basic[1] == 401
    assert "exist" not in str(answers)


def test_finding_7_unknown_client_assertion_fails_in_the_same_words(client, register):
    from tests.support import PartnerCreds

    op = register("whatsapp", "ott")
    ghost = PartnerCreds("ghost", "ott", "tk_ghost_client_id", "", op.kid, op.private_key)
    stranger_key = register("telegram", "ott").private_key
    wrong_key = PartnerCreds(op.id, op.kind, op.client_id, "", op.kid, stranger_key)
    answers = []
    for who in (ghost, wrong_key):
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": who.assertion("http://localhost/oauth/token"),
        }
        resp = client.post("/oauth/token", data=form)
        answers.append((resp.status_code, resp.get_json()))
    assert answers[0] == answers[1] and answers[0][1]["error"] == "invalid_client", answers


def test_finding_7_two_client_authentication_methods_at_once_are_refused(client, register):
    op = register("telkomsel", "operator")
    from tests.support import basic_auth

    both = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": op.client_id, "client_secret": op.client_secret},
        headers=basic_auth(op),
    )
    assert both.status_code in (400, 401) and both.get_json()["error"] in ("invalid_request", "invalid_client")
    assert "access_token" not in both.get_json()
    with_assertion = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": op.assertion("http://localhost/oauth/token"),
        },
        headers=basic_auth(op),
    )
    assert with_assertion.status_code in (400, 401) and "access_token" not in with_assertion.get_json()
    # each alone still works
    assert (
        client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)).status_code
        == 200
    )


@pytest.mark.parametrize("scope", ["records:read\x1b", 'records:read "x"', "records:read \u00e9", "records:read\n"])
def test_finding_7_a_scope_outside_rfc_6749_characters_is_invalid_scope_not_500(client, register, scope):
    from tests.support import basic_auth

    op = register("telkomsel", "operator")
    resp = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": scope}, headers=basic_auth(op)
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_scope", resp.get_data(as_text=True)


def test_finding_7_a_tokens_scope_is_cut_to_what_the_partners_kind_allows_today(world: World, app):
    from hub.auth.models import Partner
    from hub.db import db

    assert world.client.get("/v1/reports", headers=world.auth(world.kominfo)).status_code == 200
    with app.app_context():
        db.session.get(Partner, "kominfo").kind = "operator"  # say, a partner re-registered as another kind
        db.session.commit()
    assert world.client.get("/v1/reports", headers=world.auth(world.kominfo)).status_code == 403


def test_finding_7_metrics_need_the_bearer_secret(make_app):
    closed = make_app().test_client()
    assert closed.get("/metrics").status_code == 404  # METRICS_TOKEN unset: not served at all
    client = make_app(METRICS_TOKEN="scrape-secret-123").test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2NyYXBlLXNlY3JldC0xMjM="}):
        resp = client.get("/metrics", headers=headers)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json", headers
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "tangkal_http_requests_total" not in resp.get_data(as_text=True)
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert ok.status_code == 200 and "tangkal_http_requests_total" in ok.get_data(as_text=True)


def _empty_redis_db() -> int:
    import redis

    for n in range(15, 7, -1):
        if redis.Redis(host="127.0.0.1", port=6379, db=n).dbsize() == 0:
            return n
    pytest.fail("no empty Redis database among 8..15 on 127.0.0.1:6379")


def test_finding_7_two_workers_share_the_rate_limit_through_redis(hub_env, app):
    import redis

    n = _empty_redis_db()
    hub = LiveHub(
        {
            **hub_env,
            "HUB_URL": "http://hub.test",
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{n}",
            "RATELIMIT_DEFAULT": "10 per day",  # one window for the whole test
        },
        workers=2,
        threads=2,
    )
    try:
        statuses = []
        for _ in range(30):  # a new connection each time: gunicorn's workers take turns accepting them
            with requests.Session() as s:
                statuses.append(s.get(hub.url + "/v1/whoami", headers=bearer("junk"), timeout=10).status_code)
        assert statuses.count(429) == 20 and statuses[:10] == [401] * 10, statuses
        log = open(hub.log.name).read()
        assert "RATE LIMITS ARE PER WORKER" not in log
    finally:
        hub.stop()
        redis.Redis(host="127.0.0.1", port=6379, db=n).flushdb()


def test_finding_7_two_workers_with_memory_rate_limits_warn_loudly_at_start(hub_env, app):
    hub = LiveHub({**hub_env, "HUB_URL": "http://hub.test", "RATELIMIT_STORAGE_URI": "memory://"}, workers=2)
    try:
        log = open(hub.log.name).read()
    finally:
        hub.stop()
    assert "RATE LIMITS ARE PER WORKER" in log and "2 workers" in log, log[-2000:]


# --------------------------------------------------------------------------
# 9. Caps of PROTOCOL 1.1 (the number look-up's 100 is
#    tests/test_records_read.py::test_number_lookup_lists_the_newest_100_and_counts_what_the_caller_may_see)


def test_finding_9_report_anomalies_list_at_most_1000_oldest_first_with_anomaly_count(world: World, app, clock):
    from sqlalchemy import insert

    from hub.acks.models import Attestation
    from hub.db import db
    from hub.records.anomalies import Anomaly

    now = clock.now()
    base = now - timedelta(days=1)
    with app.app_context():
        db.session.execute(
            insert(Anomaly),
            [
                {
                    "kind": "rereport",
                    "number": TSEL2,
                    "partner_id": "telkomsel",
                    "record_id": f"00000000-0000-4000-8000-{i:012d}",
                    "related_record_id": None,
                    "created_at": base + timedelta(seconds=i + 1),
                }
                for i in range(1003)
            ],
        )
        db.session.add(
            Attestation(
                id="00000000-0000-4000-8000-aaaaaaaaaaaa",
                partner_id="telkomsel",
                as_of=base,
                blocked_count=5,
                blocked_set_sha256="0" * 64,
                expected_count=1,
                expected_sha256="1" * 64,
                match=False,
                sha256="2" * 64,
                envelope="{}",
                received_at=base,  # the oldest of all: listed first
            )
        )
        db.session.commit()
    resp = world.client.post(
        "/v1/reports",
        json={"kind": "adhoc", "start": _iso(now - timedelta(days=2)), "end": _iso(now + timedelta(hours=1))},
        headers=world.auth(world.kominfo),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    report = resp.get_json()["report"]
    assert report["anomaly_count"] == 1004 and report["totals"]["anomalies"] == 1004
    listed = report["anomalies"]
    assert len(listed) == 1000
    assert listed[0]["kind"] == "attestation_mismatch"
    assert [a["at"] for a in listed] == sorted(a["at"] for a in listed)
    assert listed[-1]["record_id"] == "00000000-0000-4000-8000-000000000998"


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_finding_9_authlibs_default_private_key_jwt_client_gets_a_token(app, register, alg):
    """authlib's PrivateKeyJWT signs assertions that live 3600 s: the most common Python client works out of the box."""
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT
    from joserfc.jwk import OKPKey

    from keys.keyfiles import private_key_to_pem
    from tests.test_partners_support import serve

    op = register("whatsapp", "ott")
    key = OKPKey.import_key(private_key_to_pem(op.private_key), {"kid": op.kid})
    with serve(app) as url:
        session = OAuth2Session(op.client_id, key, token_endpoint_auth_method="private_key_jwt")
        session.register_client_auth_method(PrivateKeyJWT(url + "/oauth/token", alg=alg, headers={"kid": op.kid}))
        token = session.fetch_token(url + "/oauth/token", grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        resp = requests.get(url + "/v1/whoami", headers=bearer(token["access_token"]), timeout=10)
        assert resp.status_code == 200 and resp.json()["partner"] == "whatsapp"


def test_finding_9_an_hour_long_assertion_is_accepted_once_and_its_jti_outlives_the_purge(app, client, register, clock):
    from hub.reports.scheduler import run_purge

    op = register("whatsapp", "ott")
    clock.freeze(datetime.now(UTC).replace(microsecond=0))
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": op.assertion("http://localhost/oauth/token", lifetime=3600),
    }
    assert client.post("/oauth/token", data=form).status_code == 200
    clock.advance(timedelta(minutes=50))
    run_purge(app)  # what every instance's scheduler runs: the jti stays until the assertion's exp
    replay = client.post("/oauth/token", data=form)
    assert replay.status_code in (400, 401) and replay.get_json()["error"] == "invalid_client"
    too_long = dict(form, client_assertion=op.assertion("http://localhost/oauth/token", lifetime=3700))
    clock.freeze(datetime.now(UTC).replace(microsecond=0))
    assert client.post("/oauth/token", data=too_long).get_json()["error"] == "invalid_client"


# --------------------------------------------------------------------------
# 8. The OpenAPI document (the full checks: tests/test_openapi.py)


def test_finding_8_openapi_is_valid_3_1_examples_pass_their_signature_pattern_and_oauth_errors_are_rfc_6749(client):
    import re

    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").get_json()
    validate(doc)
    schemas = doc["components"]["schemas"]
    pattern = schemas["Signature"]["properties"]["value"]["pattern"]
    push = doc["paths"]["/v1/records"]["post"]["requestBody"]["content"]["application/json"]["example"]
    acks = doc["paths"]["/v1/acks"]["post"]["requestBody"]["content"]["application/json"]["example"]
    for env in push["records"] + acks["acks"]:
        assert re.fullmatch(pattern.removeprefix("^").removesuffix("$"), env["signature"]["value"])
    for name in ("PushRequest", "AckPushRequest", "SignedRecord", "SignedAck"):
        assert schemas[name]["additionalProperties"] is False, name
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        for status in ("400", "401"):
            content = doc["paths"][path]["post"]["responses"][status]["content"]
            assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/OAuthError"}, (path, status)
    # and what the token endpoint sends is that shape
    body = client.post("/oauth/token", data={"grant_type": "client_credentials"}).get_json()
    assert set(body) <= {"error", "error_description", "error_uri"} and body["error"] == "invalid_client"
