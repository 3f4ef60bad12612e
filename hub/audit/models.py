"""Audit rows and the numbers they name.

``audit`` holds one row per audited request; its ``id`` is the cursor of
``GET /v1/audit`` and is taken from the ``audit`` row of the ``counters``
table, so ids are given out in commit order (see ``service``). The numbers
a read involved are kept twice: as JSON in the row (served as they are) and
one row each in ``audit_numbers``, whose primary key ``(number, audit_id)``
answers "who read this number" by an index range scan. There is no foreign
key from ``audit_numbers`` to ``audit``: the service writes both in one
transaction and the prune deletes both, and a per-row foreign-key check
would cost every pull of a thousand records a thousand index probes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One audited read. Append-only: nothing in the hub updates a row; only the prune deletes."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    partner: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(100))
    numbers: Mapped[str] = mapped_column(Text)  # JSON array of E.164 numbers
    ids: Mapped[str] = mapped_column(Text)  # JSON array of ids (records, reports, a log range, a hash prefix)
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_audit_partner_id", "partner", "id"),)


class AuditNumber(db.Model):  # type: ignore[name-defined,misc]
    """A number a read named directly (a look-up, a record fetch, a log read, a report).

    The primary key ``(number, audit_id)`` answers ``GET /v1/audit?number=``;
    ``audit_id``'s index (always appended at its end: ids only grow) serves
    the prune. On SQLite a WITHOUT ROWID table: the key is the table.
    """

    __tablename__ = "audit_numbers"
    __table_args__ = {"sqlite_with_rowid": False}

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    audit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, index=True)


class AuditSeq(db.Model):  # type: ignore[name-defined,misc]
    """A record a read served (a pull's page), by its ``seq``: its number is found through ``records``."""

    __tablename__ = "audit_seqs"
    __table_args__ = {"sqlite_with_rowid": False}

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    audit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, index=True)
