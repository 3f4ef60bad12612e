"""Administering partners: the one service the CLI, the demo, the tests and the benchmarks call.

``flask --app wsgi partner ...`` is a thin shell over these functions, so an
operator at night, the demo world and a test fixture register a partner the
same way and get the same refusals. Each refusal is an :class:`AdminError`
whose message is meant to be shown as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from hub import clock
from hub.auth.models import OAuthClient, Partner, PartnerCarrier, PartnerKey
from hub.auth.secrets import hash_secret, new_client_id, new_client_secret
from hub.db import db
from keys.errors import SigningError
from keys.jwk import load_public_key, public_jwk
from keys.timefmt import format_ts
from keys.wire import KID_RE, PARTNER_ID_PATTERN, PARTNER_KINDS, is_partner_id


class AdminError(ValueError):
    """A refused administration request; the message says why in one line."""


class UnknownPartner(AdminError):
    def __init__(self, partner_id: str) -> None:
        super().__init__(f"no partner {partner_id!r} (see: partner list)")


@dataclass(frozen=True)
class Credentials:
    """An OAuth client's id and secret: the secret exists only here, once."""

    client_id: str
    client_secret: str

    def as_dict(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret}


def get_partner(partner_id: str) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise UnknownPartner(partner_id)
    return partner


def add_partner(partner_id: str, kind: str, name: str, carriers: tuple[str, ...] | list[str] = ()) -> Credentials:
    """Create a partner and its OAuth client; the returned secret is never shown again."""
    if not is_partner_id(partner_id):
        raise AdminError(f"partner id {partner_id!r} must match ^{PARTNER_ID_PATTERN}$")
    if partner_id == current_app.config["HUB_ID"]:
        raise AdminError(f"{partner_id!r} is the hub's own id (HUB_ID): the hub signs as it, no partner may")
    if kind not in PARTNER_KINDS:
        raise AdminError(f"kind must be one of {', '.join(PARTNER_KINDS)}, not {kind!r}")
    if not name.strip():
        raise AdminError("the name must not be empty")
    names = [c.strip() for c in carriers if c.strip()]
    if names and kind != "operator":
        raise AdminError("carriers are for operators: numbers are routed to an operator by carrier name")
    if len(set(names)) != len(names):
        raise AdminError("the same carrier was given twice")
    if db.session.get(Partner, partner_id) is not None:
        raise AdminError(f"partner {partner_id!r} already exists")
    for carrier in names:
        owner = db.session.get(PartnerCarrier, carrier)
        if owner is not None:
            raise AdminError(f"carrier {carrier!r} is already routed to {owner.partner_id!r}")
    partner = Partner(id=partner_id, kind=kind, name=name.strip(), created_at=clock.now())
    partner.carriers = [PartnerCarrier(carrier=c) for c in names]
    creds = Credentials(new_client_id(), new_client_secret())
    db.session.add(partner)
    db.session.add(
        OAuthClient(
            client_id=creds.client_id,
            partner_id=partner_id,
            secret_hash=hash_secret(creds.client_secret),
            created_at=clock.now(),
        )
    )
    db.session.commit()
    return creds


def add_partner_key(partner_id: str, kid: str, public_key: Ed25519PublicKey | bytes) -> None:
    """Register an Ed25519 public key (an object, or PEM or JWK bytes) under ``kid``; a kid is never reused."""
    partner = get_partner(partner_id)
    if not isinstance(kid, str) or KID_RE.fullmatch(kid) is None:
        raise AdminError("the kid must be 1 to 100 characters of A-Z a-z 0-9 . _ : -")
    if isinstance(public_key, bytes):
        try:
            public_key = load_public_key(public_key)
        except SigningError as exc:
            raise AdminError(f"not an Ed25519 public key in PEM or JWK form ({exc})") from None
    if db.session.get(PartnerKey, (partner.id, kid)) is not None:
        raise AdminError(f"{partner_id} already has a key {kid!r}; a kid is never reused")
    db.session.add(
        PartnerKey(
            partner_id=partner.id, kid=kid, public_jwk=json.dumps(public_jwk(public_key, kid)), created_at=clock.now()
        )
    )
    db.session.commit()


def revoke_partner_key(partner_id: str, kid: str) -> datetime | None:
    """Revoke a key: nothing signed with it is accepted again. Returns when it had been revoked, if it was already."""
    get_partner(partner_id)
    row = db.session.get(PartnerKey, (partner_id, kid))
    if row is None:
        raise AdminError(f"{partner_id} has no key {kid!r}")
    if row.status == "revoked":
        return row.revoked_at
    row.status = "revoked"
    row.revoked_at = clock.now()
    db.session.commit()
    return None


def rotate_secret(partner_id: str) -> Credentials:
    """A new secret for the partner's client; the old one stops working now (issued tokens run out)."""
    get_partner(partner_id)
    client = db.session.scalars(select(OAuthClient).where(OAuthClient.partner_id == partner_id)).first()
    if client is None:
        raise AdminError(f"{partner_id} has no OAuth client")
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    db.session.commit()
    return Credentials(client.client_id, secret)


def set_enabled(partner_id: str, enabled: bool) -> int:
    """Enable or disable every OAuth client of the partner; a disabled client's tokens are refused at once."""
    get_partner(partner_id)
    clients = db.session.scalars(select(OAuthClient).where(OAuthClient.partner_id == partner_id)).all()
    for c in clients:
        c.disabled = not enabled
    db.session.commit()
    return len(clients)


def list_partners() -> list[dict[str, Any]]:
    """Every partner with its kind, carriers, clients and keys (``partner list``)."""
    rows = []
    for p in db.session.scalars(select(Partner).order_by(Partner.id)):
        clients = db.session.scalars(select(OAuthClient.client_id).where(OAuthClient.partner_id == p.id)).all()
        rows.append(
            {
                "id": p.id,
                "kind": p.kind,
                "name": p.name,
                "carriers": p.carrier_names,
                "client_ids": list(clients),
                "keys": [{"kid": k.kid, "status": k.status} for k in p.keys],
                "created_at": format_ts(p.created_at),
            }
        )
    return rows
