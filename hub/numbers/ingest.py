"""A push of signed number events (PROTOCOL.md section 10), through hub.batch.run.

Rules, in the order they are judged: the shape (``invalid-record``), the
number (``invalid-number``), the operator must be the caller
(``issuer-mismatch``), ``effective_at`` not more than 5 minutes ahead
(``invalid-record``); then same id again (``duplicate`` or ``conflict``), key
and signature, and the caller must be the number's home operator by the
routing rule of section 4 (``not-home-operator``).

An accepted ``reassigned`` event lifts, in its own write transaction, every
block on the number issued before ``effective_at`` and still in force
(hub.numbers.lifting). The blocks are read under the log's counter lock, so
a block committed before the event is seen and lifted, and a block
committing after it finds the event and is refused (hub.records.ingest's
guard): none issued before the reassignment stays in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from hub import clock
from hub.api import validate_signed_with_number
from hub.auth.protect import Caller
from hub.batch import Outcome, Stored, run, seen_before
from hub.canonical import canonicalize_known
from hub.db import db
from hub.ledger import log, receipts
from hub.ledger.receipts import seq_for
from hub.numbers import lifting
from hub.numbers.schemas import SignedNumberEvent
from hub.partner_keys import KeyRing
from hub.problems import Problem
from hub.records.lifecycle import REASSIGNED, NumberEvent
from hub.records.numbers import NumberInfo, check_e164
from hub.records.routing import RoutingTable
from hub.schemas import check_not_ahead
from hub.signing import signer
from keys.errors import CanonicalizationError
from keys.jcs import sha256_hex
from keys.timefmt import parse_ts

KIND = "number_event"


@dataclass
class EventCandidate:
    """An event that passed the checks needing no database."""

    index: int
    envelope: dict[str, Any]
    body: dict[str, Any]
    kid: str
    info: NumberInfo
    event_bytes: bytes  # JCS of the number_event member: hashed, and what the signature covers
    leaf: bytes
    effective_at: datetime

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def sha256(self) -> str:
        return sha256_hex(self.event_bytes)


def _judge_alone(index: int, item: Any, caller: Caller, now: datetime) -> EventCandidate:
    validate_signed_with_number(SignedNumberEvent, item, "number_event")
    body, sig = item["number_event"], item["signature"]
    info = check_e164(body["number"])
    if body["operator"] != caller.partner_id:
        raise Problem(
            "issuer-mismatch",
            f"operator is {body['operator']!r} but the token belongs to {caller.partner_id!r}; "
            "report only your own numbers' events.",
        )
    effective_at = parse_ts(body["effective_at"])
    check_not_ahead("effective_at", body["effective_at"], effective_at, now)
    try:
        event_bytes = canonicalize_known(body)
        leaf = canonicalize_known(item)
    except CanonicalizationError as exc:
        raise Problem("invalid-record", f"The number event cannot be canonicalized (RFC 8785): {exc}") from None
    return EventCandidate(index, item, body, sig["kid"], info, event_bytes, leaf, effective_at)


def _not_home(info: NumberInfo, home: str | None, me: str) -> str:
    """Why the caller may not report this number, in words an operator's engineer can act on."""
    if not info.domestic:
        return f"{info.e164} is not an Indonesian number: no operator of the hub is its home network."
    if info.carrier is None:
        return f"{info.e164} is on no Indonesian mobile network phonenumbers knows: it has no home operator."
    owner = f"that is {home}" if home else "which is not registered with the hub"
    return f"{info.e164} is on {info.carrier}, whose operator is not {me} ({owner}); report only your own numbers."


class NumberEventJudge:
    """The number-event stages of hub.batch.run."""

    kind = KIND

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.now = clock.now()

    def alone(self, index: int, item: Any) -> EventCandidate:
        return _judge_alone(index, item, self.caller, self.now)

    def with_database(self, candidates: list[EventCandidate], outcomes: list[Outcome | None]) -> list[EventCandidate]:
        """Duplicates, key and signature, home operator; reads only."""
        if not candidates:
            return []
        me = self.caller.partner_id
        ids = {c.id for c in candidates}
        existing = {e.id: e for e in db.session.scalars(select(NumberEvent).where(NumberEvent.id.in_(ids)))}
        keyring = KeyRing.load(me)
        routing = RoutingTable.load()
        accepted: list[EventCandidate] = []
        in_batch: set[str] = set()
        for c in candidates:
            try:
                duplicate = seen_before("number event", c.id, c.sha256, existing.get(c.id), c.id in in_batch)
                if duplicate is not None:
                    outcomes[c.index] = duplicate
                    continue
                keyring.verify(c.kid, c.envelope, KIND, c.event_bytes)
                home = routing.home_operator(c.info)
                if home != me:
                    raise Problem("not-home-operator", _not_home(c.info, home, me))
            except Problem as problem:
                outcomes[c.index] = Outcome("rejected", c.id, problem)
                continue
            in_batch.add(c.id)
            accepted.append(c)
        return accepted

    def store(self, accepted: list[EventCandidate]) -> list[Stored]:
        """The events' write transaction: rows, receipts, leaves, and the blocks each reassignment lifts."""
        session = db.session()
        by = signer()
        start, received_at = log.reserve_with_time(session, len(accepted))
        rows = []
        for offset, c in enumerate(accepted):
            index = start + offset
            rows.append(
                {
                    "id": c.id,
                    "seq": seq_for(index),
                    "log_index": index,
                    "sha256": c.sha256,
                    "operator": c.body["operator"],
                    "number": c.info.e164,
                    "event": c.body["event"],
                    "effective_at": c.effective_at,
                    "received_at": received_at,
                    "blocks_lifted": 0,
                    "receipt": receipts.issue(KIND, c.id, c.sha256, index, received_at, by).decode("utf-8"),
                }
            )
        log.append(session, start, [log.Entry(KIND, c.id, c.leaf) for c in accepted], received_at)
        # Under the counter lock now: every block committed before this event is visible to these reads.
        lifts = lifting.Lifts(session, received_at, by)
        reassigned = [(c, row) for c, row in zip(accepted, rows) if c.body["event"] == REASSIGNED]
        counts = lifts.lift_before([(c.info, c.effective_at, c.id) for c, _ in reassigned])
        for (_, row), lifted in zip(reassigned, counts):
            row["blocks_lifted"] = lifted
        session.connection().execute(insert(NumberEvent.__table__), rows)
        lifts.write()
        return [Stored(r["id"], r["sha256"], r["log_index"], received_at, r["receipt"]) for r in rows]


def push(caller: Caller, items: list[Any], dry_run: bool = False) -> list[dict[str, Any]]:
    """Judge and store a batch; ``dry_run`` judges the same way and stores nothing (hub.batch.run)."""
    return run(NumberEventJudge(caller), items, dry_run=dry_run)
