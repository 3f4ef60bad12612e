"""Building the bodies partners sign: records, acks, attestations, number events (PROTOCOL.md sections 4-6, 10).

Ids are chosen by the sender. The CLI derives them from content
(:func:`derived_id`, a UUIDv5 over the issuer and the facts of the row) so
that pushing the same file twice sends the same ids and the hub answers
``duplicate`` instead of storing every number twice. The signing time
(``issued_at``, ``acted_at``) is left out of that hash on purpose: it
differs between runs while the fact being reported does not. A number event
has no signing time at all: its id is over all of it, and Ed25519 signs the
same bytes the same way, so a re-sent event is the very object stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.jcs import canonicalize
from keys.signing import sign_object
from keys.timefmt import format_ts
from keys.wire import NUMBER_EVENTS
from partners.numbers import blocked_set_sha256

#: Namespace of every id the SDK derives; fixed forever, or re-runs stop being duplicates.
TANGKAL_NAMESPACE = uuid.UUID("6f1c5a2e-9d4b-5e07-8c3a-7b2d1e0f4a96")


def now_ts() -> str:
    """Now in the protocol's form (UTC, Z, milliseconds)."""
    return format_ts(datetime.now(UTC))


def new_id() -> str:
    """A random lowercase UUIDv4, for objects that must never be merged (attestations)."""
    return str(uuid.uuid4())


def derived_id(kind: str, signer: str, facts: dict[str, Any]) -> str:
    """A lowercase UUIDv5 over ``kind``, the signer and the JCS bytes of ``facts``.

    Equal facts from the same signer give the same id on every run and every
    machine; ``facts`` must not hold the signing time.
    """
    name = f"{kind}\n{signer}\n" + canonicalize(facts).decode("utf-8")
    return str(uuid.uuid5(TANGKAL_NAMESPACE, name))


def record_body(
    issuer: str,
    number: str,
    *,
    category: str,
    channels: list[str],
    reason: str,
    complaints: int,
    action: str = "block",
    ref: str | None = None,
    digest: str | None = None,
    confidence: int | None = None,
    observed_at: str | None = None,
    issued_at: str | None = None,
    expires_at: str | None = None,
    supersedes: str | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    """A record body; the id is derived from its facts unless given.

    Optional evidence members and ``confidence`` are left out when absent
    (the hub refuses ``null`` there); ``observed_at`` defaults to
    ``issued_at``, which defaults to now.
    """
    evidence: dict[str, Any] = {"complaints": complaints}
    if digest is not None:
        evidence["digest"] = digest
    if ref is not None:
        evidence["ref"] = ref
    facts: dict[str, Any] = {
        "issuer": issuer,
        "number": number,
        "action": action,
        "category": category,
        "channels": list(channels),
        "reason": reason,
        "evidence": evidence,
    }
    if confidence is not None:
        facts["confidence"] = confidence
    if observed_at is not None:
        facts["observed_at"] = observed_at
    if expires_at is not None:
        facts["expires_at"] = expires_at
    if supersedes is not None:
        facts["supersedes"] = supersedes
    rid = record_id or derived_id("record", issuer, facts)
    issued = issued_at or now_ts()
    body: dict[str, Any] = {"id": rid, **facts}
    body["observed_at"] = observed_at or issued
    body["issued_at"] = issued
    body["expires_at"] = expires_at
    body["supersedes"] = supersedes
    return body


def ack_body(
    partner: str,
    record_id: str,
    outcome: str,
    reason: str | None = None,
    *,
    acted_at: str | None = None,
    ack_id: str | None = None,
) -> dict[str, Any]:
    """An ack body; the id is derived from partner, record, outcome and reason unless given."""
    facts = {"partner": partner, "record_id": record_id, "outcome": outcome, "reason": reason}
    return {
        "id": ack_id or derived_id("ack", partner, facts),
        "record_id": record_id,
        "partner": partner,
        "outcome": outcome,
        "reason": reason,
        "acted_at": acted_at or now_ts(),
    }


def attestation_body(
    partner: str, numbers: list[str], *, as_of: str | None = None, attestation_id: str | None = None
) -> dict[str, Any]:
    """An attestation over E.164 ``numbers`` (deduplicated and sorted here)."""
    count, digest = blocked_set_sha256(numbers)
    return {
        "id": attestation_id or new_id(),
        "partner": partner,
        "as_of": as_of or now_ts(),
        "blocked_count": count,
        "blocked_set_sha256": digest,
    }


def number_event_body(
    operator: str, number: str, event: str, effective_at: str, *, event_id: str | None = None
) -> dict[str, Any]:
    """A number event body (PROTOCOL.md section 10); the id is derived from all its members unless given.

    ``number`` must already be E.164 and ``effective_at`` a protocol
    timestamp (:mod:`partners.fields` turns an export's cells into both).
    """
    if event not in NUMBER_EVENTS:
        raise ValueError(f"event {event!r} is not one of {', '.join(NUMBER_EVENTS)}")
    facts = {"operator": operator, "number": number, "event": event, "effective_at": effective_at}
    return {"id": event_id or derived_id("number_event", operator, facts), **facts}


def sign(kind: str, body: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """``{kind: body, "signature": ...}`` signed over the JCS bytes of ``body``."""
    return sign_object(kind, body, private_key, kid)
