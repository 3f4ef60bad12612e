"""Which ``number_event`` leaves of the log a caller may read in full (PROTOCOL 1.1 section 7).

A number event is visible to the operator that reported it (and, as every
entry, to the ministry); to anyone else it is only its leaf hash: which of
an operator's numbers changed hands is the operator's and its subscribers'
business. Registered with hub.ledger.visibility when the numbers capability
is imported (hub.numbers.routes).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from hub.auth.protect import Caller
from hub.ledger import visibility
from hub.records.lifecycle import NumberEvent


@visibility.rule("number_event")
def visible_log_indexes(caller: Caller, start: int, end: int) -> Select[Any]:
    """The caller's own events in ``[start, end)``, by ``log_index`` (unique index)."""
    return select(NumberEvent.log_index).where(
        NumberEvent.log_index >= start, NumberEvent.log_index < end, NumberEvent.operator == caller.partner_id
    )
