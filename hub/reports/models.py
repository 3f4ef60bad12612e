"""Stored reports and their webhook deliveries (a durable outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db


class Report(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: "daily:<start>" or "monthly:<start>"; NULL for ad-hoc reports, which are not deduplicated.
    #: Unique, so two instances or two triggers can never store a period twice.
    period_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    #: the signed envelope {"report": ..., "signature": ...} as JSON
    envelope: Mapped[str] = mapped_column(Text)


class Delivery(db.Model):  # type: ignore[name-defined,misc]
    """One report to POST to the ministry's webhook, retried until taken."""

    __tablename__ = "report_deliveries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
