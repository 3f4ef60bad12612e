"""Signed acks by id, for record look-ups: read back from their log entries."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hub.acks.models import Ack
from hub.db import db
from hub.ledger.models import LogEntry


def acks_by_id(ack_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ack_ids:
        return {}
    rows = db.session.execute(
        select(Ack.id, LogEntry.data).join(LogEntry, LogEntry.idx == Ack.log_index).where(Ack.id.in_(ack_ids))
    )
    return {ack_id: json.loads(data) for ack_id, data in rows}
