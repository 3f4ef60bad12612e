"""Partners, their OAuth clients and keys, and the hub's own keys.

Everything a second hub instance must agree on lives here rather than in a
process: revoked token ids and used assertion ids are rows, so a revocation
on one instance holds on all of them at once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub import clock
from hub.auth.scopes import SCOPES_BY_KIND
from hub.db import UTCDateTime, db, rows_changed


class Partner(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    carriers: Mapped[list[PartnerCarrier]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", lazy="selectin"
    )
    keys: Mapped[list[PartnerKey]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerKey.created_at"
    )

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return SCOPES_BY_KIND[self.kind]

    @property
    def carrier_names(self) -> list[str]:
        return sorted(c.carrier for c in self.carriers)


class PartnerCarrier(db.Model):  # type: ignore[name-defined,misc]
    """A carrier name (as phonenumbers spells it) routed to an operator."""

    __tablename__ = "partner_carriers"

    carrier: Mapped[str] = mapped_column(String(100), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    partner: Mapped[Partner] = relationship(back_populates="carriers")


class OAuthClient(db.Model):  # type: ignore[name-defined,misc]
    """A partner's OAuth 2.0 client; the secret is kept only as an Argon2 hash."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    partner: Mapped[Partner] = relationship(lazy="joined")


class PartnerKey(db.Model):  # type: ignore[name-defined,misc]
    """A partner's Ed25519 public key. Revoked keys stay, for verification history."""

    __tablename__ = "partner_keys"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    partner: Mapped[Partner] = relationship(back_populates="keys")

    @property
    def jwk(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.public_jwk)
        return found


class HubKey(db.Model):  # type: ignore[name-defined,misc]
    """The hub's signing keys. The private half is a 0600 file in HUB_KEYS_DIR."""

    __tablename__ = "hub_keys"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    #: a retired key stays published (old receipts and reports verify) but signs
    #: nothing new and no access token signed with it is accepted
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def jwk(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.public_jwk)
        return found


class RevokedToken(db.Model):  # type: ignore[name-defined,misc]
    """An access token's ``jti`` revoked before its expiry (RFC 7009)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class UsedAssertion(db.Model):  # type: ignore[name-defined,misc]
    """A client assertion's ``jti``: inserting it twice is the replay check."""

    __tablename__ = "used_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_used_assertions_expires_at", "expires_at"),)


def purge_expired(now: datetime) -> int:
    """Revoked-token and used-assertion rows are only needed until their expiry; returns how many went."""
    n = rows_changed(db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now)))
    n += rows_changed(db.session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now)))
    db.session.commit()
    return int(n)
