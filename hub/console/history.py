"""A number's whole history: typed event sources merged in time order.

Each source is one function ``(ctx) -> list[Event]`` reading one kind of
row for the number through an index (``records.number``, then the
assignments' and acks' keys joined on each record's id, ``anomalies.number``,
``number_events.number``); :data:`SOURCES` lists them and :func:`history`
merges them by time. The number's lifecycle events (disconnected,
reassigned: PROTOCOL 1.1 section 10) are shown at the moment they took
effect, next to the hub's own unblocks they caused.

Signed objects (records, acks, number events) carry the hub's verdict on their
partner's signature, checked here against the partner's registered key (the
hub's published key for the unblocks the hub issues itself) as the log holds
the object: valid, valid with a key revoked since, invalid,
or made with a key the hub does not know.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from flask import current_app
from sqlalchemy import select

from hub.acks.models import Ack
from hub.auth.models import HubKey, PartnerKey
from hub.db import db
from hub.ledger.models import LogEntry
from hub.records.anomalies import Anomaly
from hub.records.lifecycle import NumberEvent
from hub.records.models import Assignment, Record
from keys.errors import SigningError
from keys.jwk import jwk_to_public_key
from keys.signing import verify_object

#: rows read per source at most: a number with more than this is shown in part, and says so
LIMIT = 500

VALID, REVOKED_SINCE, INVALID, UNKNOWN_KEY = "valid", "valid_key_revoked", "invalid", "unknown_key"


@dataclass(frozen=True)
class Verdict:
    status: str  # VALID | REVOKED_SINCE | INVALID | UNKNOWN_KEY
    kid: str
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # record | assigned | delivered | ack | anomaly | lifecycle
    partner: str | None
    record_id: str | None
    summary: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None
    log_index: int | None = None


@dataclass
class Context:
    """What the sources share: the number, its records' ids, the partners' keys (loaded once)."""

    number: str
    truncated: bool = False
    keys: dict[tuple[str, str], PartnerKey | HubKey | None] = field(default_factory=dict)

    @cached_property
    def records(self) -> list[tuple[Record, str]]:
        rows = db.session.execute(
            select(Record, LogEntry.data)
            .join(LogEntry, LogEntry.idx == Record.log_index)
            .where(Record.number == self.number)
            .order_by(Record.received_at, Record.seq)
            .limit(LIMIT + 1)
        ).all()
        self.truncated |= len(rows) > LIMIT
        return [(r, data) for r, data in rows[:LIMIT]]

    def verdict(self, partner: str, kind: str, data: str) -> Verdict:
        envelope = json.loads(data)
        kid = str(envelope.get("signature", {}).get("kid", ""))
        if (partner, kid) not in self.keys:
            hub = partner == current_app.config["HUB_ID"]  # the hub's own unblocks (section 10)
            self.keys[(partner, kid)] = (
                db.session.get(HubKey, kid) if hub else db.session.get(PartnerKey, (partner, kid))
            )
        key = self.keys[(partner, kid)]
        if key is None:
            return Verdict(UNKNOWN_KEY, kid)
        try:
            verify_object(envelope, kind, jwk_to_public_key(key.jwk))
        except SigningError:
            return Verdict(INVALID, kid)
        if isinstance(key, HubKey):
            return Verdict(VALID, kid)  # a retired hub key stays published: what it signed still stands
        if key.status != "active":
            return Verdict(REVOKED_SINCE, kid, key.revoked_at)
        return Verdict(VALID, kid)


def record_events(ctx: Context) -> list[Event]:
    out = []
    for r, data in ctx.records:
        body = json.loads(data)["record"]
        out.append(
            Event(
                r.received_at,
                "record",
                r.issuer,
                r.id,
                {
                    "action": r.action,
                    "category": r.category,
                    "channels": body.get("channels", []),
                    "reason": body.get("reason"),
                    "supersedes": r.supersedes,
                    "lifted_at": r.lifted_at,
                    "in_force_until": r.in_force_until,
                },
                ctx.verdict(r.issuer, "record", data),
                r.log_index,
            )
        )
    return out


def assignment_events(ctx: Context) -> list[Event]:
    out = []
    for a in db.session.scalars(
        select(Assignment)
        .join(Record, Record.id == Assignment.record_id)
        .where(Record.number == ctx.number)
        .limit(LIMIT)
    ):
        out.append(Event(a.assigned_at, "assigned", a.partner_id, a.record_id, {"status": a.status}))
        if a.delivered_at is not None:
            out.append(Event(a.delivered_at, "delivered", a.partner_id, a.record_id))
    return out


def ack_events(ctx: Context) -> list[Event]:
    rows = db.session.execute(
        select(Ack, LogEntry.data)
        .join(Record, Record.id == Ack.record_id)
        .join(LogEntry, LogEntry.idx == Ack.log_index)
        .where(Record.number == ctx.number)
        .limit(LIMIT)
    ).all()
    out = []
    for ack, data in rows:
        body = json.loads(data)["ack"]
        out.append(
            Event(
                ack.received_at,
                "ack",
                ack.partner_id,
                ack.record_id,
                {"outcome": ack.outcome, "reason": body.get("reason"), "acted_at": ack.acted_at_claimed},
                ctx.verdict(ack.partner_id, "ack", data),
                ack.log_index,
            )
        )
    return out


def anomaly_events(ctx: Context) -> list[Event]:
    rows = db.session.scalars(
        select(Anomaly).where(Anomaly.number == ctx.number).limit(LIMIT)  # sorted with the rest: by time
    )
    return [
        Event(a.created_at, "anomaly", a.partner_id, a.record_id, {"anomaly": a.kind, "related": a.related_record_id})
        for a in rows
    ]


def lifecycle_events(ctx: Context) -> list[Event]:
    """The operator's disconnected and reassigned events, at the moment they took effect."""
    rows = db.session.execute(
        select(NumberEvent, LogEntry.data)
        .join(LogEntry, LogEntry.idx == NumberEvent.log_index)
        .where(NumberEvent.number == ctx.number)
        .order_by(NumberEvent.effective_at)
        .limit(LIMIT)
    ).all()
    return [
        Event(
            e.effective_at,
            "lifecycle",
            e.operator,
            None,
            {"event": e.event, "received_at": e.received_at, "blocks_lifted": e.blocks_lifted, "id": e.id},
            ctx.verdict(e.operator, "number_event", data),
            e.log_index,
        )
        for e, data in rows
    ]


#: The number's event sources, merged by :func:`history`; a new kind of event is one more function here.
SOURCES: list[Callable[[Context], list[Event]]] = [
    record_events,
    assignment_events,
    ack_events,
    anomaly_events,
    lifecycle_events,
]

#: Among events at the same moment, the order they happen in.
_ORDER = {"lifecycle": -1, "record": 0, "assigned": 1, "delivered": 2, "ack": 3, "anomaly": 4}


def history(number: str) -> tuple[list[Event], bool]:
    """Every event of ``number`` (E.164), oldest first; ``True`` when a source had more than it read."""
    ctx = Context(number)
    events = [e for source in SOURCES for e in source(ctx)]
    events.sort(key=lambda e: (e.at, _ORDER.get(e.kind, 9), e.partner or ""))
    return events, ctx.truncated
