"""A push of signed records, judged item by item (PROTOCOL.md section 4).

The hot path of DESIGN.md: everything that can be decided without the
counter lock is decided first (shape, number, issuer, duplicates, key,
signature, unblock rules, routing); then one short write transaction takes
the counter, inserts records, assignments and log leaves, and commits;
receipts are signed after. A rejected item stores nothing; an accepted one
is committed before the answer is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from hub import clock
from hub.api import validate_signed_with_number
from hub.auth.protect import Caller
from hub.batch import ConcurrentWrite, Outcome, Stored, run, seen_before
from hub.canonical import canonicalize_known
from hub.db import db, rows_changed
from hub.ledger import log, receipts
from hub.ledger.receipts import seq_for
from hub.partner_keys import KeyRing
from hub.problems import Problem
from hub.records.anomalies import Anomaly, rereports
from hub.records.lifecycle import last_event_seq, latest_reassignments
from hub.records.models import Assignment, Record
from hub.records.numbers import NumberInfo, check_e164
from hub.records.routing import RoutingTable
from hub.records.schemas import SignedRecord
from hub.schemas import check_not_ahead
from hub.signing import HubSigner, signer
from keys.errors import CanonicalizationError
from keys.jcs import sha256_hex
from keys.timefmt import format_ts, parse_ts


@dataclass
class Candidate:
    """An item that passed the checks needing no database."""

    index: int
    envelope: dict[str, Any]
    body: dict[str, Any]
    kid: str
    info: NumberInfo
    record_bytes: bytes  # JCS of the record member: hashed, and what the signature covers
    leaf: bytes
    issued_at: datetime
    in_force_until: datetime | None
    assignees: set[str] = field(default_factory=set)
    #: blocks: the earlier of observed_at and issued_at, which must not be before the number's latest reassignment
    about: datetime | None = None

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def sha256(self) -> str:
        return sha256_hex(self.record_bytes)


def _lifetime(category: str) -> timedelta:
    days = current_app.config["CATEGORY_LIFETIME_DAYS"].get(category, 365)
    return timedelta(days=int(days))


def _judge_alone(index: int, item: Any, caller: Caller, now: datetime) -> Candidate:
    """Shape, number, issuer and time rules: no database needed."""
    validate_signed_with_number(SignedRecord, item, "record")
    body, sig = item["record"], item["signature"]
    info = check_e164(body["number"])
    if body["issuer"] != caller.partner_id:
        raise Problem(
            "issuer-mismatch",
            f"issuer is {body['issuer']!r} but the token belongs to {caller.partner_id!r}; push only your own records.",
        )
    issued_at = parse_ts(body["issued_at"])
    check_not_ahead("issued_at", body["issued_at"], issued_at, now)
    action = body["action"]
    supersedes = body.get("supersedes")
    in_force_until: datetime | None = None
    if action == "block":
        if supersedes is not None:
            raise Problem("invalid-record", "A block supersedes nothing: send supersedes null or leave it out.")
        expires = body.get("expires_at")
        in_force_until = parse_ts(expires) if expires else issued_at + _lifetime(body["category"])
        if in_force_until <= issued_at:
            raise Problem("invalid-record", "expires_at must be after issued_at.")
    elif supersedes is None:
        raise Problem("invalid-record", "An unblock names in supersedes the id of the block it lifts.")
    try:
        # SignedRecord (strict, no extra members) has validated both: plain JSON, known member names
        record_bytes = canonicalize_known(body)
        leaf = canonicalize_known(item)
    except CanonicalizationError as exc:
        raise Problem("invalid-record", f"The record cannot be canonicalized (RFC 8785): {exc}") from None
    about = min(parse_ts(body["observed_at"]), issued_at) if action == "block" else None
    return Candidate(index, item, body, sig["kid"], info, record_bytes, leaf, issued_at, in_force_until, about=about)


class RecordJudge:
    """The record-specific stages of hub.batch.run."""

    kind = "record"

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.now = clock.now()
        self.anomalies: list[dict[str, Any]] = []
        #: the last number event committed when the guard was read (hub.records.lifecycle.last_event_seq)
        self.events_seen: int = 0

    def alone(self, index: int, item: Any) -> Candidate:
        return _judge_alone(index, item, self.caller, self.now)

    def with_database(self, candidates: list[Candidate], outcomes: list[Outcome | None]) -> list[Candidate]:
        """Duplicates, keys, signatures, unblock rules and routing; reads only."""
        if not candidates:
            return []
        caller = self.caller
        ids = {c.id for c in candidates}
        existing = {row.id: row for row in db.session.scalars(select(Record).where(Record.id.in_(ids)))}
        keyring = KeyRing.load(caller.partner_id)
        superseded_ids = {c.body["supersedes"] for c in candidates if c.body["action"] == "unblock"}
        blocks = (
            {row.id: row for row in db.session.scalars(select(Record).where(Record.id.in_(superseded_ids)))}
            if superseded_ids
            else {}
        )
        block_assignees: dict[str, set[str]] = {}
        if blocks:
            for rid, pid in db.session.execute(
                select(Assignment.record_id, Assignment.partner_id).where(Assignment.record_id.in_(list(blocks)))
            ):
                block_assignees.setdefault(rid, set()).add(pid)
        routing = RoutingTable.load()
        self.events_seen = last_event_seq()  # first: an event committed after it is re-checked under the lock
        reassigned = latest_reassignments(c.info.e164 for c in candidates if c.body["action"] == "block")

        accepted: list[Candidate] = []
        batch: dict[str, Candidate] = {}
        lifted_in_batch: set[str] = set()
        for c in candidates:
            try:
                duplicate = seen_before("record", c.id, c.sha256, existing.get(c.id), c.id in batch)
                if duplicate is not None:
                    outcomes[c.index] = duplicate
                    continue
                keyring.verify(c.kid, c.envelope, "record", c.record_bytes)
                if c.body["action"] == "block":
                    check_not_reassigned(c, reassigned.get(c.info.e164))
                    c.assignees = routing.for_block(c.info)
                else:
                    c.assignees = _check_unblock(c, caller, blocks, batch, block_assignees, lifted_in_batch)
                    lifted_in_batch.add(c.body["supersedes"])
            except Problem as problem:
                outcomes[c.index] = Outcome("rejected", c.id, problem)
                continue
            batch[c.id] = c
            accepted.append(c)
        self.anomalies = rereports([(c.id, c.info) for c in accepted if c.body["action"] == "block"], routing, self.now)
        return accepted

    def store(self, accepted: list[Candidate]) -> list[Stored]:
        return _store(accepted, self.anomalies, signer(), self.events_seen)


def push(caller: Caller, items: list[Any], dry_run: bool = False) -> list[dict[str, Any]]:
    """Judge and store a batch; ``dry_run`` judges the same way and stores nothing (hub.batch.run)."""
    return run(RecordJudge(caller), items, dry_run=dry_run)


def check_not_reassigned(c: Candidate, reassigned_at: datetime | None) -> None:
    """PROTOCOL 1.1 section 10's guard: a block about the number's earlier subscriber is refused.

    Its observed_at (and, for a block that claims to be observed after it
    was issued, its issued_at) must not be before the number's latest
    ``reassigned`` effective_at: a block issued before the reassignment
    would be one the reassignment lifts, so it is refused as well.
    """
    if reassigned_at is not None and c.about is not None and c.about < reassigned_at:
        raise Problem(
            "number-reassigned",
            f"{c.info.e164} was given to a new subscriber at {format_ts(reassigned_at)}; this block "
            f"(observed_at {c.body['observed_at']}, issued_at {c.body['issued_at']}) is about an earlier subscriber.",
        )


def _check_unblock(
    c: Candidate,
    caller: Caller,
    blocks: dict[str, Record],
    batch: dict[str, Candidate],
    block_assignees: dict[str, set[str]],
    lifted_in_batch: set[str],
) -> set[str]:
    target_id = c.body["supersedes"]
    stored = blocks.get(target_id)
    in_batch = batch.get(target_id)
    if stored is not None:
        action, number, issuer, lifted = stored.action, stored.number, stored.issuer, stored.lifted_by
        assignees = block_assignees.get(target_id, set())
    elif in_batch is not None:
        action, number, issuer, lifted = in_batch.body["action"], in_batch.info.e164, in_batch.body["issuer"], None
        assignees = in_batch.assignees
    else:
        raise Problem("invalid-record", f"supersedes names {target_id}, which is not an accepted block.")
    # The issuer first: a partner that may not lift the block learns nothing
    # more about it (not its number, not who issued it).
    if caller.partner_id != issuer and not caller.is_ministry:
        raise Problem("issuer-mismatch", f"Only the block's issuer or the ministry may lift block {target_id}.")
    if action != "block":
        raise Problem("invalid-record", f"supersedes names {target_id}, which is an unblock, not a block.")
    if number != c.info.e164:
        raise Problem("invalid-record", f"Block {target_id} is for another number, not {c.info.e164}.")
    if lifted is not None or target_id in lifted_in_batch:
        raise Problem(
            "conflict", f"Block {target_id} has already been lifted by {lifted or 'an earlier item of this batch'}."
        )
    return set(assignees)


def _store(
    accepted: list[Candidate], anomalies: list[dict[str, Any]], by: HubSigner, events_seen: int | None = None
) -> list[Stored]:
    """The one short write transaction of a push (committed by hub.batch.run).

    Each record's receipt is signed here, once its seq is known, and stored
    with it: pulls and duplicate pushes serve those bytes (hub.ledger.receipts).
    The reassignment guard is asked again under the counter lock: a
    reassignment committed since the push's reads would lift a block stored
    now only if it had seen it, so the push is judged again instead
    (``ConcurrentWrite``), and the block is refused as ``number-reassigned``.
    Usually no number event has been committed since the push's reads
    (``events_seen``, one probe of a unique index), and the numbers are not
    asked again; None asks them always.
    """
    session = db.session()
    start, received_at = log.reserve_with_time(session, len(accepted))
    blocks = [c for c in accepted if c.body["action"] == "block"]
    if blocks and (events_seen is None or last_event_seq() != events_seen):
        latest = latest_reassignments(c.info.e164 for c in blocks)
        if latest and any(c.about is not None and c.about < latest.get(c.info.e164, c.about) for c in blocks):
            raise ConcurrentWrite("a reassignment of a block's number was accepted concurrently")
    record_rows, assignment_rows, entries, lifts = [], [], [], []
    for offset, c in enumerate(accepted):
        index = start + offset
        body = c.body
        record_rows.append(
            {
                "id": c.id,
                "seq": seq_for(index),
                "log_index": index,
                "sha256": c.sha256,
                "issuer": body["issuer"],
                "number": c.info.e164,
                "number_prefix": c.info.sha256[:5],
                "number_sha256": c.info.sha256,
                "action": body["action"],
                "category": body["category"],
                "issued_at": c.issued_at,
                "in_force_until": c.in_force_until,
                "supersedes": body.get("supersedes"),
                "lifted_by": None,
                "lifted_at": None,
                "received_at": received_at,
                "receipt": receipts.issue("record", c.id, c.sha256, index, received_at, by).decode("utf-8"),
            }
        )
        for partner in sorted(c.assignees):
            assignment_rows.append(
                {
                    "record_id": c.id,
                    "partner_id": partner,
                    "seq": seq_for(index),
                    "status": "pending",
                    "assigned_at": received_at,
                }
            )
        entries.append(log.Entry("record", c.id, c.leaf))
        if body["action"] == "unblock":
            lifts.append((body["supersedes"], c.id))
    # Core executemany on the connection: the ORM's bulk path costs as much again in Python
    conn = session.connection()
    conn.execute(insert(Record.__table__), record_rows)
    if assignment_rows:
        conn.execute(insert(Assignment.__table__), assignment_rows)
    for block_id, unblock_id in lifts:
        changed = rows_changed(
            session.execute(
                update(Record)
                .where(Record.id == block_id, Record.lifted_by.is_(None))
                .values(lifted_by=unblock_id, lifted_at=received_at)
            )
        )
        if changed != 1:
            raise ConcurrentWrite(f"block {block_id} was lifted by a concurrent push")
    if anomalies:
        session.execute(insert(Anomaly), [{**a, "created_at": received_at} for a in anomalies])
    log.append(session, start, entries, received_at)
    return [Stored(r["id"], r["sha256"], r["log_index"], received_at, r["receipt"]) for r in record_rows]
