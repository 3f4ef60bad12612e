"""PROTOCOL.md section 9: the administration CLI, its --json output, and
one-line errors (never a traceback) for bad arguments."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from keys.jwk import public_jwk, public_key_pem
from keys.keyfiles import generate_private_key
from tests.support import ROOT


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


def test_partner_add_json_prints_exactly_client_id_and_secret(run):
    res = run(
        "partner", "add", "telkomsel", "--kind", "operator", "--name", "Telkomsel", "--carrier", "Telkomsel", "--json"
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"client_id", "client_secret"}
    assert out["client_id"] and len(out["client_secret"]) >= 32


def test_secret_is_stored_only_as_a_slow_hash(app, run):
    out = json.loads(run("partner", "add", "xl", "--kind", "operator", "--name", "XL", "--json").output)
    from hub.auth.models import OAuthClient
    from hub.db import db

    with app.app_context():
        row = db.session.get(OAuthClient, out["client_id"])
        assert out["client_secret"] not in row.secret_hash
        assert row.secret_hash.startswith("$argon2id$")


def test_production_secret_hash_parameters_are_slow(make_app):
    app = make_app(SECRET_HASH_FAST=False)
    res = app.test_cli_runner().invoke(args=["partner", "add", "xl", "--kind", "operator", "--name", "XL", "--json"])
    from hub.auth.models import OAuthClient
    from hub.db import db

    with app.app_context():
        row = db.session.get(OAuthClient, json.loads(res.output)["client_id"])
        params = dict(p.split("=") for p in row.secret_hash.split("$")[3].split(","))
    assert int(params["m"]) >= 65536 and int(params["t"]) >= 3


def test_partner_add_text_output_and_list(run):
    res = run("partner", "add", "whatsapp", "--kind", "ott", "--name", "WhatsApp")
    assert res.exit_code == 0
    assert "client_id:" in res.output and "client_secret:" in res.output
    listed = json.loads(run("partner", "list", "--json").output)
    assert [p["id"] for p in listed] == ["whatsapp"]
    assert listed[0]["kind"] == "ott" and listed[0]["keys"] == []
    assert "whatsapp" in run("partner", "list").output


@pytest.mark.parametrize(
    "args, message",
    [
        (["partner", "add", "Bad_Id", "--kind", "ott", "--name", "X"], "must match"),
        (["partner", "add", "a", "--kind", "ott", "--name", "X"], "must match"),
        (["partner", "add", "ok-id", "--kind", "bank", "--name", "X"], "Invalid value for '--kind'"),
        (["partner", "add", "ok-id", "--kind", "ott", "--name", "X", "--carrier", "Telkomsel"], "for operators"),
        (["partner", "add", "ok-id", "--kind", "ott", "--name", " "], "must not be empty"),
        (["partner", "add-key", "nobody", "--kid", "k", "--public-key", "/etc/hostname"], "no partner"),
        (["partner", "revoke-key", "nobody", "k"], "no partner"),
    ],
)
def test_bad_arguments_get_one_line_and_nonzero_exit(run, args, message):
    res = run(*args)
    assert res.exit_code != 0
    assert message in res.output
    assert "Traceback" not in res.output


def test_duplicate_partner_and_taken_carrier(run):
    assert (
        run("partner", "add", "telkomsel", "--kind", "operator", "--name", "T", "--carrier", "Telkomsel").exit_code == 0
    )
    dup = run("partner", "add", "telkomsel", "--kind", "operator", "--name", "T")
    assert dup.exit_code == 1 and "already exists" in dup.output
    taken = run("partner", "add", "other", "--kind", "operator", "--name", "O", "--carrier", "Telkomsel")
    assert taken.exit_code == 1 and "already routed to 'telkomsel'" in taken.output


def test_add_key_pem_and_jwk_then_revoke(run, client, tmp_path):
    run("partner", "add", "telkomsel", "--kind", "operator", "--name", "T")
    k1, k2 = generate_private_key(), generate_private_key()
    pem = tmp_path / "k1.pem"
    pem.write_text(public_key_pem(k1.public_key()))
    jwk = tmp_path / "k2.jwk"
    jwk.write_text(json.dumps(public_jwk(k2.public_key(), "ignored")))
    assert run("partner", "add-key", "telkomsel", "--kid", "tsel-1", "--public-key", str(pem)).exit_code == 0
    assert run("partner", "add-key", "telkomsel", "--kid", "tsel-2", "--public-key", str(jwk)).exit_code == 0
    again = run("partner", "add-key", "telkomsel", "--kid", "tsel-1", "--public-key", str(pem))
    assert again.exit_code == 1 and "never reused" in again.output
    garbage = tmp_path / "garbage"
    garbage.write_text("hello")
    bad = run("partner", "add-key", "telkomsel", "--kid", "tsel-3", "--public-key", str(garbage))
    assert bad.exit_code == 1 and "not an Ed25519 public key" in bad.output and "Traceback" not in bad.output
    missing = run("partner", "add-key", "telkomsel", "--kid", "tsel-3", "--public-key", str(tmp_path / "nope"))
    assert missing.exit_code != 0 and "Traceback" not in missing.output

    keys = client.get("/v1/partners/telkomsel/keys").get_json()["keys"]
    assert [(k["kid"], k["status"], k["revoked_at"]) for k in keys] == [
        ("tsel-1", "active", None),
        ("tsel-2", "active", None),
    ]
    assert all(k["alg"] == "Ed25519" and k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in keys)

    assert run("partner", "revoke-key", "telkomsel", "tsel-1").exit_code == 0
    keys = client.get("/v1/partners/telkomsel/keys").get_json()["keys"]
    assert keys[0]["status"] == "revoked" and keys[0]["revoked_at"].endswith("Z")
    assert run("partner", "revoke-key", "telkomsel", "nope").exit_code == 1


def test_keys_rotate_keeps_old_keys_published(client, run, register):
    from tests.support import basic_auth, bearer

    op = register("telkomsel", "operator")
    old_token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)
    ).get_json()["access_token"]
    before = {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    res = run("keys", "rotate")
    assert res.exit_code == 0
    after = {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert before < after and len(after) == len(before) + 1
    assert client.get("/v1/whoami", headers=bearer(old_token)).status_code == 200


def test_hub_private_keys_are_mode_0600(app, client, hub_env):
    client.get("/.well-known/jwks.json")  # creates the first key if none
    files = list(Path(hub_env["HUB_KEYS_DIR"]).glob("*.pem"))
    assert files
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_cli_as_a_subprocess_reports_an_unmigrated_database_in_one_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "TANGKAL_INSTANCE": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "partner", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "db upgrade" in proc.stderr


def test_keys_retire_refuses_its_tokens_but_keeps_it_published(client, run, register):
    from tests.support import basic_auth, bearer

    op = register("telkomsel", "operator")
    old_token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)
    ).get_json()["access_token"]
    old_kid = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    refused = run("keys", "retire", old_kid)
    assert refused.exit_code == 1 and "keys rotate" in refused.output  # the current key: rotate first
    assert run("keys", "rotate").exit_code == 0
    assert run("keys", "retire", old_kid).exit_code == 0
    assert old_kid in {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert client.get("/v1/whoami", headers=bearer(old_token)).status_code == 401
    new_token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(op)
    ).get_json()["access_token"]
    assert client.get("/v1/whoami", headers=bearer(new_token)).status_code == 200
    assert "retired" in run("keys", "list").output
    assert run("keys", "retire", "nope").exit_code == 1
