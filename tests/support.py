"""Test helpers: registering partners, signing as them, running live hubs.

Kept out of conftest so concurrency tests and benchmarks can import them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from keys.keyfiles import generate_private_key, private_key_to_pem
from keys.signing import sign_object

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PartnerCreds:
    """A registered partner as its own engineers would hold it."""

    id: str
    kind: str
    client_id: str
    client_secret: str
    kid: str
    private_key: Ed25519PrivateKey
    carriers: list[str] = field(default_factory=list)

    def sign(self, kind: str, body: dict[str, Any], kid: str | None = None) -> dict[str, Any]:
        return sign_object(kind, body, self.private_key, kid or self.kid)

    def assertion(self, audience: str, *, jti: str | None = None, alg: str = "Ed25519", lifetime: int = 60) -> str:
        """An RFC 7523 client assertion signed with the partner's key."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "jti": jti or secrets.token_urlsafe(16),
        }
        key = OKPKey.import_key(private_key_to_pem(self.private_key), {"kid": self.kid})
        return jwt.encode({"alg": alg, "kid": self.kid}, claims, key, algorithms=[alg])


def register_partner(
    app: Any, partner_id: str, kind: str = "operator", carriers: list[str] | None = None
) -> PartnerCreds:
    """A partner with an OAuth client and a fresh signing key, through hub.admin (what ``partner add``/``add-key`` run).

    The one way tests and benchmarks make a partner.
    """
    from hub import admin

    with app.app_context():
        creds = admin.add_partner(partner_id, kind, partner_id.title(), carriers or [])
        key = generate_private_key()
        kid = f"{partner_id}-2026-01"
        admin.add_partner_key(partner_id, kid, key.public_key())
    return PartnerCreds(partner_id, kind, creds.client_id, creds.client_secret, kid, key, carriers or [])


def basic_auth(creds: PartnerCreds) -> dict[str, str]:
    raw = f"{creds.client_id}:{creds.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def record_body(issuer: str, number: str, **overrides: Any) -> dict[str, Any]:
    """A valid block record body; override any member (None-valued keys are dropped)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "issuer": issuer,
        "number": number,
        "action": "block",
        "category": "scam",
        "channels": ["voice", "sms", "messaging"],
        "reason": "Impersonates a bank; 17 verified complaints",
        "evidence": {"complaints": 17, "ref": "ADN-2026-000123"},
        "confidence": 90,
        "observed_at": now,
        "issued_at": now,
        "expires_at": None,
        "supersedes": None,
    }
    body.update(overrides)
    return body


def ack_body(
    partner: str, record_id: str, outcome: str = "blocked", reason: str | None = None, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "record_id": record_id,
        "partner": partner,
        "outcome": outcome,
        "reason": reason,
        "acted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    body.update(overrides)
    return body


def _now_ms() -> str:
    from datetime import datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def attestation_body(partner: str, numbers: list[str], as_of: str | None = None, **overrides: Any) -> dict[str, Any]:
    """An attestation over ``numbers`` as PROTOCOL.md section 6 defines the hash."""
    import hashlib

    ordered = sorted(set(numbers))
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "partner": partner,
        "as_of": as_of or _now_ms(),
        "blocked_count": len(ordered),
        "blocked_set_sha256": hashlib.sha256("\n".join(ordered).encode()).hexdigest(),
    }
    body.update(overrides)
    return body


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def new_uuid() -> str:
    return str(uuid.uuid4())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveHub:
    """A real hub process (gunicorn) on a free port, sharing the test database."""

    def __init__(self, env: dict[str, str], workers: int = 1, threads: int = 4, scheduler: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **env, "SCHEDULER_ENABLED": "1" if scheduler else "0", "PYTHONPATH": str(ROOT)}
        self.log = open(Path(env.get("TANGKAL_INSTANCE", "/tmp")) / f"hub-{self.port}.log", "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "120",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.kill()  # a hub that never got ready must not outlive the test that started it
            self.log.close()
            raise

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub on {self.url} not ready after {timeout}s; see {self.log.name}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def token(self, creds: PartnerCreds, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        resp = requests.post(self.url + "/oauth/token", data=data, headers=basic_auth(creds), timeout=30)
        resp.raise_for_status()
        return str(resp.json()["access_token"])


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
