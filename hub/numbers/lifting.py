"""The hub's unblocks of a reassigned number's blocks (PROTOCOL.md section 10).

A block raised against a number's earlier subscriber must not follow the
number to the new one. For every block on the number issued before the
reassignment took effect and still in force, the hub issues an ``unblock``
record in the event's own write transaction: issuer the hub's id
(``HUB_ID``), signed with the hub's current key, superseding the block,
with its category and channels. It is stored, receipted and logged like a
partner's unblock and assigned to the partners the block was assigned to,
so it is pulled, acknowledged (``unblocked``) and counted against the SLA
like any other.

Everything here runs under the log's counter lock (the caller reserved its
own entries first): the blocks read are every block committed so far.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub.batch import ConcurrentWrite
from hub.canonical import canonicalize_known
from hub.db import rows_changed
from hub.ledger import log, receipts
from hub.ledger.models import LogEntry
from hub.ledger.receipts import seq_for
from hub.records.models import Assignment, Record, in_force_at
from hub.records.numbers import NumberInfo
from hub.signing import HubSigner
from keys.jcs import sha256_hex
from keys.timefmt import format_ts


def reason_for(event_id: str) -> str:
    return f"number reassigned (event {event_id})"


@dataclass
class _Unblock:
    block_id: str
    info: NumberInfo
    category: str
    envelope: dict[str, Any]
    record_bytes: bytes
    leaf: bytes
    assignees: list[str]

    @property
    def id(self) -> str:
        return str(self.envelope["record"]["id"])


@dataclass
class Lifts:
    """The unblocks of one write transaction, collected, then written with their own log entries."""

    session: Session
    received_at: datetime
    by: HubSigner
    pending: list[_Unblock] = field(default_factory=list)

    def lift_before(self, events: list[tuple[NumberInfo, datetime, str]]) -> list[int]:
        """For each (number, effective_at, event id), in order: unblock every block on the number issued
        before ``effective_at`` and in force; how many each event lifted.

        One statement finds the blocks of every number of the batch and one their assignees, however
        many events the batch holds (a statement per event cost 70% of a push of reassignments).
        """
        if not events:
            return []
        latest = max(at for _, at, _ in events)
        found = self.session.execute(
            select(Record.id, Record.number, Record.issued_at, Record.category, LogEntry.data)
            .join(LogEntry, LogEntry.idx == Record.log_index)
            .where(
                Record.number.in_(sorted({info.e164 for info, _, _ in events})),
                Record.issued_at < latest,
                Record.lifted_by.is_(None),
                in_force_at(self.received_at),
            )
            .order_by(Record.seq)
        ).all()
        by_number: dict[str, list[Any]] = {}
        for r in found:
            by_number.setdefault(r.number, []).append(r)
        lifted = {u.block_id for u in self.pending}
        chosen: list[tuple[NumberInfo, datetime, str, Any]] = []
        counts = []
        for info, effective_at, event_id in events:
            mine = [r for r in by_number.get(info.e164, []) if r.issued_at < effective_at and r.id not in lifted]
            lifted.update(r.id for r in mine)
            chosen += [(info, effective_at, event_id, r) for r in mine]
            counts.append(len(mine))
        if not chosen:
            return counts
        assignees: dict[str, list[str]] = {}
        for rid, pid in self.session.execute(
            select(Assignment.record_id, Assignment.partner_id)
            .where(Assignment.record_id.in_([r.id for *_, r in chosen]))
            .order_by(Assignment.partner_id)
        ):
            assignees.setdefault(rid, []).append(pid)
        hub_id = current_app.config["HUB_ID"]
        for info, effective_at, event_id, r in chosen:
            block = orjson.loads(r.data)["record"]
            body = {
                "id": str(uuid.uuid4()),
                "issuer": hub_id,
                "number": info.e164,
                "action": "unblock",
                "category": r.category,
                "channels": block["channels"],
                "reason": reason_for(event_id),
                "evidence": {"complaints": 0, "ref": event_id},
                "observed_at": format_ts(effective_at),
                "issued_at": format_ts(self.received_at),
                "expires_at": None,
                "supersedes": r.id,
            }
            envelope, leaf = self.by.sign_canonical("record", body)
            self.pending.append(
                _Unblock(r.id, info, r.category, envelope, canonicalize_known(body), leaf, assignees.get(r.id, []))
            )
        return counts

    def write(self) -> None:
        """Reserve the unblocks' log entries (the lock is held already) and store them, their assignments, the lifts."""
        if not self.pending:
            return
        session, at = self.session, self.received_at
        start = log.reserve(session, len(self.pending))
        record_rows, assignment_rows = [], []
        for offset, u in enumerate(self.pending):
            index = start + offset
            sha = sha256_hex(u.record_bytes)
            record_rows.append(
                {
                    "id": u.id,
                    "seq": seq_for(index),
                    "log_index": index,
                    "sha256": sha,
                    "issuer": u.envelope["record"]["issuer"],
                    "number": u.info.e164,
                    "number_prefix": u.info.sha256[:5],
                    "number_sha256": u.info.sha256,
                    "action": "unblock",
                    "category": u.category,
                    "issued_at": at,
                    "in_force_until": None,
                    "supersedes": u.block_id,
                    "lifted_by": None,
                    "lifted_at": None,
                    "received_at": at,
                    "receipt": receipts.issue("record", u.id, sha, index, at, self.by).decode("utf-8"),
                }
            )
            assignment_rows += [
                {"record_id": u.id, "partner_id": p, "seq": seq_for(index), "status": "pending", "assigned_at": at}
                for p in u.assignees
            ]
        conn = session.connection()
        conn.execute(insert(Record.__table__), record_rows)
        if assignment_rows:
            conn.execute(insert(Assignment.__table__), assignment_rows)
        for u in self.pending:
            changed = rows_changed(
                session.execute(
                    update(Record)
                    .where(Record.id == u.block_id, Record.lifted_by.is_(None))
                    .values(lifted_by=u.id, lifted_at=at)
                )
            )
            if changed != 1:
                raise ConcurrentWrite(f"block {u.block_id} was lifted by a concurrent push")
        log.append(session, start, [log.Entry("record", u.id, u.leaf) for u in self.pending], at)
