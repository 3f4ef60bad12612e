"""The authorization matrix: every endpoint of the hub against every kind of caller, one table.

Rows are requests (one per endpoint, several where the answer depends on
whose data is asked for); columns are what the request carries. Each cell
is the answer a partner depends on: PROTOCOL.md section 3 (scopes by kind,
401 for a missing or bad token, 403 without the scope, 404 where the
existence of another partner's data would otherwise leak).

The table must cover the hub: ``test_every_endpoint_is_in_the_table`` fails
when the app's url_map or ``/openapi.json`` has an endpoint (method and
rule) that no row reaches, so a new endpoint cannot land without its row.

One small world for the whole module (building it per cell would cost more
than the cells): two operators (Telkomsel, Indosat), one OTT (WhatsApp),
the ministry (Kominfo), and a third operator (Smartfren) that is disabled.
Writes are dry runs where the API has them (records, acks), so the world
does not change under the table; attestations and ad-hoc reports are new
objects each time, harmless to the other rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.records_world import ISAT, TSEL, XL
from tests.support import PartnerCreds, ack_body, attestation_body, basic_auth, bearer, record_body, register_partner

# --- the table ----------------------------------------------------------------------------------------------------

#: What each column's request carries. Partners: op = telkomsel (operator), ott = whatsapp, min = kominfo
#: (ministry); "dis" is smartfren, an operator whose clients were disabled after its token was issued.
COLUMNS: dict[str, str] = {
    "none": "no Authorization header",
    "exp": "telkomsel's token, expired (issued TOKEN_TTL_SECONDS + leeway ago by the hub's clock)",
    "rev": "telkomsel's token, revoked with POST /oauth/revoke",
    "dis": "smartfren's token; then hub.admin.set_enabled('smartfren', False)",
    "op": "telkomsel (operator) with every scope of its kind",
    "ott": "whatsapp (OTT) with every scope of its kind",
    "min": "kominfo (ministry) with every scope of its kind",
    "rw": "telkomsel with records:write alone",
    "rr": "telkomsel with records:read alone",
    "aw": "telkomsel with acks:write alone",
    "atw": "telkomsel with attestations:write alone",
    "lr": "telkomsel with log:read alone",
    "rpr": "kominfo with reports:read alone",
    "rpw": "kominfo with reports:write alone",
    "nw": "telkomsel with numbers:write alone (PROTOCOL 1.1)",
    "ar": "kominfo with audit:read alone (PROTOCOL 1.1)",
}

#: column -> (partner, scope alone or None for the kind's every scope)
WHO: dict[str, tuple[str, str | None]] = {
    "exp": ("telkomsel", None),
    "rev": ("telkomsel", None),
    "dis": ("smartfren", None),
    "op": ("telkomsel", None),
    "ott": ("whatsapp", None),
    "min": ("kominfo", None),
    "rw": ("telkomsel", "records:write"),
    "rr": ("telkomsel", "records:read"),
    "aw": ("telkomsel", "acks:write"),
    "atw": ("telkomsel", "attestations:write"),
    "lr": ("telkomsel", "log:read"),
    "rpr": ("kominfo", "reports:read"),
    "rpw": ("kominfo", "reports:write"),
    "nw": ("telkomsel", "numbers:write"),
    "ar": ("kominfo", "audit:read"),
}

# Cells: an HTTP status, or for a batch push answered 200 the one item's fate:
#   ok = judged valid (dry run),  na = rejected not-assigned,  im = rejected issuer-mismatch,
#   nh = rejected not-home-operator (a number event about another operator's number).
# 302 on /console is a redirect to /console/login (a bearer token never opens a console page).
# /metrics is 404 here: METRICS_TOKEN is unset, so it is not served (its bearer secret is no OAuth token;
# tests/test_security_findings.py checks 401 without it and 200 with it).
#
# Rows: METHOD URL [body]. {names} are ids of the world below:
#   k_tsel  the ministry's block of a Telkomsel number (assigned to telkomsel and whatsapp)
#   k_isat  the ministry's block of an Indosat number (assigned to indosat and whatsapp; indosat acked it)
#   t_xl    telkomsel's block of an XL number (no XL operator: assigned to whatsapp only)
#   i_isat  indosat's block of an Indosat number (assigned to indosat and whatsapp)
#   nobody  a UUID that names nothing;  report  a daily report (with a webhook delivery)
#   ind_*   the STIX indicator of that record;  prefix  the hash prefix of TSEL
# Bodies: block (signed by the column's partner, as issuer), block-as-indosat (signed by the column's partner,
# naming indosat as issuer), ack:<record> (the column's partner acks it), attestation, adhoc (a one-day ad-hoc
# report), event:<number> (a number event "reassigned" by the column's partner), {} (an empty JSON object), secret (client_secret_basic of the column's partner, scope of the column),
# bearer-as-client (the column's token where a client credential belongs), secret+own-token (the column's
# token, or a fresh one of the same partner for live columns, as the form's token), secret+indosat-token
# (indosat's token: revoking it must change nothing), no-csrf (a form without the CSRF token).
MATRIX = """
row                                                              | none exp  rev  dis  | op   ott  min  | rw   rr   aw   atw  lr   rpr  rpw  nw   ar
GET  /healthz                                                    | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
GET  /readyz                                                     | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
GET  /metrics                                                    | 404  404  404  404  | 404  404  404  | 404  404  404  404  404  404  404  404  404
GET  /openapi.json                                               | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
GET  /.well-known/oauth-authorization-server                     | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
GET  /.well-known/jwks.json                                      | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
GET  /v1/partners/indosat/keys                                   | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
GET  /v1/partners/nobody/keys                                    | 404  404  404  404  | 404  404  404  | 404  404  404  404  404  404  404  404  404
GET  /static/nothing.css                                         | 404  404  404  404  | 404  404  404  | 404  404  404  404  404  404  404  404  404
POST /oauth/token  secret                                        | 401  200  200  401  | 200  200  200  | 200  200  200  200  200  200  200  200  200
POST /oauth/token  bearer-as-client                              | 401  401  401  401  | 401  401  401  | 401  401  401  401  401  401  401  401  401
POST /oauth/revoke  secret+own-token                             | 401  200  200  401  | 200  200  200  | 200  200  200  200  200  200  200  200  200
POST /oauth/revoke  secret+indosat-token                         | 401  200  200  401  | 200  200  200  | 200  200  200  200  200  200  200  200  200
POST /oauth/revoke  bearer-as-client                             | 401  401  401  401  | 401  401  401  | 401  401  401  401  401  401  401  401  401
POST /oauth/introspect  secret+own-token                         | 401  400  400  401  | 400  400  200  | 400  400  400  400  400  200  200  400  200
POST /oauth/introspect  bearer-as-client                         | 401  401  401  401  | 401  401  401  | 401  401  401  401  401  401  401  401  401
GET  /v1/whoami                                                  | 401  401  401  401  | 200  200  200  | 200  200  200  200  200  200  200  200  200
POST /v1/records?dry_run=true  block                             | 401  401  401  401  | ok   ok   ok   | ok   403  403  403  403  403  403  403  403
POST /v1/records?dry_run=true  block-as-indosat                  | 401  401  401  401  | im   im   im   | im   403  403  403  403  403  403  403  403
GET  /v1/records?after=0                                         | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /v1/records/{k_tsel}                                        | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /v1/records/{k_isat}                                        | 401  401  401  401  | 404  200  200  | 403  404  403  403  403  403  403  403  403
GET  /v1/records/{t_xl}                                          | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /v1/records/{i_isat}                                        | 401  401  401  401  | 404  200  200  | 403  404  403  403  403  403  403  403  403
GET  /v1/records/{nobody}                                        | 401  401  401  401  | 404  404  404  | 403  404  403  403  403  403  403  403  403
GET  /v1/numbers/{TSEL}                                          | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /v1/numbers/12345                                           | 401  401  401  401  | 400  400  400  | 403  400  403  403  403  403  403  403  403
GET  /v1/numbers/hash-range/{prefix}                             | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /v1/numbers/hash-range/XYZ                                  | 401  401  401  401  | 400  400  400  | 403  400  403  403  403  403  403  403  403
POST /v1/acks?dry_run=true  ack:k_tsel                           | 401  401  401  401  | ok   ok   403  | 403  403  ok   403  403  403  403  403  403
POST /v1/acks?dry_run=true  ack:k_isat                           | 401  401  401  401  | na   ok   403  | 403  403  na   403  403  403  403  403  403
POST /v1/acks?dry_run=true  ack:nobody                           | 401  401  401  401  | na   na   403  | 403  403  na   403  403  403  403  403  403
POST /v1/attestations  attestation                               | 401  401  401  401  | 201  201  403  | 403  403  403  201  403  403  403  403  403
GET  /v1/log/head                                                | 401  401  401  401  | 200  200  200  | 403  403  403  403  200  403  403  403  403
GET  /v1/log/inclusion?index=0&size=2                            | 401  401  401  401  | 200  200  200  | 403  403  403  403  200  403  403  403  403
GET  /v1/log/consistency?first=1&second=2                        | 401  401  401  401  | 200  200  200  | 403  403  403  403  200  403  403  403  403
GET  /v1/log/entries?start=0                                     | 401  401  401  401  | 200  200  200  | 403  403  403  403  200  403  403  403  403
GET  /v1/reports                                                 | 401  401  401  401  | 403  403  200  | 403  403  403  403  403  200  403  403  403
POST /v1/reports  adhoc                                          | 401  401  401  401  | 403  403  201  | 403  403  403  403  403  403  201  403  403
GET  /v1/reports/{report}                                        | 401  401  401  401  | 403  403  200  | 403  403  403  403  403  200  403  403  403
GET  /v1/reports/{nobody}                                        | 401  401  401  401  | 403  403  404  | 403  403  403  403  403  404  403  403  403
GET  /v1/reports/{report}.csv                                    | 401  401  401  401  | 403  403  200  | 403  403  403  403  403  200  403  403  403
GET  /v1/reports/{report}/delivery                               | 401  401  401  401  | 403  403  200  | 403  403  403  403  403  200  403  403  403
GET  /v1/audit                                                   | 401  401  401  401  | 403  403  200  | 403  403  403  403  403  403  403  403  200
POST /v1/number-events  {}                                       | 401  401  401  401  | 400  403  403  | 403  403  403  403  403  403  403  400  403
POST /v1/number-events?dry_run=true  event:TSEL                  | 401  401  401  401  | ok   403  403  | 403  403  403  403  403  403  403  ok   403
POST /v1/number-events?dry_run=true  event:ISAT                  | 401  401  401  401  | nh   403  403  | 403  403  403  403  403  403  403  nh   403
GET  /v1/numbers/{TSEL}/reassigned?since=2026-01-01              | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
POST /v1/numbers/reassigned  {}                                  | 401  401  401  401  | 400  400  400  | 403  400  403  403  403  403  403  403  403
GET  /taxii2/                                                    | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/                                                | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/                                    | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/                             | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/{nobody}/                           | 401  401  401  401  | 404  404  404  | 403  404  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/objects/                     | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/manifest/                    | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/objects/{ind_k_tsel}/        | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/objects/{ind_k_isat}/        | 401  401  401  401  | 404  200  200  | 403  404  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/objects/{ind_k_tsel}/versions/ | 401  401  401  401  | 200  200  200  | 403  200  403  403  403  403  403  403  403
GET  /taxii2/api/collections/blocks/objects/{ind_k_isat}/versions/ | 401  401  401  401  | 404  200  200  | 403  404  403  403  403  403  403  403  403
GET  /taxii2/nothing/here                                        | 401  401  401  401  | 404  404  404  | 403  404  403  403  403  403  403  403  403
POST /taxii2/api/collections/blocks/objects/  {}                 | 401  401  401  401  | 405  405  405  | 403  405  403  403  403  403  403  403  403
PUT  /taxii2/api/collections/blocks/objects/  {}                 | 401  401  401  401  | 405  405  405  | 403  405  403  403  403  403  403  403  403
PATCH /taxii2/api/collections/blocks/objects/  {}                | 401  401  401  401  | 405  405  405  | 403  405  403  403  403  403  403  403  403
DELETE /taxii2/api/collections/blocks/objects/                   | 401  401  401  401  | 405  405  405  | 403  405  403  403  403  403  403  403  403
GET  /console/                                                   | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/league                                             | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/overdue                                            | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/overdue.csv                                        | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/numbers?number={TSEL}                              | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/partners                                           | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/reports                                            | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/reports/{report}                                   | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/reports/{report}.csv                               | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/reports/{report}.json                              | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/staff                                              | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/enrol                                              | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/verify                                             | 302  302  302  302  | 302  302  302  | 302  302  302  302  302  302  302  302  302
GET  /console/login                                              | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
POST /console/login  no-csrf                                     | 400  400  400  400  | 400  400  400  | 400  400  400  400  400  400  400  400  400
POST /console/enrol  no-csrf                                     | 400  400  400  400  | 400  400  400  | 400  400  400  400  400  400  400  400  400
POST /console/verify  no-csrf                                    | 400  400  400  400  | 400  400  400  | 400  400  400  400  400  400  400  400  400
POST /console/language  no-csrf                                  | 400  400  400  400  | 400  400  400  | 400  400  400  400  400  400  400  400  400
POST /console/logout  no-csrf                                    | 400  400  400  400  | 400  400  400  | 400  400  400  400  400  400  400  400  400
GET  /console/static/console.css                                 | 200  200  200  200  | 200  200  200  | 200  200  200  200  200  200  200  200  200
"""


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    url: str
    body: str | None
    cells: dict[str, str]


def parse_matrix(text: str) -> list[Row]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    header = lines[0].replace("|", " ").split()
    assert header[0] == "row" and tuple(header[1:]) == tuple(COLUMNS), header
    rows = []
    for line in lines[1:]:
        label, _, rest = line.partition("|")
        cells = rest.replace("|", " ").split()
        assert len(cells) == len(COLUMNS), f"{label.strip()}: {len(cells)} cells for {len(COLUMNS)} columns"
        method, _, after = label.strip().partition(" ")
        words = re.split(r"\s{2,}", after.strip())
        url = words[0]
        bodies = words[1:]
        rows.append(Row(label.strip(), method, url, bodies[0] if bodies else None, dict(zip(COLUMNS, cells))))
    return rows


ROWS = parse_matrix(MATRIX)


# --- the world ----------------------------------------------------------------------------------------------------

ISAT2 = "+6281534567891"

#: Words only some partners may ever read: the records' reasons and indosat's ack reason.
SECRETS = {
    "k_isat": "Investment fraud: kominfo-to-indosat-only",
    "i_isat": "Loan scam: indosat-own-record",
    "ack": "indosat-ack-reason: number belongs to a hospital",
}
#: partner of a column -> the secrets no answer to it may contain, wherever in the hub it asks
NEVER_SEEN: dict[str, tuple[str, ...]] = {
    "telkomsel": (SECRETS["k_isat"], SECRETS["i_isat"], SECRETS["ack"]),
    "whatsapp": (SECRETS["ack"],),  # assigned both Indosat numbers' records, but not the issuer of either
    # (the log too: an entry the caller may not see is given as its leaf hash, PROTOCOL 1.1 section 7)
    "smartfren": tuple(SECRETS.values()),
}


@dataclass
class Matrix:
    app: Flask
    client: FlaskClient
    partners: dict[str, PartnerCreds]
    tokens: dict[str, str]  # column -> token
    ids: dict[str, str]
    notes: list[str] = field(default_factory=list)
    form_token: str | None = None  # the token the last OAuth cell's form named

    def fresh_token(self, partner: str, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        resp = self.client.post("/oauth/token", data=data, headers=basic_auth(self.partners[partner]))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return str(resp.get_json()["access_token"])


def _scope_exists(scope: str) -> bool:
    from hub.auth.scopes import SCOPE_DESCRIPTIONS

    return scope in SCOPE_DESCRIPTIONS


@pytest.fixture(scope="module")
def matrix(migrated: str, hub_env: dict[str, str]) -> Iterator[Matrix]:
    import sqlalchemy as sa

    from hub import admin, create_app
    from hub.auth.protect import TOKEN_LEEWAY
    from hub.clock import clock_of
    from hub.db import db
    from hub.reports import periods, service
    from hub.signing import ensure_key
    from hub.taxii.stix import indicator_id
    from tests.conftest import _empty_tables, _overrides

    settings = {"HUB_URL": "http://localhost", "MINISTRY_WEBHOOK_URL": "http://127.0.0.1:9/tangkal/reports"}
    app = create_app({**_overrides(hub_env), **settings})  # the test client names localhost
    with app.app_context():
        ensure_key(app)
    client = app.test_client()
    partners = {
        "kominfo": register_partner(app, "kominfo", "ministry"),
        "telkomsel": register_partner(app, "telkomsel", "operator", ["Telkomsel"]),
        "indosat": register_partner(app, "indosat", "operator", ["Indosat Ooredoo Hutchison"]),
        "smartfren": register_partner(app, "smartfren", "operator", ["Smartfren"]),
        "whatsapp": register_partner(app, "whatsapp", "ott"),
    }
    m = Matrix(app, client, partners, {}, {})
    full = {p: m.fresh_token(p) for p in partners}

    def block(who: str, number: str, reason: str) -> str:
        env = partners[who].sign("record", record_body(who, number, reason=reason))
        resp = client.post("/v1/records", json={"records": [env]}, headers=bearer(full[who]))
        assert resp.get_json()["results"][0]["status"] == "accepted", resp.get_data(as_text=True)
        return str(env["record"]["id"])

    ids = {
        "k_tsel": block("kominfo", TSEL, "Scam calls; 12 complaints"),
        "k_isat": block("kominfo", ISAT, SECRETS["k_isat"]),
        "t_xl": block("telkomsel", XL, "Fake courier SMS; 4 complaints"),
        "i_isat": block("indosat", ISAT2, SECRETS["i_isat"]),
    }
    ack = partners["indosat"].sign("ack", ack_body("indosat", ids["k_isat"], "rejected", reason=SECRETS["ack"]))
    resp = client.post("/v1/acks", json={"acks": [ack]}, headers=bearer(full["indosat"]))
    assert resp.get_json()["results"][0]["status"] == "accepted", resp.get_data(as_text=True)
    clock = clock_of(app)
    with app.app_context():
        report, _ = service.ensure(periods.daily(periods.jakarta_today(clock.now()) - timedelta(days=1)))
        ids["report"] = report.id
    ids["nobody"] = str(uuid.uuid4())
    ids["ind_k_tsel"] = indicator_id(ids["k_tsel"])
    ids["ind_k_isat"] = indicator_id(ids["k_isat"])
    ids["TSEL"], ids["ISAT"] = TSEL, ISAT
    import hashlib

    ids["prefix"] = hashlib.sha256(TSEL.encode()).hexdigest()[:5]
    m.ids = ids

    # the columns' tokens
    ttl = int(app.config["TOKEN_TTL_SECONDS"])
    clock.freeze(clock.now() - timedelta(seconds=ttl + TOKEN_LEEWAY + 60))
    try:
        m.tokens["exp"] = m.fresh_token("telkomsel")
    finally:
        clock.resume()
    m.tokens["rev"] = m.fresh_token("telkomsel")
    resp = client.post("/oauth/revoke", data={"token": m.tokens["rev"]}, headers=basic_auth(partners["telkomsel"]))
    assert resp.status_code == 200
    m.tokens["dis"] = full["smartfren"]
    with app.app_context():
        admin.set_enabled("smartfren", False)
    for col, (partner, scope) in WHO.items():
        if col in m.tokens:
            continue
        if scope is not None and not _scope_exists(scope):
            m.notes.append(f"column {col}: the hub has no scope {scope} yet")
            continue
        m.tokens[col] = m.fresh_token(partner, scope)
    m.tokens["indosat"] = full["indosat"]
    yield m

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(hub_env["DATABASE_URL"], poolclass=sa.pool.NullPool)
    _empty_tables(engine)
    engine.dispose()


# --- making each cell's request -----------------------------------------------------------------------------------

LIVE = ("op", "ott", "min", "rw", "rr", "aw", "atw", "lr", "rpr", "rpw", "nw", "ar")


def _request(m: Matrix, row: Row, col: str) -> Any:
    url = row.url.format(**m.ids)
    partner_id, scope = WHO.get(col, ("telkomsel", None))
    creds = m.partners[partner_id]
    token = m.tokens.get(col)
    headers: dict[str, str] = bearer(token) if token else {}
    kwargs: dict[str, Any] = {}
    body = row.body
    if body == "block":
        kwargs["json"] = {"records": [creds.sign("record", record_body(creds.id, XL))]}
    elif body == "block-as-indosat":
        kwargs["json"] = {"records": [creds.sign("record", record_body("indosat", ISAT))]}
    elif body is not None and body.startswith("ack:"):
        record_id = m.ids[body.removeprefix("ack:")]
        kwargs["json"] = {"acks": [creds.sign("ack", ack_body(creds.id, record_id, "blocked"))]}
    elif body is not None and body.startswith("event:"):
        event = {
            "id": str(uuid.uuid4()),
            "operator": creds.id,
            "number": m.ids[body.removeprefix("event:")],
            "event": "reassigned",
            "effective_at": "2026-01-01T00:00:00Z",
        }
        kwargs["json"] = {"number_events": [creds.sign("number_event", event)]}
    elif body == "attestation":
        kwargs["json"] = creds.sign("attestation", attestation_body(creds.id, []))
    elif body == "adhoc":
        kwargs["json"] = {"kind": "adhoc", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    elif body == "{}":
        kwargs["json"] = {}
    elif body == "no-csrf":
        kwargs["data"] = {"email": "someone@example.org", "password": "x" * 12, "code": "123456", "lang": "en"}
    elif body is not None and body.startswith(("secret", "bearer-as-client")):
        form: dict[str, str] = {}
        if row.url == "/oauth/token":
            form["grant_type"] = "client_credentials"
            if scope and body == "secret":
                form["scope"] = scope
        elif body == "secret+indosat-token":
            form["token"] = m.tokens["indosat"]
        else:  # the column's own token; a live one is not spent: a fresh one of the same partner instead
            form["token"] = m.fresh_token(partner_id, scope) if col in LIVE and "revoke" in row.url else token or ""
            if col == "none":
                form["token"] = m.fresh_token("telkomsel")
        m.form_token = form.get("token")
        if body.startswith("secret"):
            headers = basic_auth(creds) if col != "none" else {}
        kwargs["data"] = form
    elif body is not None:
        raise AssertionError(f"unknown body {body!r} in row {row.label}")
    return m.client.open(url, method=row.method, headers=headers, **kwargs)


def _outcome(row: Row, resp: Any) -> str:
    """The cell a response makes: its status, or a batch item's fate."""
    if resp.status_code == 200 and row.body is not None and row.body.startswith(("block", "ack:", "event:")):
        (item,) = resp.get_json()["results"]
        if item["status"] == "valid":
            return "ok"
        slug = item["error"]["type"].rsplit(":", 1)[-1]
        return {"not-assigned": "na", "issuer-mismatch": "im", "not-home-operator": "nh"}.get(
            slug, f"200/{item['status']}:{slug}"
        )
    return str(resp.status_code)


def _norm(rule: str) -> str:
    return re.sub(r"<[^>]*>", "<>", rule)


def _run_row(m: Matrix, row: Row) -> list[str]:
    wrong = []
    for col, expected in row.cells.items():
        if col not in m.tokens and col in WHO:
            continue  # a scope the hub does not have yet (m.notes)
        resp = _request(m, row, col)
        got = _outcome(row, resp)
        if got != expected:
            wrong.append(f"  {col:<4} expected {expected}, got {got}: {resp.get_data(as_text=True)[:200]!r}")
            continue
        partner = WHO.get(col, ("", None))[0] if col != "none" else "smartfren"
        body = resp.get_data(as_text=True)
        leaked = [secret for secret in NEVER_SEEN.get(partner, ()) if secret in body]
        if leaked:
            wrong.append(f"  {col:<4} {partner} was shown {leaked}")
        if got == "401" and row.url.startswith(("/v1/", "/taxii2/")):
            if "WWW-Authenticate" not in resp.headers:
                wrong.append(f"  {col:<4} 401 without WWW-Authenticate")
        if got == "302" and not resp.location.split("?")[0].endswith("/console/login"):
            wrong.append(f"  {col:<4} redirected to {resp.location}, not the console's sign-in")
        if row.url == "/oauth/revoke" and m.form_token:  # RFC 7009: one's own token dies at once, another's lives
            after = m.client.get("/v1/whoami", headers=bearer(m.form_token)).status_code
            if row.body == "secret+indosat-token" and after != 200:
                wrong.append(f"  {col:<4} revoking indosat's token changed it: it now answers {after}")
            if row.body == "secret+own-token" and col in LIVE and after != 401:
                wrong.append(f"  {col:<4} its own revoked token still answers {after}")
    return wrong


@pytest.mark.parametrize("row", ROWS, ids=[r.label for r in ROWS])
def test_cell(matrix: Matrix, row: Row) -> None:
    wrong = _run_row(matrix, row)
    assert not wrong, f"{row.label}\n" + "\n".join(wrong)


def test_a_client_that_may_not_introspect_learns_nothing_from_it(matrix: Matrix) -> None:
    """Introspection is the ministry's: an operator's client gets one answer whatever token it names."""
    op = basic_auth(matrix.partners["telkomsel"])
    answers = set()
    for token in (matrix.tokens["indosat"], matrix.tokens["rev"], matrix.tokens["exp"], "not-a-token"):
        resp = matrix.client.post("/oauth/introspect", data={"token": token}, headers=op)
        answers.add((resp.status_code, resp.get_json().get("error")))
    assert answers == {(400, "unauthorized_client")}


def _covered(app: Flask) -> dict[tuple[str, str], str]:
    """(method, normalized rule) -> the row that reaches it, for every row whose endpoint exists."""
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    covered: dict[tuple[str, str], str] = {}
    for row in ROWS:
        path = row.url.split("?")[0].format(**{k: "x" for k in _PLACEHOLDERS})
        try:
            rule, _ = adapter.match(path, method=row.method, return_rule=True)
        except HTTPException as exc:  # pragma: no cover - a row that reaches nothing is a mistake in the table
            raise AssertionError(f"row {row.label!r} reaches no endpoint: {exc}") from exc
        covered[(row.method, _norm(rule.rule))] = row.label
    return covered


_PLACEHOLDERS = (
    "k_tsel",
    "k_isat",
    "t_xl",
    "i_isat",
    "nobody",
    "report",
    "ind_k_tsel",
    "ind_k_isat",
    "TSEL",
    "ISAT",
    "prefix",
)


def test_every_endpoint_is_in_the_table(matrix: Matrix) -> None:
    """A new endpoint (url_map or /openapi.json) without a row fails here: add its row to MATRIX."""
    covered = _covered(matrix.app)
    missing = []
    for rule in matrix.app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, _norm(rule.rule)) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    document = matrix.client.get("/openapi.json").get_json()
    for path, ops in document["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "patch", "delete"):
                key = (method.upper(), _norm(re.sub(r"\{[^}]*\}", "<>", path)))
                if key not in covered:
                    missing.append(f"{method.upper()} {path} (openapi.json)")
    assert not missing, "endpoints the authorization matrix does not cover:\n" + "\n".join(missing)


def test_each_partner_sees_exactly_its_records_everywhere(matrix: Matrix) -> None:
    """The 200 cells are not empty answers: pull, TAXII and number look-ups give each partner its own set."""
    ids = matrix.ids
    may_see = {
        "op": {ids["k_tsel"], ids["t_xl"]},
        "ott": {ids["k_tsel"], ids["k_isat"], ids["t_xl"], ids["i_isat"]},
        "min": {ids["k_tsel"], ids["k_isat"], ids["t_xl"], ids["i_isat"]},
    }
    for col, expected in may_see.items():
        auth = bearer(matrix.tokens[col])
        pulled = matrix.client.get("/v1/records?after=0&limit=1000", headers=auth).get_json()["items"]
        assert {item["record"]["id"] for item in pulled} == expected, col
        objects = matrix.client.get("/taxii2/api/collections/blocks/objects/?limit=1000", headers=auth).get_json()
        indicators = {o["id"].removeprefix("indicator--") for o in objects["objects"] if o["type"] == "indicator"}
        assert indicators == expected, col
        for number, record in ((ISAT, "k_isat"), (ISAT2, "i_isat"), (TSEL, "k_tsel")):
            view = matrix.client.get(f"/v1/numbers/{number}", headers=auth).get_json()
            assert view["record_count"] == (1 if ids[record] in expected else 0), (col, number)


def test_only_the_issuer_and_the_ministry_see_a_records_assignments(matrix: Matrix) -> None:
    ids = matrix.ids
    for col, record, shown in (
        ("op", "k_tsel", False),
        ("op", "t_xl", True),
        ("ott", "k_isat", False),
        ("ott", "t_xl", False),
        ("min", "k_isat", True),
    ):
        detail = matrix.client.get(f"/v1/records/{ids[record]}", headers=bearer(matrix.tokens[col])).get_json()
        assert ("assignments" in detail) is shown, (col, record)
    detail = matrix.client.get(f"/v1/records/{ids['k_isat']}", headers=bearer(matrix.tokens["min"])).get_json()
    assert SECRETS["ack"] in str(detail["assignments"])  # the ministry does see it: the secret is real


def test_a_signed_in_analyst_opens_the_console_pages_a_token_does_not(matrix: Matrix) -> None:
    """The 302 rows are the console's sign-in guard, not broken pages: a staff session opens them."""
    from tests.console_support import add_staff, enrol

    add_staff(matrix.app, "analis@komdigi.go.id")
    staff = matrix.app.test_client()
    enrol(matrix.app, staff, "analis@komdigi.go.id")
    for row in ROWS:
        if row.method == "GET" and row.cells["op"] == "302" and row.url.startswith("/console/"):
            if row.url in ("/console/enrol", "/console/verify"):
                continue  # sign-in steps: signed in, they send you on
            resp = staff.get(row.url.format(**matrix.ids))
            expected = 403 if row.url == "/console/staff" else 200  # staff pages are for admins
            assert resp.status_code == expected, (row.url, resp.status_code)
