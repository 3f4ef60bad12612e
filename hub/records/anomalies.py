"""The re-report signal: a number reported again after its operator acked ``blocked``.

If the home operator says it blocked a number and fraud reports about the
same number keep arriving while that block is in force, either the block
did not take or the ack was not true. The hub notes it for the ministry's
reports at the moment the new record is accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UTCDateTime, db
from hub.records.models import Assignment, Record, in_force_at
from hub.records.numbers import NumberInfo
from hub.records.routing import RoutingTable

REREPORT = "rereported_after_block"


class Anomaly(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "anomalies"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(20), index=True)  # a number's history in the console
    partner_id: Mapped[str] = mapped_column(String(63), index=True)
    record_id: Mapped[str] = mapped_column(String(36))
    related_record_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def rereports(blocks: list[tuple[str, NumberInfo]], routing: RoutingTable, now: datetime) -> list[dict[str, Any]]:
    """Anomaly rows for new blocks (record id, number) whose home operator acked an in-force block."""
    home = {rid: routing.home_operator(info) for rid, info in blocks}
    numbers = {info.e164 for rid, info in blocks if home.get(rid)}
    if not numbers:
        return []
    rows = db.session.execute(
        select(Record.number, Record.id, Assignment.partner_id)
        .join(Assignment, Assignment.record_id == Record.id)
        .where(Record.number.in_(numbers), in_force_at(now), Assignment.outcome == "blocked")
    ).all()
    acked: dict[tuple[str, str], str] = {(number, partner): rid for number, rid, partner in rows}
    out = []
    for rid, info in blocks:
        operator = home.get(rid)
        earlier = acked.get((info.e164, operator)) if operator else None
        if earlier:
            out.append(
                {
                    "kind": REREPORT,
                    "number": info.e164,
                    "partner_id": operator,
                    "record_id": rid,
                    "related_record_id": earlier,
                }
            )
    return out
