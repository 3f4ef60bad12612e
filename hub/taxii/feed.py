"""The ``blocks`` collection as a sequence of object versions, paged on the pull's cursor.

A partner's collection is computed from what it may pull, never stored:
``hub.records.views.visible_seqs`` gives the seqs it may see (the pull's
visibility and its gap-free bound), and each visible record adds entries at
its own position ``(seq, sub)``:

- a block: the ``phone-number`` observable (sub 0) when it is the first
  visible block of its number, then its indicator's first version (sub 1);
- an unblock: the second, revoked, version of its block's indicator (sub 1).

The author identity and the two extension definitions sit before every
record, at ``(0, 0..2)``. Positions only grow as records are accepted, and a
record at seq N is committed before any reader sees N (writers commit in seq
order), so a ``next`` token that encodes the last position handed out makes
a client see each version at most once and, with ``match[version]=all``,
exactly once, on any number of hub instances.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import and_, exists, func, or_, select

from hub.auth.protect import Caller
from hub.db import db
from hub.ledger.models import LogEntry
from hub.records import views
from hub.records.models import Assignment, Record
from hub.taxii import stix

#: Most object versions in one page (PROTOCOL.md section 11); also the default chunk read per query.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
#: ``added_after`` starts reading this far before the given time. Acceptance
#: times are taken under the seq counter's lock and strictly increase from one
#: write transaction to the next (hub.ledger.log.reserve_with_time), so a
#: later commit never carries an earlier time; hubs that accepted entries
#: before that rule took their time just before queueing for the counter,
#: out of seq order by up to one write transaction, hence the margin.
#: Entries are still filtered on their exact time.
ADDED_AFTER_SLACK = timedelta(minutes=1)
SPEC_VERSION = "2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


class FeedError(ValueError):
    """A query the feed cannot answer (TAXII 400)."""


@dataclass(frozen=True, order=True)
class Position:
    """Where an entry sits in a partner's collection: the record's seq, then sub."""

    seq: int
    sub: int

    def token(self) -> str:
        return base64.urlsafe_b64encode(f"{self.seq}.{self.sub}".encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Position:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise FeedError("next is not a token this hub gave out") from None
        m = re.fullmatch(r"(0|[1-9][0-9]{0,18})\.([0-9])", text)
        if m is None:
            raise FeedError("next is not a token this hub gave out")
        return cls(int(m.group(1)), int(m.group(2)))


BEFORE_ALL = Position(0, -1)


@dataclass
class Entry:
    """One object version in the collection."""

    position: Position
    id: str
    type: str
    date_added: datetime
    version: datetime
    render: Callable[[], bytes]
    #: the object's first version (every observable and definition is)
    first: bool = True
    #: a newer version exists that this caller may see ("last" leaves this one out)
    superseded: bool = False
    #: the record whose acceptance put this version here (the block, or the unblock of a revoked version)
    #: and its number: what the audit trail names (None for the definitions)
    record_id: str | None = None
    number: str | None = None

    @property
    def seq(self) -> int:
        """The record's seq: the audit trail names records by it."""
        return self.position.seq

    def manifest(self) -> dict[str, str]:
        return {
            "id": self.id,
            "date_added": stix.stix_ts(self.date_added),
            "version": stix.stix_ts(self.version),
            "media_type": STIX_MEDIA_TYPE,
        }


@dataclass(frozen=True)
class VersionMatch:
    """``match[version]``: any of ``first``, ``last``, ``all`` and exact timestamps (default ``last``)."""

    first: bool = False
    last: bool = True
    all: bool = False
    exact: frozenset[datetime] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> VersionMatch:
        if text is None:
            return cls()
        first = last = every = False
        exact: set[datetime] = set()
        for part in text.split(","):
            if part == "first":
                first = True
            elif part == "last":
                last = True
            elif part == "all":
                every = True
            else:
                exact.add(parse_timestamp(part, "match[version]"))
        return cls(first, last, every, frozenset(exact))


@dataclass(frozen=True)
class Filters:
    """The TAXII filters of one request, already parsed."""

    added_after: datetime | None = None
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    versions: VersionMatch = field(default_factory=VersionMatch)
    spec_ok: bool = True

    def wants(self, kind: str) -> bool:
        return self.spec_ok and (self.types is None or kind in self.types)


_TIMESTAMP = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?Z", re.ASCII)


def parse_timestamp(text: str, name: str) -> datetime:
    """A TAXII/STIX timestamp: RFC 3339, UTC ``Z``, any sub-second digits (kept to the microsecond)."""
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        raise FeedError(f"{name} is not an RFC 3339 UTC timestamp like 2026-11-28T10:00:00.000Z")
    try:
        base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise FeedError(f"{name} is not a real date and time") from None
    return base.replace(microsecond=int((m.group(2) or "0")[:6].ljust(6, "0")))


def parse_filters(args: dict[str, str], *, by_id: bool = False) -> Filters:
    added = args.get("added_after")
    spec = args.get("match[spec_version]")
    types = args.get("match[type]")
    ids = args.get("match[id]")
    return Filters(
        added_after=parse_timestamp(added, "added_after") if added is not None else None,
        types=None if by_id or types is None else frozenset(types.split(",")),
        ids=None if by_id or ids is None else frozenset(ids.split(",")),
        versions=VersionMatch.parse(args.get("match[version]")),
        spec_ok=spec is None or SPEC_VERSION in spec.split(","),
    )


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise FeedError("limit is a positive integer")
    # TAXII 2.1: a server answers at most its own maximum when asked for more.
    return min(int(text), MAX_LIMIT)


# --- the objects -------------------------------------------------------------------------------------------------

_cache_lock = threading.Lock()


def object_cache() -> stix.ObjectCache:
    """This app's cache of serialized versions (per process: see stix.ObjectCache)."""
    ext = current_app.extensions
    with _cache_lock:
        if "tangkal.taxii" not in ext:
            ext["tangkal.taxii"] = stix.ObjectCache(int(current_app.config.get("TAXII_CACHE_OBJECTS", 50_000)))
    return ext["tangkal.taxii"]  # type: ignore[no-any-return]


def _same(data: bytes) -> bytes:
    return data


def _static_entries() -> list[Entry]:
    """The author and the two definitions, serialized once per process (stix.warm, at app start)."""
    return [
        Entry(Position(0, sub), sid, kind, stix.DEFINED_AT, stix.DEFINED_AT, functools.partial(_same, data))
        for sub, ((sid, kind), data) in enumerate(zip(_STATICS, stix.definitions_json(), strict=True))
    ]


_STATICS: list[tuple[str, str]] = [
    (stix.AUTHOR_ID, "identity"),
    (stix.PHONE_NUMBER_EXTENSION, "extension-definition"),
    (stix.SIGNED_RECORD_EXTENSION, "extension-definition"),
]


def _stored(rows: Iterable[Any]) -> dict[str, stix.StoredRecord]:
    return {
        r.id: stix.StoredRecord(r.id, r.seq, r.log_index, r.received_at, r.in_force_until, orjson.loads(r.data))
        for r in rows
    }


def _select_rows() -> Any:
    return select(
        Record.id,
        Record.seq,
        Record.log_index,
        Record.received_at,
        Record.in_force_until,
        Record.action,
        Record.supersedes,
        Record.lifted_by,
        LogEntry.data,
    ).join(LogEntry, LogEntry.idx == Record.log_index)


def first_visible_blocks(caller: Caller, numbers: Iterable[str]) -> dict[str, int]:
    """The seq of each number's first block the caller may see: where its phone-number object enters.

    The pull's visibility (``views.can_see``: the ministry sees every record,
    a partner its own and those assigned to it) as one grouped query, joined
    on each record's own keys.
    """
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    where = and_(Record.number.in_(wanted), Record.action == "block")
    if not caller.is_ministry:
        assigned = exists().where(Assignment.record_id == Record.id, Assignment.partner_id == caller.partner_id)
        where = and_(where, or_(Record.issuer == caller.partner_id, assigned))
    rows = db.session.execute(select(Record.number, func.min(Record.seq)).where(where).group_by(Record.number))
    return {number: seq for number, seq in rows}


class _Builder:
    """Turns a run of visible records into entries (all versions; filters come after)."""

    def __init__(self, caller: Caller, filters: Filters) -> None:
        self.caller = caller
        self.filters = filters
        self.hub_id = str(current_app.config["HUB_ID"])
        self.cache = object_cache()

    def _indicator(
        self, block: stix.StoredRecord, unblock: stix.StoredRecord | None, at: Position, superseded: bool = False
    ) -> Entry:
        version = block.received_at if unblock is None else stix.second_version_at(block, unblock)
        sid = stix.indicator_id(block.id)
        key = (sid, stix.stix_ts(version))
        hub_id, cache = self.hub_id, self.cache
        return Entry(
            at,
            sid,
            "indicator",
            block.received_at if unblock is None else unblock.received_at,
            version,
            lambda: cache.get(key, lambda: stix.indicator_json(hub_id, block, unblock)),
            first=unblock is None,
            superseded=superseded,
            record_id=block.id if unblock is None else unblock.id,
            number=block.body["number"],
        )

    def _phone_number(self, block: stix.StoredRecord) -> Entry:
        number = block.body["number"]
        sid = stix.phone_number_id(number)
        _known_numbers.remember(sid, number)
        key = (sid, "")
        cache = self.cache
        return Entry(
            Position(block.seq, 0),
            sid,
            "phone-number",
            block.received_at,
            block.received_at,
            lambda: cache.get(key, lambda: stix.phone_number_json(number)),
            record_id=block.id,
            number=number,
        )

    def _visible(self, record_id: str) -> bool:
        if self.caller.is_ministry:
            return True
        record = db.session.get(Record, record_id)
        return record is not None and views.can_see(self.caller, record)

    def entries(self, seqs: list[int]) -> list[Entry]:
        rows = db.session.execute(_select_rows().where(Record.seq.in_(seqs))).all()
        stored = _stored(rows)
        blocks_needed = [r.supersedes for r in rows if r.action == "unblock" and r.supersedes not in stored]
        if blocks_needed:
            more = db.session.execute(_select_rows().where(Record.id.in_(blocks_needed))).all()
            stored.update(_stored(more))
        want_numbers = self.filters.wants("phone-number")
        first_seen = (
            first_visible_blocks(self.caller, (stored[r.id].body["number"] for r in rows if r.action == "block"))
            if want_numbers
            else {}
        )
        out: list[Entry] = []
        for r in sorted(rows, key=lambda r: r.seq):
            rec = stored[r.id]
            if r.action == "block":
                if want_numbers and first_seen.get(rec.body["number"]) == r.seq:
                    out.append(self._phone_number(rec))
                # "last" drops a first version only for a caller who may see the unblock that revoked it.
                superseded = r.lifted_by is not None and self._visible(r.lifted_by)
                out.append(self._indicator(rec, None, Position(r.seq, 1), superseded))
            else:
                block = stored.get(r.supersedes)
                if block is None or not self._visible(block.id):
                    continue
                out.append(self._indicator(block, rec, Position(r.seq, 1)))
        return out


def _keep(entry: Entry, filters: Filters) -> bool:
    if not filters.wants(entry.type):
        return False
    if filters.ids is not None and entry.id not in filters.ids:
        return False
    if filters.added_after is not None and entry.date_added <= filters.added_after:
        return False
    v = filters.versions
    return v.all or entry.version in v.exact or (v.last and not entry.superseded) or (v.first and entry.first)


@dataclass
class Page:
    entries: list[Entry]
    more: bool
    next: Position


def _seq_floor(added_after: datetime) -> int:
    """A seq below every record accepted after ``added_after`` (see ADDED_AFTER_SLACK)."""
    if added_after - datetime.min.replace(tzinfo=UTC) <= ADDED_AFTER_SLACK:
        return 0  # the first moments of year 1: nothing was accepted before (and the subtraction would overflow)
    found = db.session.scalar(
        select(Record.seq)
        .where(Record.received_at <= added_after - ADDED_AFTER_SLACK)
        .order_by(Record.received_at.desc(), Record.seq.desc())
        .limit(1)
    )
    return int(found or 0)


def page(caller: Caller, filters: Filters, after: Position, limit: int) -> Page:
    """The first ``limit`` entries after ``after`` that pass ``filters``, and where to go on from."""
    if filters.ids is not None:
        # look each id up rather than read the whole collection for a handful of objects
        found = sorted((e for i in filters.ids for e in object_entries(caller, i)), key=lambda e: e.position)
        return object_page(found, filters, after, limit)
    out: list[Entry] = []
    examined = after
    if after.seq == 0:
        for entry in _static_entries():
            if entry.position > after and _keep(entry, filters):
                out.append(entry)
        examined = max(examined, Position(0, len(_STATICS) - 1))
    if filters.wants("indicator") or filters.wants("phone-number"):
        lower = after.seq if after.sub >= 1 else max(after.seq - 1, 0)
        if filters.added_after is not None:
            lower = max(lower, _seq_floor(filters.added_after))
        builder = _Builder(caller, filters)
        while len(out) <= limit:
            chunk = min(max(limit + 1 - len(out), DEFAULT_LIMIT), MAX_LIMIT)
            seqs = views.visible_seqs(caller, lower, chunk)
            if not seqs:
                break
            for entry in builder.entries(seqs):
                if entry.position > after and _keep(entry, filters):
                    out.append(entry)
            examined = max(examined, Position(seqs[-1], 1))
            lower = seqs[-1]
            if len(seqs) < chunk:
                break
    if len(out) > limit:
        return Page(out[:limit], True, out[limit - 1].position)
    return Page(out, False, max(examined, out[-1].position) if out else examined)


# --- one object -------------------------------------------------------------------------------------------------


class _KnownNumbers:
    """phone-number ids this process has served, and their numbers (a UUIDv5 cannot be reversed)."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def remember(self, sid: str, number: str) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[sid] = number

    def get(self, sid: str) -> str | None:
        with self._lock:
            return self._items.get(sid)


_known_numbers = _KnownNumbers()


def number_for(sid: str) -> str | None:
    """The number a ``phone-number`` id stands for: remembered, else found among the hub's numbers.

    The search computes the id of each distinct number (a few microseconds
    each); it runs only for an id this process has not served, such as one a
    platform computed itself from a number.
    """
    found = _known_numbers.get(sid)
    if found is not None:
        return found
    for (number,) in db.session.execute(select(Record.number).where(Record.action == "block").distinct()):
        if stix.phone_number_id(number) == sid:
            _known_numbers.remember(sid, number)
            return str(number)
    return None


def object_entries(caller: Caller, object_id: str) -> list[Entry]:
    """Every version of one object the caller may see, in position order (empty: 404)."""
    for entry in _static_entries():
        if entry.id == object_id:
            return [entry]
    seqs: list[int] = []
    if object_id.startswith("indicator--"):
        candidates = stix.record_ids_for(object_id)
        blocks = db.session.scalars(select(Record).where(Record.id.in_(candidates), Record.action == "block")).all()
        for block in blocks:
            if stix.indicator_id(block.id) == object_id and views.can_see(caller, block):
                seqs.append(block.seq)
                unblock = db.session.get(Record, block.lifted_by) if block.lifted_by else None
                if unblock is not None and views.can_see(caller, unblock):
                    seqs.append(unblock.seq)
    elif object_id.startswith("phone-number--"):
        number = number_for(object_id)
        first = first_visible_blocks(caller, [number]).get(number) if number is not None else None
        if first is not None:
            seqs.append(first)
    if not seqs:
        return []
    builder = _Builder(caller, Filters())
    return [e for e in builder.entries(seqs) if e.id == object_id]


def object_page(entries: list[Entry], filters: Filters, after: Position, limit: int) -> Page:
    """One object's versions after ``after`` that pass ``filters``, paged like the collection."""
    kept = [e for e in entries if e.position > after and _keep(e, filters)]
    if len(kept) > limit:
        return Page(kept[:limit], True, kept[limit - 1].position)
    last = max([after, *(e.position for e in entries)])
    return Page(kept, False, last)
