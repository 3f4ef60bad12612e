"""A number's lifecycle as its home operator reported it (PROTOCOL.md section 10): the facts records depend on.

Operators report when a number is ``disconnected`` (its subscription ended)
or ``reassigned`` (it now belongs to a new subscriber). A block raised
against the old subscriber must not follow the number to the new one, so a
record push asks here for the number's latest reassignment, and the number
look-up shows it. The events themselves are pushed, judged and stored by
``hub.numbers`` (which lifts the blocks a reassignment ends); this module
holds only the stored facts and the indexed questions asked of them, so
records can depend on them without depending on the events' ingest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import BigInteger, Connection, Index, Integer, String, Text, bindparam, func, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db, reads
from hub.hotread import HotRead

REASSIGNED = "reassigned"
DISCONNECTED = "disconnected"


class NumberEvent(db.Model):  # type: ignore[name-defined,misc]
    """An accepted number event; its signed form is the log entry at ``log_index``."""

    __tablename__ = "number_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(63))
    number: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(16))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: how many blocks the hub lifted because of this event (reassignments only)
    blocks_lifted: Mapped[int] = mapped_column(Integer, default=0)
    #: the receipt signed at acceptance, JCS text of the whole signed receipt (as ``records.receipt``)
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # The number's latest reassignment, and the reassignment questions: an index search, never a scan.
        Index("ix_number_events_number_event_effective", "number", "event", "effective_at"),
        # The reports' counts per period, and the earliest effective_at (NUMBER_EVENTS_SINCE's default).
        Index("ix_number_events_effective_at", "effective_at"),
        # The log's visibility rule and an operator's own events.
        Index("ix_number_events_operator_seq", "operator", "seq"),
    )


#: The questions' statements, built once (SQLAlchemy caches their compiled form) and run on the
#: session's connection: building a select and going through the ORM cost more than the index probes.
_LATEST = (
    select(NumberEvent.number, func.max(NumberEvent.effective_at))
    .where(NumberEvent.number.in_(bindparam("numbers", expanding=True)), NumberEvent.event == REASSIGNED)
    .group_by(NumberEvent.number)
)
_LATEST_ONE = select(func.max(NumberEvent.effective_at)).where(
    NumberEvent.number == bindparam("number", type_=String), NumberEvent.event == REASSIGNED
)
_EARLIEST = select(func.min(NumberEvent.effective_at))
_LAST_SEQ = select(func.coalesce(func.max(NumberEvent.seq), 0))
#: One row: the earliest effective_at, the number's latest reassignment (on the driver's cursor: hub.hotread).
_EARLIEST_AND_LATEST_ONE = HotRead(select(_EARLIEST.scalar_subquery(), _LATEST_ONE.scalar_subquery()))


def latest_reassignments(numbers: Iterable[str], conn: Connection | None = None) -> dict[str, datetime]:
    """Each number's latest ``reassigned`` effective_at, for the numbers that have one.

    ``conn``: where to read (default the session's transaction; a plain
    question passes hub.db.reads()).
    """
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    rows = (conn or db.session.connection()).execute(_LATEST, {"numbers": wanted})
    return {number: at for number, at in rows if at is not None}


def last_event_seq() -> int:
    """The seq of the last number event committed (0 for none): one probe of the unique index on seq.

    Events commit in seq order (seq is taken under the log's counter lock),
    so a record push that reads this before its guard and again under the
    lock knows whether any event was committed in between.
    """
    return int(db.session.connection().scalar(_LAST_SEQ) or 0)


def latest_reassignment(number: str) -> datetime | None:
    """The number's latest ``reassigned`` effective_at, or None (one index probe)."""
    at: datetime | None = db.session.connection().scalar(_LATEST_ONE, {"number": number})
    return at


def earliest_effective_at(conn: Connection | None = None) -> datetime | None:
    """When the hub's record of lifecycle events begins, by default: the earliest effective_at accepted."""
    at: datetime | None = (conn or db.session.connection()).scalar(_EARLIEST)
    return at


def earliest_and_latest(number: str) -> tuple[datetime | None, datetime | None]:
    """``earliest_effective_at()`` and ``latest_reassignment(number)`` in one round trip (a single question)."""
    earliest, latest = _EARLIEST_AND_LATEST_ONE.first(reads(), {"number": number}) or (None, None)
    return earliest, latest
