"""Which ``ack`` leaves of the log a caller may read in full (PROTOCOL 1.1 section 7).

An ack is visible to the partner that sent it and to the issuer of the
record it is about; to anyone else (and its reason with it) it is only its
leaf hash. Registered with hub.ledger.visibility when the acks capability is
imported (hub.acks.routes).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from hub.acks.models import Ack
from hub.auth.protect import Caller
from hub.ledger import visibility
from hub.records.models import Record


@visibility.rule("ack")
def visible_log_indexes(caller: Caller, start: int, end: int) -> Select[Any]:
    """The acks in ``[start, end)`` by ``log_index``, each joined to its own record by the record's key."""
    return (
        select(Ack.log_index)
        .join(Record, Record.id == Ack.record_id)
        .where(
            Ack.log_index >= start,
            Ack.log_index < end,
            or_(Ack.partner_id == caller.partner_id, Record.issuer == caller.partner_id),
        )
    )
