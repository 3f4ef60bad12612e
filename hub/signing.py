"""The hub's own Ed25519 keys: the one that signs now, and all it ever published.

The private key lives in a 0600 file under ``HUB_KEYS_DIR`` (default: the
instance folder's ``keys/``), named by its kid; the database lists the public
halves so every instance publishes the same JWKS and verifies tokens signed
by any instance. ``keys rotate`` adds a key; old ones stay published, because
receipts and reports signed with them must stay verifiable for years.
``keys retire`` stops trusting a key (it leaked): it stays published but
signs nothing new and authenticates no access token.

Each process keeps a snapshot of the key table (:class:`HubKeys`) and reads
the table again at most once a second, so a rotation or retirement on one
instance takes effect on every other within a second, and at once on the
instance that made it. Nothing here creates a key as a side effect of a
read: the first key is made by ``flask --app wsgi keys init`` (run by
``make run`` and by the gunicorn start hook), and a hub without one says so.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from joserfc.jwk import KeySet
from sqlalchemy import select

from hub import clock
from hub.auth.models import HubKey
from hub.canonical import canonicalize_known
from hub.db import db
from keys.b64 import b64u_encode
from keys.jwk import jwks, public_jwk
from keys.keyfiles import generate_private_key, read_private_key, write_private_key
from keys.signing import ALG, sign_object

#: How stale a process's view of the key table may be.
FRESHNESS_SECONDS = 1.0
EXTENSION = "tangkal.hub-keys"


class HubKeyUnavailable(RuntimeError):
    """The hub has no signing key, or this instance lacks the private file of the one it should use."""


@dataclass(frozen=True)
class HubSigner:
    kid: str
    private_key: Ed25519PrivateKey

    def sign(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_object(kind, body, self.private_key, self.kid)

    def sign_canonical(self, kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """``sign``, and the JCS bytes of the whole envelope, for bodies the hub builds (``canonicalize_known``).

        What a push's receipts and a pull's spliced items need, without the
        rfc8785 package's cost (a third of a receipt's; bench/profile_requests.py).
        """
        message = canonicalize_known(body)  # the hub's own strings and integers
        signature = {"alg": ALG, "kid": self.kid, "value": b64u_encode(self.private_key.sign(message))}
        envelope = {kind: body, "signature": signature}
        return envelope, canonicalize_known(envelope)


@dataclass(frozen=True)
class _Row:
    kid: str
    public_jwk: str
    created_at: Any
    retired_at: Any


@dataclass(frozen=True)
class Snapshot:
    """The key table as one process saw it at one moment."""

    rows: tuple[_Row, ...]  # newest first
    signer: HubSigner | None
    token_keys: KeySet | None  # keys whose access tokens are accepted: every key not retired
    token_kids: frozenset[str]
    published: dict[str, Any]  # every key ever used, newest first
    retired_kids: frozenset[str] = frozenset()  # what a stored receipt must not be signed with


def keys_dir(app: Flask) -> Path:
    path = Path(app.config.get("HUB_KEYS_DIR") or Path(app.instance_path) / "keys")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _key_path(app: Flask, kid: str) -> Path:
    return keys_dir(app) / f"{kid}.pem"


class HubKeys:
    """This process's view of the hub's keys, at most ``FRESHNESS_SECONDS`` old."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self.loaded = 0.0
        self.private: dict[str, Ed25519PrivateKey] = {}

    def current(self) -> Snapshot:
        snap = self.snapshot
        if snap is not None and time.monotonic() - self.loaded < FRESHNESS_SECONDS:
            return snap
        with self.lock:
            if self.snapshot is None or time.monotonic() - self.loaded >= FRESHNESS_SECONDS:
                self.snapshot = self._load()
                self.loaded = time.monotonic()
            return self.snapshot

    def invalidate(self) -> None:
        """Read the table again on next use (this instance changed it)."""
        with self.lock:
            self.loaded = 0.0

    def _load(self) -> Snapshot:
        rows = tuple(
            _Row(r.kid, r.public_jwk, r.created_at, r.retired_at)
            for r in db.session.execute(
                select(HubKey.kid, HubKey.public_jwk, HubKey.created_at, HubKey.retired_at).order_by(
                    HubKey.created_at.desc(), HubKey.kid.desc()
                )
            )
        )
        live = [r for r in rows if r.retired_at is None]
        signer = self._signer(live[0].kid) if live else None
        live_jwks = [json.loads(r.public_jwk) for r in live]
        return Snapshot(
            rows=rows,
            signer=signer,
            token_keys=KeySet.import_key_set(jwks(live_jwks)) if live_jwks else None,  # type: ignore[arg-type]
            token_kids=frozenset(r.kid for r in live),
            retired_kids=frozenset(r.kid for r in rows if r.retired_at is not None),
            published=jwks([json.loads(r.public_jwk) for r in rows]),
        )

    def _signer(self, kid: str) -> HubSigner:
        key = self.private.get(kid)
        if key is None:
            path = _key_path(self.app, kid)
            if not path.exists():
                raise HubKeyUnavailable(
                    f"hub key {kid} is published but {path} is missing on this instance; "
                    "share HUB_KEYS_DIR between instances"
                )
            key = self.private[kid] = read_private_key(path)
        return HubSigner(kid, key)


def init_signing(app: Flask) -> HubKeys:
    store = HubKeys(app)
    app.extensions[EXTENSION] = store
    return store


def hub_keys(app: Flask | None = None) -> HubKeys:
    target = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    store = target.extensions.get(EXTENSION)
    if not isinstance(store, HubKeys):
        raise RuntimeError("the app has no hub key store (create_app installs one)")
    return store


def signer() -> HubSigner:
    """The key this instance signs with now: the newest key not retired."""
    found = hub_keys().current().signer
    if found is None:
        raise HubKeyUnavailable("the hub has no signing key yet: run 'flask --app wsgi keys init'")
    return found


def token_keys() -> tuple[KeySet | None, frozenset[str]]:
    """The keys access tokens may be signed with (every key not retired), and their kids."""
    snap = hub_keys().current()
    return snap.token_keys, snap.token_kids


def retired_kids() -> frozenset[str]:
    """Hub keys retired (leaked): receipts stored with their signature are signed again when served."""
    return hub_keys().current().retired_kids


def published_jwks() -> dict[str, Any]:
    """Every hub key ever used, newest first (``/.well-known/jwks.json``)."""
    return hub_keys().current().published


def create_key(app: Flask) -> HubKey:
    """Generate a key, write its private half, publish its public half."""
    now = clock.now()
    kid = f"{app.config['HUB_ID']}-{now:%Y%m%d}-{secrets.token_hex(3)}"
    private = generate_private_key()
    write_private_key(_key_path(app, kid), private)
    row = HubKey(kid=kid, public_jwk=json.dumps(public_jwk(private.public_key(), kid), sort_keys=True), created_at=now)
    db.session.add(row)
    db.session.commit()
    hub_keys(app).invalidate()
    return row


def ensure_key(app: Flask) -> HubKey | None:
    """Make the hub's first key if it has none; returns the new key, or None when one existed."""
    if db.session.scalar(select(HubKey.kid).where(HubKey.retired_at.is_(None)).limit(1)) is not None:
        return None
    return create_key(app)


def retire_key(app: Flask, kid: str) -> HubKey:
    """Stop trusting a key (say, it leaked); it stays published for old receipts and reports."""
    row = db.session.get(HubKey, kid)
    if row is None:
        raise LookupError(f"no hub key {kid!r}")
    live = db.session.scalars(
        select(HubKey.kid).where(HubKey.retired_at.is_(None)).order_by(HubKey.created_at.desc(), HubKey.kid.desc())
    ).first()
    if live == kid:
        raise ValueError(f"{kid} is the key the hub signs with now; run 'keys rotate' first")
    if row.retired_at is None:
        row.retired_at = clock.now()
        db.session.commit()
    hub_keys(app).invalidate()
    return row


def key_rows() -> list[HubKey]:
    """Every hub key, newest first (``keys list``)."""
    return list(db.session.scalars(select(HubKey).order_by(HubKey.created_at.desc(), HubKey.kid.desc())))
