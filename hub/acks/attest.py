"""Attestations (PROTOCOL.md section 6): does what a partner blocks match what it acked?

The expected set is computed by the database, sorted and streamed, and hashed
as it streams, so a partner with 100,000 blocked numbers costs the same
memory as one with 10.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, select, text
from sqlalchemy.exc import IntegrityError

from hub import clock
from hub.acks.models import Attestation
from hub.acks.schemas import SignedAttestation
from hub.api import describe, validation_errors
from hub.auth.protect import Caller
from hub.db import db
from hub.partner_keys import KeyRing
from hub.problems import Problem
from hub.records.models import Assignment, Record, in_force_at
from hub.schemas import check_not_ahead
from keys.jcs import canonicalize, sha256_hex
from keys.timefmt import parse_ts

STREAM_BATCH = 1000


@dataclass(frozen=True)
class ExpectedSet:
    count: int
    sha256: str


def expected_set(partner_id: str, as_of: datetime) -> ExpectedSet:
    """The numbers ``partner_id`` acked ``blocked`` whose block is in force at ``as_of``.

    The ack was accepted by ``as_of`` and the block is in force at ``as_of``
    (hub.records.models.in_force_at).
    """
    query = (
        select(Record.number)
        .join(Assignment, and_(Assignment.record_id == Record.id, Assignment.partner_id == partner_id))
        .where(Assignment.outcome == "blocked", Assignment.acted_at <= as_of, in_force_at(as_of))
        .distinct()
        .order_by(Record.number)
    )
    digest = hashlib.sha256()
    count = 0
    if db.session.get_bind().dialect.name == "postgresql":
        # A server-side cursor makes PostgreSQL plan for the first rows (it
        # walked every record by number); the whole set is always read.
        db.session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = db.session.execute(query.execution_options(yield_per=STREAM_BATCH))
    for (number,) in result:
        if count:
            digest.update(b"\n")
        digest.update(number.encode("ascii"))
        count += 1
    return ExpectedSet(count, digest.hexdigest())


def _result(row: Attestation) -> dict[str, Any]:
    return {"id": row.id, "match": row.match, "expected_count": row.expected_count}


def attest(caller: Caller, body: Any) -> tuple[dict[str, Any], int]:
    """The comparison result and its status: 201 when new, 200 for the same id again."""
    try:
        SignedAttestation.model_validate(body)
    except ValidationError as exc:
        errors = validation_errors(exc)
        raise Problem("invalid-record", describe(errors), errors=errors) from None
    att = body["attestation"]
    if att["partner"] != caller.partner_id:
        raise Problem(
            "issuer-mismatch", f"partner is {att['partner']!r} but the token belongs to {caller.partner_id!r}."
        )
    as_of = parse_ts(att["as_of"])
    now = clock.now()
    check_not_ahead("as_of", att["as_of"], as_of, now)
    att_bytes = canonicalize(att)
    digest = sha256_hex(att_bytes)
    prior = db.session.get(Attestation, att["id"])
    if prior is not None:
        if prior.sha256 == digest and prior.partner_id == caller.partner_id:
            return _result(prior), 200
        raise Problem("conflict", f"Attestation {att['id']} was received before with other content.")
    KeyRing.load(caller.partner_id).verify(body["signature"]["kid"], body, "attestation", att_bytes)
    expected = expected_set(caller.partner_id, as_of)
    row = Attestation(
        id=att["id"],
        partner_id=caller.partner_id,
        as_of=as_of,
        blocked_count=att["blocked_count"],
        blocked_set_sha256=att["blocked_set_sha256"],
        expected_count=expected.count,
        expected_sha256=expected.sha256,
        match=expected.count == att["blocked_count"] and expected.sha256 == att["blocked_set_sha256"],
        sha256=digest,
        envelope=json.dumps(body, separators=(",", ":")),
        received_at=now,
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return attest(caller, body)  # the same attestation arrived twice at once: answer as the second
    return _result(row), 201
