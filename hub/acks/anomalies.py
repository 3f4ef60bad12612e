"""The re-report signal: a number reported again after its operator acked ``blocked``.

If the home operator says it blocked a number and fraud reports about the
same number keep arriving while that block is in force, either the block
did not take or the ack was not true. The hub notes it for the ministry's
reports at the moment the new record is accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db
from hub.records.models import Assignment, Record

if TYPE_CHECKING:
    from hub.records.ingest import Candidate
    from hub.records.routing import RoutingTable

REREPORT = "rereported_after_block"


class Anomaly(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "anomalies"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(20))
    partner_id: Mapped[str] = mapped_column(String(63), index=True)
    record_id: Mapped[str] = mapped_column(String(36))
    related_record_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def rereports(blocks: list[Candidate], routing: RoutingTable, now: datetime) -> list[dict[str, Any]]:
    """Anomaly rows for new blocks of numbers whose home operator acked an in-force block."""
    home = {c.id: routing.operator_by_carrier.get(c.info.carrier or "") for c in blocks if c.info.domestic}
    numbers = {c.info.e164 for c in blocks if home.get(c.id)}
    if not numbers:
        return []
    rows = db.session.execute(
        select(Record.number, Record.id, Assignment.partner_id)
        .join(Assignment, Assignment.record_id == Record.id)
        .where(
            Record.number.in_(numbers),
            Record.action == "block",
            Record.lifted_by.is_(None),
            Record.in_force_until > now,
            Assignment.outcome == "blocked",
        )
    ).all()
    acked: dict[tuple[str, str], str] = {(number, partner): rid for number, rid, partner in rows}
    out = []
    for c in blocks:
        operator = home.get(c.id)
        earlier = acked.get((c.info.e164, operator)) if operator else None
        if earlier:
            out.append(
                {
                    "kind": REREPORT,
                    "number": c.info.e164,
                    "partner_id": operator,
                    "record_id": c.id,
                    "related_record_id": earlier,
                }
            )
    return out
