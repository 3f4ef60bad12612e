"""A push of signed acks (PROTOCOL.md section 5), through hub.batch.run.

Rules, in the order they are judged: the shape (``invalid-record``, which
includes a missing reason for ``rejected``/``not_applicable``); the ack must
be the caller's own (``not-assigned``); same id again (``duplicate`` or
``conflict``); key and signature; the record must be assigned to the caller
(``not-assigned``); the outcome must fit the record's action
(``invalid-transition``, checked before the next rule); one final outcome
per assignment (``conflict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, insert, select, update

from hub.acks.models import Ack
from hub.acks.schemas import SignedAck
from hub.api import describe, validation_errors
from hub.auth.protect import Caller
from hub.batch import ConcurrentWrite, Outcome, Stored, run, seen_before
from hub.db import db, rows_changed
from hub.ledger import log
from hub.partner_keys import KeyRing
from hub.problems import Problem
from hub.records.models import Assignment, Record
from keys.errors import CanonicalizationError
from keys.jcs import canonicalize, sha256_hex
from keys.timefmt import parse_ts
from keys.wire import NEEDS_REASON, OUTCOMES_FOR


@dataclass
class AckCandidate:
    index: int
    envelope: dict[str, Any]
    body: dict[str, Any]
    kid: str
    ack_bytes: bytes  # JCS of the ack member: hashed, and what the signature covers
    leaf: bytes
    acted_at: datetime

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def sha256(self) -> str:
        return sha256_hex(self.ack_bytes)


class AckJudge:
    kind = "ack"

    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    def alone(self, index: int, item: Any) -> AckCandidate:
        try:
            SignedAck.model_validate(item)
        except ValidationError as exc:
            errors = validation_errors(exc)
            raise Problem("invalid-record", describe(errors), errors=errors) from None
        body = item["ack"]
        if body["outcome"] in NEEDS_REASON and body["reason"] is None:
            raise Problem("invalid-record", f"An ack with outcome {body['outcome']!r} gives a reason.")
        if body["partner"] != self.caller.partner_id:
            raise Problem(
                "not-assigned", f"partner is {body['partner']!r} but the token belongs to {self.caller.partner_id!r}."
            )
        try:
            leaf = canonicalize(item)
            ack_bytes = canonicalize(body)
        except CanonicalizationError as exc:
            raise Problem("invalid-record", f"The ack cannot be canonicalized (RFC 8785): {exc}") from None
        return AckCandidate(index, item, body, item["signature"]["kid"], ack_bytes, leaf, parse_ts(body["acted_at"]))

    def with_database(self, candidates: list[AckCandidate], outcomes: list[Outcome | None]) -> list[AckCandidate]:
        if not candidates:
            return []
        me = self.caller.partner_id
        existing = {a.id: a for a in db.session.scalars(select(Ack).where(Ack.id.in_({c.id for c in candidates})))}
        record_ids = {c.body["record_id"] for c in candidates}
        actions = dict(db.session.execute(select(Record.id, Record.action).where(Record.id.in_(record_ids))).all())
        assignments = {
            a.record_id: a
            for a in db.session.scalars(
                select(Assignment).where(Assignment.partner_id == me, Assignment.record_id.in_(record_ids))
            )
        }
        keyring = KeyRing.load(me)
        accepted: list[AckCandidate] = []
        acted_in_batch: set[str] = set()
        ids_in_batch: set[str] = set()
        for c in candidates:
            try:
                duplicate = seen_before("ack", c.id, c.sha256, existing.get(c.id), c.id in ids_in_batch)
                if duplicate is not None:
                    outcomes[c.index] = duplicate
                    continue
                keyring.verify(c.kid, c.envelope, "ack", c.ack_bytes)
                rid = c.body["record_id"]
                assignment = assignments.get(rid)
                if assignment is None:
                    raise Problem("not-assigned", f"Record {rid} is not assigned to {me}.")
                action = actions[rid]
                if c.body["outcome"] not in OUTCOMES_FOR[action]:
                    allowed = ", ".join(OUTCOMES_FOR[action])
                    raise Problem(
                        "invalid-transition",
                        f"An ack of a {action} takes one of {allowed}, not {c.body['outcome']!r}.",
                    )
                if assignment.status == "acted" or rid in acted_in_batch:
                    raise Problem(
                        "conflict",
                        f"Your assignment of record {rid} already has its final outcome ({assignment.outcome or 'earlier in this batch'}).",
                    )
            except Problem as problem:
                outcomes[c.index] = Outcome("rejected", c.id, problem)
                continue
            acted_in_batch.add(c.body["record_id"])
            ids_in_batch.add(c.id)
            accepted.append(c)
        return accepted

    def store(self, accepted: list[AckCandidate]) -> list[Stored]:
        session = db.session()
        me = self.caller.partner_id
        start, received_at = log.reserve_with_time(session, len(accepted))
        rows = []
        for offset, c in enumerate(accepted):
            rows.append(
                {
                    "id": c.id,
                    "record_id": c.body["record_id"],
                    "partner_id": me,
                    "outcome": c.body["outcome"],
                    "sha256": c.sha256,
                    "log_index": start + offset,
                    "acted_at_claimed": c.acted_at,
                    "received_at": received_at,
                }
            )
        session.execute(insert(Ack), rows)
        for row in rows:
            changed = rows_changed(
                session.execute(
                    update(Assignment)
                    .where(
                        and_(
                            Assignment.record_id == row["record_id"],
                            Assignment.partner_id == me,
                            Assignment.status != "acted",
                        )
                    )
                    .values(
                        status="acted",
                        acted_at=received_at,
                        outcome=row["outcome"],
                        ack_id=row["id"],
                        ack_log_index=row["log_index"],
                    )
                )
            )
            if changed != 1:
                raise ConcurrentWrite(f"assignment {row['record_id']} was acted on by a concurrent push")
        log.append(session, start, [log.Entry("ack", c.id, c.leaf) for c in accepted], received_at)
        return [Stored(r["id"], r["sha256"], r["log_index"], received_at) for r in rows]


def push(caller: Caller, items: list[Any], dry_run: bool = False) -> list[dict[str, Any]]:
    """Judge and store a batch; ``dry_run`` judges the same way and stores nothing (hub.batch.run)."""
    return run(AckJudge(caller), items, dry_run=dry_run)
