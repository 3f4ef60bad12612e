"""Accepted acks and attestations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db


class Ack(db.Model):  # type: ignore[name-defined,misc]
    """A partner's signed outcome for one assignment; its signed form is the log entry."""

    __tablename__ = "acks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    acted_at_claimed: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    #: one final outcome per assignment, enforced by the database across instances
    __table_args__ = (UniqueConstraint("record_id", "partner_id", name="uq_acks_assignment"),)


class Attestation(db.Model):  # type: ignore[name-defined,misc]
    """What a partner says it blocks, and what the hub expected at ``as_of``."""

    __tablename__ = "attestations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    blocked_count: Mapped[int] = mapped_column(BigInteger)
    blocked_set_sha256: Mapped[str] = mapped_column(String(64))
    expected_count: Mapped[int] = mapped_column(BigInteger)
    expected_sha256: Mapped[str] = mapped_column(String(64))
    match: Mapped[bool] = mapped_column(Boolean)
    sha256: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
