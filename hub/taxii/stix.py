"""STIX 2.1 objects for the feed, defined and checked with the OASIS ``stix2`` library.

Every object is a pure function of immutable stored rows: a block's signed
record and acceptance time give its indicator's first version; the block plus
the unblock that lifted it give the second (``revoked``). Nothing is stored
twice, so nothing can drift.

Every object is built by stix2, which checks every property (the issue and
DESIGN.md: objects come from the OASIS library, never written by hand).
Building one costs about 0.3 ms of CPU, so each serialized version is
memoized per process (``ObjectCache``): a version, once it exists, never
changes. The one-time costs (the definitions, stix2's first object) are paid
at app start (``warm``).

The custom ``phone-number`` observable and the property extension that
carries the signed record are each defined by an ``extension-definition``
(PROTOCOL.md section 11). Their ids are constants: the definitions are the
same on every Tangkal hub, so a platform that subscribes to several hubs
sees one definition, not one per hub.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stix2.properties import DictionaryProperty, IntegerProperty, StringProperty
from stix2.serialization import STIXJSONEncoder
from stix2.utils import STIXdatetime
from stix2.v21 import CustomExtension, CustomObservable, ExtensionDefinition, Identity, Indicator
from stix2.v21.base import _DomainObject
from stix2patterns.validator import run_validator

from keys.timefmt import parse_ts

#: Who defined the two extensions: the Tangkal project, the same on every hub.
AUTHOR_ID = "identity--eb028070-3462-457b-bf32-41367332224e"
PHONE_NUMBER_EXTENSION = "extension-definition--e1296331-6540-4025-8fc4-36290421e7bc"
SIGNED_RECORD_EXTENSION = "extension-definition--7ce625b3-7cbc-4300-8586-55b2baf928a9"
#: When the definitions were written; also their TAXII ``date_added`` (they come first in the collection).
DEFINED_AT = datetime.fromisoformat("2026-11-01T00:00:00+00:00")

ONE_MS = timedelta(milliseconds=1)
_STIX_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
#: The only pattern the hub writes; ``number`` is E.164 (``+`` and digits), so no quote can break out.
_PATTERN = "[phone-number:value = '{}']"
_OUR_PATTERN = re.compile(r"\[phone-number:value = '\+[0-9]{1,15}'\]")


log = logging.getLogger(__name__)


def _utc(moment: datetime) -> datetime:
    """In UTC; a naive time is taken as UTC already, as stix2 takes it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def stix_ts(moment: datetime) -> str:
    """STIX's millisecond form (``2026-11-28T10:00:00.000Z``): the form stix2 writes ``created``/``modified`` in."""
    moment = _utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def stix_ts_ms(moment: datetime) -> str:
    """stix2's form at millisecond precision, "or better" (``created``, ``modified``): at least three digits.

    The hub's clock keeps milliseconds, so this is ``stix_ts`` for every time it stores.
    """
    moment = _utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}".rstrip("0").ljust(3, "0") + "Z"


@functools.lru_cache(maxsize=4096)
def stix_ts_any(moment: datetime) -> str:
    """stix2's form at its default precision (``valid_from``, ``valid_until``): the digits there are, no more."""
    moment = _utc(moment)
    frac = f"{moment.microsecond:06d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


@CustomObservable(
    "phone-number",
    [("value", StringProperty(required=True))],
    id_contrib_props=["value"],
    extension_name=PHONE_NUMBER_EXTENSION,
)
class PhoneNumber:
    """A telephone number in E.164 form; its id is STIX's deterministic UUIDv5 of the value."""


def phone_number(number: str) -> Any:
    """The ``phone-number`` observable of ``number``."""
    return PhoneNumber(value=number)  # type: ignore[call-arg]


@CustomExtension(
    SIGNED_RECORD_EXTENSION,
    [
        ("signed_record", DictionaryProperty(required=True)),
        ("log_index", IntegerProperty(required=True, min=0)),
        ("signed_unblock", DictionaryProperty()),
        ("unblock_log_index", IntegerProperty(min=0)),
    ],
)
class SignedRecordExtension:
    """The issuer's signed record (and the unblock that lifted it), exactly as the hub accepted them."""

    extension_type = "property-extension"


class _Indicator(Indicator):  # type: ignore[misc]
    """stix2's Indicator, minus re-parsing the one pattern shape the hub writes.

    stix2 runs the ANTLR pattern grammar on every construction (1 to 3 ms,
    ten times the rest of the object). The hub writes a single pattern shape
    whose only variable is an E.164 number; that shape is checked with the
    same grammar once, at import (``_check_template``), and any other pattern
    is still checked every time.
    """

    def _check_object_constraints(self) -> None:
        _DomainObject._check_object_constraints(self)
        valid_from, valid_until = self.get("valid_from"), self.get("valid_until")
        if valid_from and valid_until and valid_until <= valid_from:
            raise ValueError(f"{self.id} 'valid_until' must be greater than 'valid_from'")
        pattern = self.get("pattern")
        if not _OUR_PATTERN.fullmatch(pattern or ""):
            errors = run_validator(pattern, self.get("pattern_version", "2.1"))
            if errors:
                raise ValueError(f"{self.id} pattern: {errors[0]}")


def _check_template() -> None:
    errors = run_validator(_PATTERN.format("+6281234567890"), "2.1")
    if errors:  # pragma: no cover - the grammar is stix2-patterns', pinned
        raise RuntimeError(f"the hub's indicator pattern is not valid STIX: {errors}")


_check_template()


@functools.lru_cache(maxsize=65536)
def indicator_id(record_id: str) -> str:
    """``indicator--<record id>``.

    PROTOCOL admits any RFC 9562 UUID for a record, STIX 2.1 only RFC 4122's
    versions 1 to 5: a version 6 to 8 id keeps its bits but shows version
    digit 4 (the external reference still names the exact record id).
    """
    if _STIX_UUID.fullmatch(record_id):
        return f"indicator--{record_id}"
    return f"indicator--{record_id[:14]}4{record_id[15:]}"


def record_ids_for(stix_id: str) -> list[str]:
    """The record ids an ``indicator--`` id can stand for (itself, and versions 6 to 8)."""
    uid = stix_id.removeprefix("indicator--")
    if not _STIX_UUID.fullmatch(uid):
        return []
    out = [uid]
    if uid[14] == "4":
        out += [f"{uid[:14]}{v}{uid[15:]}" for v in "678"]
    return out


#: STIX 2.1 section 2.9: the namespace of every deterministic SCO id.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")


def phone_number_id(number: str) -> str:
    """``phone-number--`` UUIDv5 of the JCS of ``{"value": number}``, as stix2 computes it (checked at import).

    Computed directly because finding a number by its id hashes every
    distinct number the hub holds.
    """
    return f"phone-number--{uuid.uuid5(SCO_NAMESPACE, json.dumps({'value': number}, separators=(',', ':')))}"


if phone_number_id("+6281234567890") != phone_number("+6281234567890").id:  # pragma: no cover
    raise RuntimeError("phone_number_id disagrees with stix2's deterministic id")


@dataclass(frozen=True)
class StoredRecord:
    """What the feed reads of one accepted record: its row and its signed envelope."""

    id: str
    seq: int
    log_index: int
    received_at: datetime
    in_force_until: datetime | None
    signed: dict[str, Any]

    @property
    def body(self) -> dict[str, Any]:
        return self.signed["record"]  # type: ignore[no-any-return]


def second_version_at(block: StoredRecord, unblock: StoredRecord) -> datetime:
    """``modified`` of a lifted block's indicator: the unblock's acceptance time.

    A block and its unblock accepted in one batch share that time; the
    second version is then 1 ms later, since a STIX version must be newer.
    """
    return max(unblock.received_at, block.received_at + ONE_MS)


def indicator(hub_id: str, block: StoredRecord, unblock: StoredRecord | None) -> Indicator:
    """A block's indicator: its first version, or with ``unblock`` the revoked second one."""
    body = block.body
    valid_from = STIXdatetime(parse_ts(body["issued_at"]))
    refs = [{"source_name": hub_id, "external_id": block.id, "description": "the block record on the hub"}]
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "signed_record": block.signed,
        "log_index": block.log_index,
    }
    ends = block.in_force_until
    extra: dict[str, Any] = {}
    modified = block.received_at
    if unblock is not None:
        modified = second_version_at(block, unblock)
        ends = min(ends, unblock.received_at) if ends is not None else unblock.received_at
        refs.append({"source_name": hub_id, "external_id": unblock.id, "description": "the unblock that lifted it"})
        ext["signed_unblock"] = unblock.signed
        ext["unblock_log_index"] = unblock.log_index
        extra["revoked"] = True
    if ends is not None and ends > valid_from:
        extra["valid_until"] = STIXdatetime(ends)
    if "confidence" in body:
        extra["confidence"] = body["confidence"]
    return _Indicator(
        id=indicator_id(block.id),
        created=STIXdatetime(block.received_at, precision="millisecond"),
        modified=STIXdatetime(modified, precision="millisecond"),
        name=f"{body['category']}: {body['number']}",
        description=body["reason"],
        pattern=_PATTERN.format(body["number"]),
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=valid_from,
        labels=[body["category"], *body["channels"]],
        external_references=refs,
        extensions={SIGNED_RECORD_EXTENSION: ext},
        **extra,
    )


def indicator_json(hub_id: str, block: StoredRecord, unblock: StoredRecord | None) -> bytes:
    """The serialized indicator version, built by stix2 (the feed memoizes it: ``ObjectCache``)."""
    return serialize(indicator(hub_id, block, unblock))


def phone_number_json(number: str) -> bytes:
    """The serialized phone-number observable, built by stix2."""
    return serialize(phone_number(number))


@functools.cache
def definitions() -> tuple[Any, ...]:
    """The objects every subscriber gets first: the extensions' author and the two definitions (constants)."""
    at = stix_ts(DEFINED_AT)
    author = Identity(
        id=AUTHOR_ID,
        created=at,
        modified=at,
        name="Tangkal",
        description="The Tangkal fraud-number exchange, author of the phone-number and signed-record extensions.",
        identity_class="system",
    )
    phone = ExtensionDefinition(
        id=PHONE_NUMBER_EXTENSION,
        created_by_ref=AUTHOR_ID,
        created=at,
        modified=at,
        name="phone-number",
        description="A telephone number as a STIX Cyber-observable: one property, value, in E.164 form "
        "(+6281234567890); the id is the deterministic UUIDv5 of the value.",
        schema="Properties: value (string, required, E.164: '+' then 8 to 15 digits). ID contributing "
        "property: value. Patterns refer to it as [phone-number:value = '+6281234567890'].",
        version="1.0",
        extension_types=["new-sco"],
    )
    signed = ExtensionDefinition(
        id=SIGNED_RECORD_EXTENSION,
        created_by_ref=AUTHOR_ID,
        created=at,
        modified=at,
        name="tangkal-signed-record",
        description="The issuer's signed Tangkal record behind an indicator, so a consumer can verify the "
        "issuer's Ed25519 signature (over the RFC 8785 bytes of the record member) itself.",
        schema="Properties: signed_record (object, required: {record, signature} exactly as the issuer signed "
        "it), log_index (integer, required: its leaf in the hub's transparency log), signed_unblock and "
        "unblock_log_index (the same for the unblock that revoked the indicator, when revoked). Keys: the "
        "issuer's JWKS at /v1/partners/<issuer>/keys, the hub's at /.well-known/jwks.json.",
        version="1.0",
        extension_types=["property-extension"],
    )
    return (author, phone, signed)


@functools.cache
def definitions_json() -> tuple[bytes, ...]:
    """``definitions()`` serialized: computed once, when the app is made (``warm``), never on a request."""
    return tuple(serialize(obj) for obj in definitions())


@functools.cache
def warm() -> None:
    """Pay the one-time costs at app start, not on a subscriber's first page (gunicorn's master pays them once
    for every worker it forks): the definitions, and a first indicator and phone-number."""
    definitions_json()
    at = DEFINED_AT
    signed = {"record": {"number": "+6281234567890"}, "signature": {"alg": "Ed25519"}}
    body = {"category": "scam", "channels": ["voice"], "reason": "warm-up", "issued_at": "2026-11-01T00:00:00Z"}
    block = StoredRecord(
        "00000000-0000-4000-8000-000000000000", 1, 0, at, None, {**signed, "record": {**body, **signed["record"]}}
    )
    for built in (indicator(AUTHOR_ID, block, None), phone_number("+6281234567890")):
        serialize(built)


_STIX_ENCODER = STIXJSONEncoder()


def serialize(obj: Any) -> bytes:
    """Compact JSON of a stix2 object: stix2's own encoding of it (property order, timestamp forms,
    defaults left out), written by the standard library's C encoder, a tenth of simplejson's time here."""
    return json.dumps(obj, default=_STIX_ENCODER.default, separators=(",", ":"), ensure_ascii=False).encode()


class ObjectCache:
    """Serialized object versions, newest-used kept, bounded; safe across threads.

    Keyed by (id, version): a version's content never changes, so an entry is
    either right or absent.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], build: Callable[[], bytes]) -> bytes:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = build()
        with self._lock:
            self._items[key] = made
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return made
