"""Turning one input row's loose values into the protocol's exact ones.

Rows come from exports made by people and other systems: numbers in local
form, channels as ``voice;sms``, times as ``2026-11-27 08:00`` in Jakarta
time, counts as text. Each function here takes such a value and returns
the protocol's form or raises :class:`BadField` with a message fit to print
after a line number. Nothing here talks to the hub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from keys.timefmt import format_ts
from keys.wire import CATEGORIES, CHANNELS, NEEDS_REASON, NUMBER_EVENTS, OUTCOMES, SHA256_RE, UUID_RE
from partners import builders
from partners.numbers import BadNumber, to_e164

#: Western Indonesia Time, the ministry's clock; Indonesia has no daylight saving.
WIB = timezone(timedelta(hours=7), "WIB")
_SPLIT = re.compile(r"[;,|\s]+")
#: Category and channel names as Indonesian exports write them.
CATEGORY_ALIASES = {
    "penipuan": "scam",
    "pengelabuan": "phishing",
    "peniruan": "impersonation",
    "penyamaran": "impersonation",
    "pengambilalihan_akun": "account_takeover",
    "lainnya": "other",
}
CHANNEL_ALIASES = {
    "telepon": "voice",
    "panggilan": "voice",
    "suara": "voice",
    "pesan": "messaging",
    "chat": "messaging",
    "lainnya": "other",
}

#: Lifecycle events as operators' exports name them (Indonesian and the usual English words).
EVENT_ALIASES = {
    "disconnect": "disconnected",
    "deactivated": "disconnected",
    "churned": "disconnected",
    "putus": "disconnected",
    "diputus": "disconnected",
    "pemutusan": "disconnected",
    "terputus": "disconnected",
    "nonaktif": "disconnected",
    "dinonaktifkan": "disconnected",
    "berhenti": "disconnected",
    "reassign": "reassigned",
    "recycled": "reassigned",
    "daur_ulang": "reassigned",
    "didaur_ulang": "reassigned",
    "dialihkan": "reassigned",
    "pelanggan_baru": "reassigned",
    "aktivasi_ulang": "reassigned",
    "diaktifkan_kembali": "reassigned",
}
#: A number event's columns (``events push``); ``operator`` may be given, and must then be you.
EVENT_COLUMNS = ("id", "operator", "number", "event", "effective_at")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

#: A record as one flat row, evidence members lifted to the top: the CSV
#: columns ``push`` reads (:func:`record_from_fields`) and ``pull`` writes.
RECORD_COLUMNS = (
    "id",
    "issuer",
    "number",
    "action",
    "category",
    "channels",
    "reason",
    "complaints",
    "ref",
    "digest",
    "confidence",
    "observed_at",
    "issued_at",
    "expires_at",
    "supersedes",
)


class BadField(ValueError):
    """A value that cannot become the protocol member it is meant for."""


@dataclass(frozen=True)
class RecordDefaults:
    """Values for columns a file lacks (set by CLI flags)."""

    category: str | None = None
    channels: tuple[str, ...] = ("voice", "sms", "messaging")
    reason: str | None = None
    complaints: int = 0
    expires_at: str | None = None
    confidence: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def number(value: Any) -> str:
    try:
        return to_e164(str(value) if value is not None else "")
    except BadNumber as exc:
        raise BadField(f"number: {exc}") from None


def category(value: Any) -> str:
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    text = CATEGORY_ALIASES.get(text, text)
    if text not in CATEGORIES:
        raise BadField(f"category {value!r} is not one of {', '.join(CATEGORIES)}")
    return text


def channels(value: Any) -> list[str]:
    """A list, or text separated by ``;`` ``,`` ``|`` or spaces; order kept, duplicates dropped."""
    items = value if isinstance(value, list) else _SPLIT.split(str(value).strip().lower())
    out: list[str] = []
    for item in items:
        name = str(item).strip().lower()
        name = CHANNEL_ALIASES.get(name, name)
        if not name:
            continue
        if name not in CHANNELS:
            raise BadField(f"channel {item!r} is not one of {', '.join(CHANNELS)}")
        if name not in out:
            out.append(name)
    if not out:
        raise BadField("channels is empty")
    return out


def integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise BadField(f"{name} must be a whole number, not {value!r}")
    try:
        n = int(str(value).strip().replace("_", "")) if not isinstance(value, int) else value
    except ValueError:
        raise BadField(f"{name} must be a whole number, not {value!r}") from None
    if n < low or (high is not None and n > high):
        bounds = f"{low} to {high}" if high is not None else f"at least {low}"
        raise BadField(f"{name} must be {bounds}, not {n}")
    return n


def text(value: Any, name: str, max_length: int) -> str:
    out = str(value).strip()
    if not out:
        raise BadField(f"{name} is empty")
    if len(out) > max_length:
        raise BadField(f"{name} is {len(out)} characters, more than {max_length}")
    return out


def timestamp(value: Any, name: str) -> str:
    """The protocol form (UTC, ``Z``, ms) of an ISO 8601 time; a time without zone is Jakarta time (WIB)."""
    raw = str(value).strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadField(f"{name} {raw!r} is not a date or time like 2026-11-27T08:00:00Z or 2026-11-27 15:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=WIB)
    return format_ts(parsed.astimezone(UTC))


def since_value(value: Any, name: str = "since") -> str:
    """A reassignment question's ``since``: a date (``2026-10-01``, 00:00 Jakarta time, sent as is) or a time.

    The protocol takes both on the wire; a date is kept a date so the hub's
    answer echoes what the question said.
    """
    raw = str(value).strip()
    if _DATE.fullmatch(raw):
        try:
            datetime.strptime(raw, "%Y-%m-%d")
        except ValueError:
            raise BadField(f"{name} {raw!r} is not a real date") from None
        return raw
    return timestamp(raw, name)


def event(value: Any) -> str:
    """``disconnected`` or ``reassigned``, also as an export writes it (``putus``, ``didaur ulang``)."""
    name = "_".join(str(value).strip().lower().replace("-", " ").split())
    name = EVENT_ALIASES.get(name, name)
    if name not in NUMBER_EVENTS:
        raise BadField(f"event {value!r} is not one of {', '.join(NUMBER_EVENTS)} (or putus, didaur ulang)")
    return name


def uuid(value: Any, name: str) -> str:
    out = str(value).strip().lower()
    if not UUID_RE.fullmatch(out):
        raise BadField(f"{name} {value!r} is not a UUID")
    return out


def sha256(value: Any, name: str) -> str:
    out = str(value).strip().lower()
    if not SHA256_RE.fullmatch(out):
        raise BadField(f"{name} must be 64 hex characters")
    return out


def record_from_fields(row: dict[str, Any], issuer: str, defaults: RecordDefaults) -> dict[str, Any]:
    """An unsigned record body from one row's values (see ``docs/walkthrough.md`` for the columns)."""

    def get(name: str) -> Any:
        value = row.get(name)
        return None if blank(value) else value

    if get("issuer") is not None and str(get("issuer")).strip() != issuer:
        raise BadField(f"issuer {get('issuer')!r} is not you ({issuer!r})")
    action = str(get("action") or "block").strip().lower()
    if action not in ("block", "unblock"):
        raise BadField(f"action {action!r} is not block or unblock")
    given = row.get("evidence")
    evidence: dict[str, Any] = given if isinstance(given, dict) else {}
    raw_category = get("category") or defaults.category
    if raw_category is None:
        raise BadField("no category (add a category column or pass --category)")
    raw_reason = get("reason") or defaults.reason
    if raw_reason is None:
        raise BadField("no reason (add a reason column or pass --reason)")
    complaints = get("complaints") if get("complaints") is not None else evidence.get("complaints")
    ref = get("ref") if get("ref") is not None else evidence.get("ref")
    digest = get("digest") if get("digest") is not None else evidence.get("digest")
    confidence = get("confidence")
    observed = get("observed_at")
    issued = get("issued_at")
    expires = get("expires_at") or defaults.expires_at
    supersedes = get("supersedes")
    if action == "unblock" and supersedes is None:
        raise BadField("an unblock names the block it lifts in a supersedes column")
    return builders.record_body(
        issuer,
        number(row.get("number")),
        action=action,
        category=category(raw_category),
        channels=channels(get("channels") or list(defaults.channels)),
        reason=text(raw_reason, "reason", 1000),
        complaints=integer(complaints, "complaints", 0) if complaints is not None else defaults.complaints,
        ref=text(ref, "ref", 200) if ref is not None else None,
        digest=sha256(digest, "digest") if digest is not None else None,
        confidence=integer(confidence, "confidence", 0, 100) if confidence is not None else defaults.confidence,
        observed_at=timestamp(observed, "observed_at") if observed is not None else None,
        issued_at=timestamp(issued, "issued_at") if issued is not None else None,
        expires_at=timestamp(expires, "expires_at") if expires is not None else None,
        supersedes=uuid(supersedes, "supersedes") if supersedes is not None else None,
        record_id=uuid(get("id"), "id") if get("id") is not None else None,
    )


def ack_from_fields(row: dict[str, Any], partner: str) -> dict[str, Any]:
    """An unsigned ack body from a ``record_id,outcome,reason[,acted_at][,id]`` row."""
    record_id = row.get("record_id")
    if blank(record_id):
        raise BadField("no record_id")
    outcome = str(row.get("outcome") or "").strip().lower()
    if outcome not in OUTCOMES:
        raise BadField(f"outcome {row.get('outcome')!r} is not one of {', '.join(OUTCOMES)}")
    reason = None if blank(row.get("reason")) else text(row.get("reason"), "reason", 1000)
    if outcome in NEEDS_REASON and reason is None:
        raise BadField(f"an outcome of {outcome} needs a reason")
    acted = row.get("acted_at")
    return builders.ack_body(
        partner,
        uuid(record_id, "record_id"),
        outcome,
        reason,
        acted_at=None if blank(acted) else timestamp(acted, "acted_at"),
        ack_id=None if blank(row.get("id")) else uuid(row.get("id"), "id"),
    )


def number_event_from_fields(row: dict[str, Any], operator: str) -> dict[str, Any]:
    """An unsigned number event from a ``number,event,effective_at[,id][,operator]`` row.

    ``effective_at`` as a date alone (``2026-12-01``) is 00:00 Jakarta time
    that day, the way operators' monthly exports date their events.
    """
    given = row.get("operator")
    if not blank(given) and str(given).strip() != operator:
        raise BadField(f"operator {given!r} is not you ({operator!r})")
    if blank(row.get("event")):
        raise BadField("no event (disconnected or reassigned)")
    if blank(row.get("effective_at")):
        raise BadField("no effective_at (the date the event took effect)")
    return builders.number_event_body(
        operator,
        number(row.get("number")),
        event(row.get("event")),
        timestamp(row.get("effective_at"), "effective_at"),
        event_id=None if blank(row.get("id")) else uuid(row.get("id"), "id"),
    )
