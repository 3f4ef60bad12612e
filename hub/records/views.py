"""Reading records back: the pull cursor, single look-ups, numbers.

Pulls are two index range scans, ``assignments(partner_id, seq)`` and
``records(issuer, seq)``, each cut at ``limit``; they never lock. Because
writers commit in seq order (hub.ledger.log.reserve), a reader that has seen
seq N has seen everything below N, which is what makes the cursor exact.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from hub import clock
from hub.auth.protect import Caller
from hub.db import db
from hub.ledger import log
from hub.ledger.models import LogEntry
from hub.ledger.receipts import receipt
from hub.records.models import Assignment, Record, in_force_at
from hub.signing import signer
from keys.timefmt import format_ts


def _ts(value: datetime | None) -> str | None:
    return format_ts(value) if value is not None else None


def assignment_view(a: Any) -> dict[str, Any] | None:
    """The caller's own assignment as the protocol shows it (an Assignment or a row)."""
    if a is None:
        return None
    return {
        "status": a.status,
        "assigned_at": format_ts(a.assigned_at),
        "delivered_at": _ts(a.delivered_at),
        "acted_at": _ts(a.acted_at),
    }


def visible_seqs(caller: Caller, after: int, limit: int) -> list[int]:
    """The first ``limit`` seqs above ``after`` that the caller may see.

    Bounded by the committed log size read first: every seq up to it is
    committed (writers commit in seq order), and the two index scans below
    run as separate statements, so without the bound a record committing
    between them could be passed over by a cursor moved past it.
    """
    high = log.size()
    if caller.is_ministry:
        return list(
            db.session.scalars(
                select(Record.seq).where(Record.seq > after, Record.seq <= high).order_by(Record.seq).limit(limit)
            )
        )
    assigned = db.session.scalars(
        select(Assignment.seq)
        .where(Assignment.partner_id == caller.partner_id, Assignment.seq > after, Assignment.seq <= high)
        .order_by(Assignment.seq)
        .limit(limit)
    )
    own = db.session.scalars(
        select(Record.seq)
        .where(Record.issuer == caller.partner_id, Record.seq > after, Record.seq <= high)
        .order_by(Record.seq)
        .limit(limit)
    )
    return sorted(set(assigned) | set(own))[:limit]


def can_see(caller: Caller, record: Record) -> bool:
    if caller.is_ministry or record.issuer == caller.partner_id:
        return True
    return db.session.get(Assignment, (record.id, caller.partner_id)) is not None


def load_items(caller: Caller, where: Any, mark_delivered: bool) -> list[dict[str, Any]]:
    """Pull-format items of the records matching ``where``, ascending seq.

    Reads plain rows, not ORM objects: the delivered-marking commit must not
    leave objects behind whose later refresh or flush would touch the rows
    again (that per-row flush deadlocked overlapping pulls on PostgreSQL).
    """
    rows = db.session.execute(
        select(Record.id, Record.seq, Record.sha256, Record.log_index, Record.received_at, LogEntry.data)
        .join(LogEntry, LogEntry.idx == Record.log_index)
        .where(where)
        .order_by(Record.seq)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    mine = {
        a.record_id: assignment_view(a)
        for a in db.session.execute(
            select(
                Assignment.record_id,
                Assignment.status,
                Assignment.assigned_at,
                Assignment.delivered_at,
                Assignment.acted_at,
            ).where(Assignment.partner_id == caller.partner_id, Assignment.record_id.in_(ids))
        )
    }
    if mark_delivered:
        fresh = sorted(rid for rid, a in mine.items() if a and a["status"] == "pending")
        if fresh:
            now = clock.now()
            db.session.execute(
                update(Assignment)
                .where(
                    Assignment.partner_id == caller.partner_id,
                    Assignment.record_id.in_(fresh),
                    Assignment.status == "pending",
                )
                .values(status="delivered", delivered_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            for rid in fresh:
                mine[rid] = {**(mine[rid] or {}), "status": "delivered", "delivered_at": format_ts(now)}
    current = signer()
    return [
        {
            "seq": r.seq,
            **_signed_parts(r.data),
            "receipt": receipt("record", r.id, r.sha256, r.log_index, r.received_at, current),
            "assignment": mine.get(r.id),
        }
        for r in rows
    ]


def _signed_parts(data: str) -> dict[str, Any]:
    signed = json.loads(data)
    return {"record": signed["record"], "signature": signed["signature"]}


def pull(caller: Caller, after: int, limit: int) -> dict[str, Any]:
    seqs = visible_seqs(caller, after, limit + 1)
    has_more = len(seqs) > limit
    seqs = seqs[:limit]
    items = load_items(caller, Record.seq.in_(seqs), mark_delivered=True) if seqs else []
    return {"items": items, "next_after": items[-1]["seq"] if items else after, "has_more": has_more}


def assignments_of(record_id: str) -> list[dict[str, Any]]:
    """Every assignment of a record with its signed ack (issuer and ministry only)."""
    rows = db.session.execute(
        select(Assignment, LogEntry.data)
        .outerjoin(LogEntry, LogEntry.idx == Assignment.ack_log_index)
        .where(Assignment.record_id == record_id)
        .order_by(Assignment.partner_id)
    ).all()
    return [
        {"partner": a.partner_id, **(assignment_view(a) or {}), "ack": json.loads(ack) if ack is not None else None}
        for a, ack in rows
    ]


def number_state(number: str, now: datetime) -> bool:
    """True while any block for the number is in force."""
    found = db.session.scalar(select(Record.id).where(Record.number == number, in_force_at(now)).limit(1))
    return found is not None


def visible_number_records(caller: Caller, number: str) -> list[dict[str, Any]]:
    if caller.is_ministry:
        where = Record.number == number
    else:
        assigned = select(Assignment.record_id).where(Assignment.partner_id == caller.partner_id)
        where = (Record.number == number) & ((Record.issuer == caller.partner_id) | Record.id.in_(assigned))
    return load_items(caller, where, mark_delivered=False)


def blocked_suffixes(prefix: str, now: datetime) -> list[str]:
    hashes = db.session.scalars(
        select(Record.number_sha256).where(Record.number_prefix == prefix, in_force_at(now)).distinct()
    )
    return sorted(h[5:] for h in hashes)
