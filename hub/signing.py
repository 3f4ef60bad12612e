"""The hub's own Ed25519 keys: the one that signs now, and all it ever published.

The private key lives in a 0600 file under ``HUB_KEYS_DIR`` (default: the
instance folder's ``keys/``), named by its kid; the database lists the public
halves so every instance publishes the same JWKS and verifies tokens signed
by any instance. ``keys rotate`` adds a key; old ones stay published, because
receipts and reports signed with them must stay verifiable for years.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from sqlalchemy import select

from hub.auth.models import HubKey
from hub.db import db, utcnow
from keys.jwk import jwks, public_jwk
from keys.keyfiles import generate_private_key, read_private_key, write_private_key
from keys.signing import sign_object

#: How long an instance keeps signing with a key before checking for a newer one.
REFRESH_SECONDS = 30.0


class HubKeyUnavailable(RuntimeError):
    """The database names a hub key whose private file this instance lacks."""


@dataclass(frozen=True)
class HubSigner:
    kid: str
    private_key: Ed25519PrivateKey

    def sign(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_object(kind, body, self.private_key, self.kid)


def keys_dir(app: Flask) -> Path:
    path = Path(app.config.get("HUB_KEYS_DIR") or Path(app.instance_path) / "keys")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _key_path(app: Flask, kid: str) -> Path:
    return keys_dir(app) / f"{kid}.pem"


def create_key(app: Flask) -> HubKey:
    """Generate a key, write its private half, publish its public half."""
    kid = f"{app.config['HUB_ID']}-{utcnow():%Y%m%d}-{secrets.token_hex(3)}"
    private = generate_private_key()
    write_private_key(_key_path(app, kid), private)
    row = HubKey(kid=kid, public_jwk=_dumps(public_jwk(private.public_key(), kid)), created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    _state(app).expire()
    return row


def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, sort_keys=True)


class _State:
    """Per-app cache of the signing key, refreshed every REFRESH_SECONDS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.signer: HubSigner | None = None
        self.checked = 0.0

    def expire(self) -> None:
        self.checked = 0.0


def _state(app: Flask) -> _State:
    return app.extensions.setdefault("tangkal.signing", _State())


def _newest() -> HubKey | None:
    return db.session.scalars(
        select(HubKey).where(HubKey.retired_at.is_(None)).order_by(HubKey.created_at.desc(), HubKey.kid.desc()).limit(1)
    ).first()


def signer() -> HubSigner:
    """The key this instance signs with now (created on first use)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    now = time.monotonic()
    if state.signer is not None and now - state.checked < REFRESH_SECONDS:
        return state.signer
    with state.lock:
        row = _newest() or create_key(app)
        if state.signer is None or state.signer.kid != row.kid:
            path = _key_path(app, row.kid)
            if not path.exists():
                raise HubKeyUnavailable(
                    f"hub key {row.kid} is published but {path} is missing on this instance; "
                    "share HUB_KEYS_DIR between instances"
                )
            state.signer = HubSigner(row.kid, read_private_key(path))
        state.checked = now
        return state.signer


def token_jwks() -> dict[str, Any]:
    """The keys access tokens may be signed with: every key not retired."""
    rows = db.session.scalars(select(HubKey).where(HubKey.retired_at.is_(None))).all()
    return jwks([row.jwk for row in rows])


def retire_key(app: Flask, kid: str) -> HubKey:
    """Stop trusting a key for tokens (say, it leaked); it stays published."""
    row = db.session.get(HubKey, kid)
    if row is None:
        raise LookupError(f"no hub key {kid!r}")
    newest = _newest()
    if newest is not None and newest.kid == kid:
        raise ValueError(f"{kid} is the key the hub signs with now; run 'keys rotate' first")
    if row.retired_at is None:
        row.retired_at = utcnow()
        db.session.commit()
    _state(app).expire()
    # Token verification caches keys for 30 s: other instances stop accepting
    # the retired key within that time, this one at once.
    app.extensions.pop("tangkal.token-keys", None)
    return row


def published_jwks() -> dict[str, Any]:
    """Every hub key ever used, newest first (``/.well-known/jwks.json``)."""
    rows = db.session.scalars(select(HubKey).order_by(HubKey.created_at.desc(), HubKey.kid.desc())).all()
    if not rows:
        signer()
        rows = db.session.scalars(select(HubKey)).all()
    return jwks([row.jwk for row in rows])
