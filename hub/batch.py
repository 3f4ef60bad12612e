"""Batch pushes (records, acks): the outer shape and the judging pipeline.

A bad batch (not an object, a member other than the one expected, 0 or
over 1000 items, two identical items) is a 400 for the whole request; a bad
item inside a good batch is judged on its own and never spoils the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy.exc import IntegrityError

from hub.canonical import canonicalize
from hub.db import db, writer_turn
from hub.ledger.receipts import receipt, usable
from hub.problems import Problem
from hub.signing import retired_kids, signer
from keys.errors import CanonicalizationError
from keys.wire import MAX_BATCH

log = logging.getLogger(__name__)

MAX_TX_ATTEMPTS = 3


class ConcurrentWrite(Exception):
    """A conditional write in ``Judge.store`` found its row already changed by a concurrent push.

    Raised (like the database's own unique-constraint IntegrityError) inside
    the write transaction; ``run`` rolls back and judges the batch again
    against what is there now.
    """


def read_batch(body: Any, member: str) -> list[Any]:
    if not isinstance(body, dict) or set(body) != {member}:
        found = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise Problem("invalid-request", f'The body must be {{"{member}": [...]}}; found {found}.')
    items = body[member]
    if not isinstance(items, list):
        raise Problem("invalid-request", f"{member} must be an array.")
    if not 1 <= len(items) <= MAX_BATCH:
        raise Problem("invalid-request", f"A batch holds 1 to {MAX_BATCH} items, not {len(items)}.")
    seen: dict[bytes, int] = {}
    for i, item in enumerate(items):
        try:
            key = canonicalize(item)
        except CanonicalizationError:
            continue  # judged (and rejected) as an item
        if key in seen:
            raise Problem(
                "invalid-request",
                f"{member}[{i}] repeats {member}[{seen[key]}]; arrays hold no duplicates.",
            )
        seen[key] = i
    return items


@dataclass
class Stored:
    """What a receipt is made of: every member comes from the accepted row.

    ``receipt`` is the receipt signed when the row was stored (its JCS text),
    where the kind stores one (records); otherwise it is signed when answered.
    """

    id: str
    sha256: str
    log_index: int
    received_at: datetime
    receipt: str | None = None


@dataclass
class Outcome:
    status: str  # accepted | duplicate | rejected | valid (a dry run's would-be accepted)
    id: str | None
    error: Problem | None = None
    stored: Stored | None = None


class Candidate(Protocol):
    index: int

    @property
    def id(self) -> str: ...


C = TypeVar("C", bound=Candidate)


class Judge(Protocol[C]):
    """The three stages of a batch push, supplied per kind (records, acks)."""

    kind: str

    def alone(self, index: int, item: Any) -> C:
        """Checks needing no database; raises Problem."""
        ...

    def with_database(self, candidates: list[C], outcomes: list[Outcome | None]) -> list[C]:
        """Reads only: sets duplicate/rejected outcomes, returns what to store."""
        ...

    def store(self, accepted: list[C]) -> list[Stored]:
        """Inside the write transaction (not committed here), aligned with ``accepted``.

        Takes its log positions and acceptance time with
        ``hub.ledger.log.reserve_with_time``, so the time is read under the
        counter lock and never runs backwards along the log.
        """
        ...


def seen_before(kind: str, item_id: str, sha256: str, prior: Any, earlier_in_batch: bool) -> Outcome | None:
    """``duplicate`` (with the original receipt) for the same id and content
    accepted before; ``conflict`` for the same id with other content, stored
    or earlier in this batch; None for a new id."""
    if prior is not None:
        if prior.sha256 == sha256:
            # the original receipt, where the kind's rows keep it (records do, acks do not)
            original = getattr(prior, "receipt", None)
            return Outcome(
                "duplicate",
                item_id,
                stored=Stored(prior.id, prior.sha256, prior.log_index, prior.received_at, original),
            )
        raise Problem("conflict", f"{kind.capitalize()} {item_id} was accepted before with other content.")
    if earlier_in_batch:
        raise Problem("conflict", f"{kind.capitalize()} {item_id} appears earlier in this batch with other content.")
    return None


def item_id(item: Any, kind: str) -> str | None:
    if isinstance(item, dict) and isinstance(item.get(kind), dict):
        value = item[kind].get("id")
        return value if isinstance(value, str) else None
    return None


def run(judge: Judge[C], items: list[Any], dry_run: bool = False) -> list[dict[str, Any]]:
    """Judge every item; store the accepted ones in one transaction; sign receipts.

    A concurrent push may store one of our ids (or act on the same
    assignment) between our reads and our write; the database's unique
    constraints catch it, and the batch is judged again against what is
    there now, so each item still gets exactly one honest answer.

    ``dry_run`` (``?dry_run=true``, PROTOCOL 1.1 section 4) judges exactly
    the same way, reads included, and stops before the write transaction:
    what would be accepted is ``valid``, with no receipt; a duplicate still
    gets the receipt it was given when it was stored.
    """
    outcomes: list[Outcome | None] = [None] * len(items)
    candidates: list[C] = []
    for i, item in enumerate(items):
        try:
            candidates.append(judge.alone(i, item))
        except Problem as problem:
            outcomes[i] = Outcome("rejected", item_id(item, judge.kind), problem)

    pending = candidates
    for attempt in range(MAX_TX_ATTEMPTS):
        accepted = judge.with_database(pending, outcomes)
        db.session.commit()  # end the read transaction: the write one must be short and fresh
        if dry_run:
            for c in accepted:
                outcomes[c.index] = Outcome("valid", c.id)
            break
        if not accepted:
            break
        try:
            with writer_turn():
                stored = judge.store(accepted)
                db.session.commit()
        except (IntegrityError, ConcurrentWrite):
            db.session.rollback()
            log.info("%s push raced a concurrent push; judging again (attempt %d)", judge.kind, attempt + 1)
            pending = accepted
            for c in accepted:
                outcomes[c.index] = None
            continue
        for c, row in zip(accepted, stored):
            outcomes[c.index] = Outcome("accepted", c.id, stored=row)
        break
    else:
        raise Problem("conflict", "The batch kept colliding with concurrent pushes; send it again.")

    current = signer()
    retired = retired_kids()
    results: list[dict[str, Any]] = []
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            raise RuntimeError("an item was left unjudged")
        out: dict[str, Any] = {"id": outcome.id, "status": outcome.status}
        if outcome.error is not None:
            out["error"] = _point_into_batch(outcome.error.as_dict(), f"/{judge.kind}s/{index}")
        if outcome.stored is not None:
            s = outcome.stored
            if s.receipt is not None and usable(s.receipt, retired):
                out["receipt"] = orjson.loads(s.receipt)
            else:
                out["receipt"] = receipt(judge.kind, s.id, s.sha256, s.log_index, s.received_at, current)
        results.append(out)
    return results


def _point_into_batch(error: dict[str, Any], prefix: str) -> dict[str, Any]:
    """An item's field pointers made RFC 6901 pointers into the request body (``/records/3/record/number``).

    Judges validate one item at a time, so their pointers start at the item;
    a partner reading the answer needs them to start at the body it sent.
    """
    errors = error.get("errors")
    if not isinstance(errors, list) or not errors:
        return error
    first = errors[0].get("pointer", "")
    moved = [{**e, "pointer": prefix + ("" if e.get("pointer") in (None, "/") else e["pointer"])} for e in errors]
    detail = error.get("detail", "")
    if first and isinstance(detail, str) and detail.startswith(first + ":"):
        detail = moved[0]["pointer"] + detail[len(first) :]
    return {**error, "errors": moved, "detail": detail}
