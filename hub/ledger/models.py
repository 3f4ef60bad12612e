"""Log storage: the sequence counter, leaves, complete-subtree hashes, heads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db


class Counter(db.Model):  # type: ignore[name-defined,misc]
    """The one row every writer updates inside its transaction.

    ``log`` holds the log's size. Taking it with ``UPDATE ... RETURNING``
    serializes writers for the few milliseconds of their insert, so commit
    order equals seq order and a pull cursor never skips a row that commits
    late (DESIGN.md, "The hot path").
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class LogEntry(db.Model):  # type: ignore[name-defined,misc]
    """A leaf: the JCS bytes of a whole signed object as accepted."""

    __tablename__ = "log_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(36))
    data: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class MerkleNode(db.Model):  # type: ignore[name-defined,misc]
    """A complete subtree's hash, stored once when its last leaf arrives."""

    __tablename__ = "merkle_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
