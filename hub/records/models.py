"""Accepted records and who must act on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, ForeignKey, Index, String, Text, and_, or_
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db


class Record(db.Model):  # type: ignore[name-defined,misc]
    """An accepted record. Its signed form is the log entry at ``log_index``."""

    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(63))
    number: Mapped[str] = mapped_column(String(20))
    #: the first 5 hex characters of SHA-256(number), for the k-anonymous range look-up
    number_prefix: Mapped[str] = mapped_column(String(5))
    number_sha256: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: blocks only: expires_at, or issued_at plus the category's default lifetime
    in_force_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    supersedes: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    #: blocks only: the accepted unblock that lifted it, and when the hub accepted that unblock
    lifted_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: the receipt signed at acceptance, as JCS text of the whole signed receipt (hub.ledger.receipts);
    #: null for records accepted before receipts were stored
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_records_issuer_seq", "issuer", "seq"),
        Index("ix_records_number_prefix", "number_prefix", "action"),
        #: the number look-up: the number's own rows, newest first, never a scan
        Index("ix_records_number_seq", "number", "seq"),
    )


class Assignment(db.Model):  # type: ignore[name-defined,misc]
    """A partner that must act on a record; ``seq`` is copied for the pull index."""

    __tablename__ = "assignments"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: indexed for the reports, which count what happened in a period
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    #: indexed where acted (ix_assignments_acted_at below): open rows are the partial indexes' own
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ack_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: where the ack's signed form is in the log, so a record's look-up reads it without the acks table
    ack_log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_assignments_partner_seq", "partner_id", "seq"),)


#: Only the assignments still open (never acted), so "pending and overdue now" reads what is open,
#: not every assignment ever made: by partner, and by age (hub.reports.compute.open_now, overdue_now).
for _name, _columns in (
    ("ix_assignments_open_partner", (Assignment.partner_id, Assignment.assigned_at)),
    ("ix_assignments_open_since", (Assignment.assigned_at, Assignment.partner_id)),
):
    Index(_name, *_columns, sqlite_where=Assignment.acted_at.is_(None), postgresql_where=Assignment.acted_at.is_(None))

#: The reports' acts in a period and the attestations' acted-before (ranges, which imply NOT NULL). Holding
#: no open row, it cannot draw SQLite's planner away from the open indexes for ``acted_at IS NULL``
#: (its statistics would call that a one-row equality): migration 0014, tests/test_console_plans.py.
Index(
    "ix_assignments_acted_at",
    Assignment.acted_at,
    sqlite_where=Assignment.acted_at.is_not(None),
    postgresql_where=Assignment.acted_at.is_not(None),
)


def in_force_at(moment: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """PROTOCOL.md's "a block in force at t", as the one SQL condition every reader uses.

    A block accepted by ``t``, not expired by ``t`` (``in_force_until``:
    ``expires_at`` or the category's default lifetime), and not lifted by an
    unblock the hub had accepted by ``t``. The number look-up, the hash
    range, the re-report signal and the attestation's expected set all ask
    exactly this, for now or for a past moment.
    """
    return and_(
        Record.action == "block",
        Record.received_at <= moment,
        Record.in_force_until > moment,
        or_(Record.lifted_at.is_(None), Record.lifted_at > moment),
    )
