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
                if re.search(r"""r["'][^"']*\$["']""", code) and "pattern" not in code.lower():
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


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
