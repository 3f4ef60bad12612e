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
    """A number an audited read involved: the index behind ``GET /v1/audit?number=``.

    Its primary key is all it is (on SQLite a WITHOUT ROWID table: one
    b-tree, not a table and an index): a pull of 1,000 records adds 1,000
    rows, so each index more is 1,000 more b-tree inserts in every pull. The
    prune finds a row's children by their numbers, which the row lists.
    """

    __tablename__ = "audit_numbers"
    __table_args__ = {"sqlite_with_rowid": False}

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    audit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
