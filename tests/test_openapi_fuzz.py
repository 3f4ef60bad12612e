"""schemathesis against ``/openapi.json`` of a hub on a real socket, as an operator, an OTT provider and the ministry.

Every operation of the document gets generated requests, valid and invalid
(hypothesis, from the document's own schemas and examples), with a real
token of the partner kind; every response must not be a 5xx and must
conform to the document: status code, content type, headers and body
schema. The hub holds a little of everything first (records, an ack, an
attestation, a report), registered with the conformance test keys so the
document's own examples are real objects the hub can answer about.

Bounded: ``FUZZ_EXAMPLES`` cases per operation and kind (default 8; the
whole file stays well under two minutes on the CI machine). Set
``TANGKAL_FUZZ_EXAMPLES`` higher for a longer hunt.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import PartnerCreds, basic_auth, bearer
from tests.test_partners_support import serve

pytestmark = pytest.mark.slow

FUZZ_EXAMPLES = int(os.environ.get("TANGKAL_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "conformance"
KINDS = ("operator", "ott", "ministry")


def _test_key(kid: str) -> Ed25519PrivateKey:
    """The conformance test key of that kid, or a fresh one."""
    keys = {k["kid"]: k for k in json.loads((CONFORMANCE / "keys.json").read_text())["keys"]}
    if kid not in keys:
        return Ed25519PrivateKey.generate()
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(keys[kid]["seed_hex"]))


def _partner(app: Flask, partner_id: str, kind: str, carriers: list[str], kid: str) -> PartnerCreds:
    from hub import admin

    key = _test_key(kid)
    with app.app_context():
        made = admin.add_partner(partner_id, kind, partner_id.title(), carriers)
        admin.add_partner_key(partner_id, kid, key.public_key())
    return PartnerCreds(partner_id, kind, made.client_id, made.client_secret, kid, key, carriers)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, migrated: str, hub_env: dict[str, str]) -> Iterator[Any]:
    """One hub for the whole module (a fresh app per case would cost more than the cases)."""
    import sqlalchemy as sa

    from hub import create_app
    from hub.clock import clock_of
    from hub.signing import ensure_key
    from tests.conftest import _empty_tables, _overrides

    app = create_app({**_overrides(hub_env), "HUB_URL": None})
    with app.app_context():
        ensure_key(app)
    world = _seed(app)
    with serve(app) as url:
        app.config["HUB_URL"] = url  # as serve() fixes it: the hub's own address
        clock_of(app)  # the real clock: the seeded objects are in the past
        client = app.test_client()
        tokens = {}
        for kind, creds in world.items():
            resp = client.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(creds), base_url=url
            )
            assert resp.status_code == 200, resp.get_data(as_text=True)
            tokens[kind] = resp.get_json()["access_token"]
        yield {"url": url, "tokens": tokens, "partners": world}
    from hub.db import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(migrated, poolclass=sa.pool.NullPool)
    _empty_tables(engine)
    engine.dispose()


def _seed(app: Flask) -> dict[str, PartnerCreds]:
    """Partners with the conformance keys; the conformance record, its ack, an attestation and a daily report."""
    from hub.acks import ingest as acks
    from hub.acks.attest import attest
    from hub.auth.protect import Caller
    from hub.auth.scopes import SCOPES_BY_KIND
    from hub.clock import clock_of
    from hub.records import ingest as records
    from hub.reports import periods, service

    vectors = {v["name"]: v for v in json.loads((CONFORMANCE / "signing.json").read_text())["vectors"]}
    kominfo = _partner(app, "kominfo", "ministry", [], "kominfo-2026-01")
    telkomsel = _partner(app, "telkomsel", "operator", ["Telkomsel"], "telkomsel-2026-01")
    whatsapp = _partner(app, "whatsapp", "ott", [], "whatsapp-2026-01")

    def caller(c: PartnerCreds) -> Caller:
        return Caller(c.id, c.kind, c.client_id, SCOPES_BY_KIND[c.kind], "fuzz", 0)

    clock = clock_of(app)
    with app.app_context():
        clock.freeze(clock.now() - timedelta(days=2))
        try:
            for name in ("record-block", "record-unicode"):
                env = vectors[name]["envelope"]
                who = kominfo if env["record"]["issuer"] == "kominfo" else telkomsel
                assert records.push(caller(who), [env])[0]["status"] == "accepted"
            assert acks.push(caller(telkomsel), [vectors["ack"]["envelope"]])[0]["status"] == "accepted"
            attest(caller(telkomsel), vectors["attestation"]["envelope"])
        finally:
            clock.resume()
        service.ensure(periods.daily(periods.jakarta_today(clock.now()) - timedelta(days=1)))
    return {"ministry": kominfo, "operator": telkomsel, "ott": whatsapp}


@pytest.fixture(scope="module")
def api_schema(hub: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(hub["url"] + "/openapi.json")


def _fuzz(api_schema: Any, headers_for: Any, mode: Any, seen: Counter[str]) -> list[str]:
    """Every operation with ``FUZZ_EXAMPLES`` generated cases; the failures, one line each."""
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        def call(case: Any) -> None:
            response = case.call_and_validate(headers=headers_for(case), checks=CHECKS)
            seen[f"{response.status_code // 100}xx"] += 1
            if 200 <= response.status_code < 300:
                seen[case.operation.label] += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def one(case: Any) -> None:
            call(case)

        examples = api_schema.get_strategies_from_examples(operation) if mode is GenerationMode.POSITIVE else []

        @given(case=st.one_of(*examples) if examples else st.nothing())
        @settings(max_examples=2 * len(examples) + 1, deadline=None, database=None, phases=[Phase.generate])
        def documented(case: Any) -> None:
            """The document's own examples, every one: they name objects the hub holds (the conformance vectors)."""
            call(case)

        try:
            one()
            if examples:
                documented()
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body): the positive cases cover it
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, then reported together
            failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:1500]}")
    return failures


@pytest.mark.parametrize("kind", KINDS)
def test_every_response_conforms_and_none_is_a_5xx(kind: str, hub: dict[str, Any]) -> None:
    api_schema = schemathesis.openapi.from_url(hub["url"] + "/openapi.json")

    def headers_for(case: Any) -> dict[str, str]:
        if case.operation.path.startswith("/oauth/"):
            return basic_auth(hub["partners"][kind])
        return bearer(hub["tokens"][kind])

    failures: list[str] = []
    seen: Counter[str] = Counter()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        failures += _fuzz(api_schema, headers_for, mode, seen)
    cases = sum(n for k, n in seen.items() if k.endswith("xx"))
    print(
        f"schemathesis as {kind}: {cases} conforming cases ({', '.join(f'{k} {seen[k]}' for k in sorted(seen) if k.endswith('xx'))})"
    )
    assert not failures, "\n\n".join(failures)
    # the cases reached the hub and got real answers, not only refusals
    assert seen["2xx"] > 50 and seen["4xx"] > 50, seen
    for label in ("GET /v1/records", "GET /v1/records/{record_id}", "GET /v1/whoami", "POST /oauth/token"):
        assert seen[label] > 0, f"no {label} case was answered 2xx: {seen}"
    if kind == "ministry":
        assert seen["GET /v1/reports"] > 0 and seen["POST /v1/reports"] > 0, seen


def test_a_scope_outside_rfc_6749_characters_is_invalid_scope(client: Any, register: Any) -> None:
    creds = register("smartfren", "operator", ["Smartfren"])  # the module's hub holds telkomsel already
    for scope in ("records:read\x1b", 'records:read "x"', "records:read \u00e9"):
        resp = client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "scope": scope}, headers=basic_auth(creds)
        )
        assert resp.status_code == 400, (scope, resp.status_code)
        assert resp.get_json()["error"] in ("invalid_scope", "invalid_request")
