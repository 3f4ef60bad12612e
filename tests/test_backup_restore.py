"""A restored backup keeps the transparency log's promises (docs/operations.md, "Backups and restore").

A hub holds records and acks; a partner takes a signed tree head; more is
pushed; the database is backed up while the hub serves (SQLite: the
online backup API, as ``sqlite3 .backup`` does; PostgreSQL: ``pg_dump -Fc``
restored with ``pg_restore`` into a new database); the live hub goes on
taking records the backup will never hold. A hub started on the restored
copy, with the same ``HUB_KEYS_DIR``, must then prove that every leaf the
partner's head covers is in it and that its own tree extends that head,
before and after it takes new records itself: a restore may lose what came
after the backup, never rewrite what a partner holds a signed head for.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from config import normalize_database_url
from keys.jcs import canonicalize
from keys.merkle import leaf_hash, verify_consistency, verify_inclusion
from keys.verify import verify_entry_inclusion, verify_tree_head
from tests.conftest import PG_URL, _pg_url_with_schema
from tests.records_world import ISAT, TSEL, XL
from tests.support import PartnerCreds, ack_body, basic_auth, bearer, record_body, register_partner

pytestmark = pytest.mark.slow


def _token(client: Any, creds: PartnerCreds) -> str:
    resp = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(creds))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return str(resp.get_json()["access_token"])


def _push(client: Any, creds: PartnerCreds, numbers: list[str]) -> list[str]:
    envs = [creds.sign("record", record_body(creds.id, n)) for n in numbers]
    resp = client.post("/v1/records", json={"records": envs}, headers=bearer(_token(client, creds)))
    assert [r["status"] for r in resp.get_json()["results"]] == ["accepted"] * len(numbers)
    return [e["record"]["id"] for e in envs]


def _head(client: Any, creds: PartnerCreds) -> dict[str, Any]:
    """The signed tree head, verified against the hub's published keys, as a partner keeps it."""
    auth = bearer(_token(client, creds))
    envelope = client.get("/v1/log/head", headers=auth).get_json()
    return verify_tree_head(envelope, client.get("/.well-known/jwks.json").get_json())


# --- backing up and restoring, as docs/operations.md tells the operator ---------------------------------------------


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _backup_sqlite(url: str, to: Path) -> str:
    """The online backup API (what ``sqlite3 tangkal.db ".backup 'copy.db'"`` runs): consistent while the hub writes."""
    src = sqlite3.connect(_sqlite_path(url))
    dst = sqlite3.connect(to)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{to}"


def _libpq(url: str) -> tuple[str, str]:
    """The plain libpq URL of the test database and the schema of this session (from its search_path)."""
    from urllib.parse import parse_qs, unquote

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    options = unquote(parse_qs(parts.query)["options"][0])
    schema = options.removeprefix("-csearch_path=")
    return urlunsplit(parts._replace(query="")), schema


@pytest.fixture
def pg_restore_target() -> Iterator[str]:
    """A new, empty database for the restore, dropped afterwards (PostgreSQL leg only)."""
    assert PG_URL
    name = f"restore_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sa.create_engine(normalize_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(PG_URL)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}", query=""))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _backup_postgres(url: str, dump: Path, target: str) -> str:
    """``pg_dump -Fc`` of the hub's schema while it serves, then ``pg_restore`` into the empty ``target`` database."""
    source, schema = _libpq(url)
    subprocess.run(["pg_dump", "-Fc", "--no-owner", f"--schema={schema}", "-f", str(dump), source], check=True)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)], check=True)
    return _pg_url_with_schema(target, schema)


# --- the test -------------------------------------------------------------------------------------------------------


def test_a_restored_backup_proves_the_heads_signed_before_it(
    make_app: Callable[..., Flask], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    live = make_app()
    client = live.test_client()
    kominfo = register_partner(live, "kominfo", "ministry")
    telkomsel = register_partner(live, "telkomsel", "operator", ["Telkomsel"])
    register_partner(live, "whatsapp", "ott")

    # records and an ack, then the head a partner keeps
    first = _push(client, kominfo, [TSEL, ISAT, XL, "+6281234567001", "+6281234567002"])
    ack = telkomsel.sign("ack", ack_body("telkomsel", first[0], "blocked"))
    resp = client.post("/v1/acks", json={"acks": [ack]}, headers=bearer(_token(client, telkomsel)))
    assert resp.get_json()["results"][0]["status"] == "accepted"
    kept = _head(client, telkomsel)
    _push(client, kominfo, ["+6281234567003", "+6281234567004"])  # in the backup, after the head

    # the backup, taken while the hub serves
    url = live.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        restored_url = _backup_sqlite(url, tmp_path / "backup.db")
    else:
        target = request.getfixturevalue("pg_restore_target")
        restored_url = _backup_postgres(url, tmp_path / "tangkal.dump", target)
    backed_up = _head(client, kominfo)["size"]
    _push(client, kominfo, ["+6281234567005", "+6281234567006", "+6281234567007"])  # lost with the restore
    assert _head(client, kominfo)["size"] == backed_up + 3

    # a hub on the restored copy, with the same HUB_KEYS_DIR (the keys are files: back them up too)
    restored = make_app(DATABASE_URL=restored_url)
    rclient = restored.test_client()
    jwks = rclient.get("/.well-known/jwks.json").get_json()
    assert jwks == client.get("/.well-known/jwks.json").get_json()

    def proves_kept_head() -> int:
        head = _head(rclient, kominfo)  # signed by the restored hub with the same key, verified
        auth = bearer(_token(rclient, kominfo))
        entries = rclient.get(f"/v1/log/entries?start=0&end={kept['size']}", headers=auth).get_json()["entries"]
        assert len(entries) == kept["size"]
        for index, entry in enumerate(entries):
            q = f"/v1/log/inclusion?index={index}&size={kept['size']}"
            path = rclient.get(q, headers=auth).get_json()["path"]
            verify_entry_inclusion(entry, index, kept, path)
            verify_inclusion(
                index, kept["size"], leaf_hash(canonicalize(entry)), [bytes.fromhex(p) for p in path],
                bytes.fromhex(kept["root_hash"]),
            )  # fmt: skip
        q = f"/v1/log/consistency?first={kept['size']}&second={head['size']}"
        path = rclient.get(q, headers=auth).get_json()["path"]
        verify_consistency(
            kept["size"], head["size"], bytes.fromhex(kept["root_hash"]), bytes.fromhex(head["root_hash"]),
            [bytes.fromhex(p) for p in path],
        )  # fmt: skip
        return int(head["size"])

    assert proves_kept_head() == backed_up  # the restore holds exactly what the backup held
    _push(rclient, kominfo, ["+6281234567008", "+6281234567009"])  # the restored hub goes on
    assert proves_kept_head() == backed_up + 2
    # what the restored hub signs now verifies with the keys partners already hold
    verify_tree_head(rclient.get("/v1/log/head", headers=bearer(_token(rclient, kominfo))).get_json(), jwks)
