"""Reading records back: the pull cursor, single look-ups, numbers.

Pulls are two index range scans, ``assignments(partner_id, seq)`` and
``records(issuer, seq)``, each cut at ``limit``; they never lock. Because
writers commit in seq order (hub.ledger.log.reserve), a reader that has seen
seq N has seen everything below N, which is what makes the cursor exact.

Items are served from stored bytes, never decoded and encoded again: a
pull-format item is the record's log leaf (its record and signature as
accepted, JCS), its receipt as signed at acceptance (``records.receipt``),
and the caller's assignment, spliced into one JSON object
(:class:`PulledItem`). The app's JSON provider (hub.jsonio) writes those
bytes into the response as they are. Each item also says what it is about
(``seq``, ``id``, ``number``), for whoever records what was read.

What other capabilities build on (a feed with the pull's visibility):
``visible_seqs(caller, after, limit)`` gives the seqs a caller may see, with
the pull's gap-free cursor semantics; ``load_raw(caller, where,
mark_delivered)`` their items as :class:`PulledItem` (``load_items``: as
dicts, for a caller that changes them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
    type_coerce,
    update,
)

from hub import clock
from hub.auth.protect import Caller
from hub.db import UTCDateTime, db, reads
from hub.jsonio import Encoded
from hub.ledger import log, visibility
from hub.ledger.models import LogEntry
from hub.ledger.receipts import receipt_with_bytes, usable
from hub.records.lifecycle import latest_reassignment
from hub.records.models import Assignment, Record, in_force_at
from hub.records.numbers import NumberInfo
from hub.signing import HubSigner, retired_kids, signer
from keys.timefmt import format_ts

#: a SELECT of any columns (SQLAlchemy 2.1's Select is generic over its row's types)
AnySelect = Select[*tuple[Any, ...]]

#: PROTOCOL 1.1 section 4: a number's look-up lists at most this many records, newest first.
NUMBER_RECORDS_CAP = 100


def _ts(value: datetime | None) -> str | None:
    return format_ts(value) if value is not None else None


def assignment_view(a: Any) -> dict[str, Any] | None:
    """The caller's own assignment as the protocol shows it (an Assignment or a row)."""
    if a is None:
        return None
    return {
        "status": a.status,
        "assigned_at": format_ts(a.assigned_at),
        "delivered_at": _ts(a.delivered_at),
        "acted_at": _ts(a.acted_at),
    }


@dataclass(slots=True)
class PulledItem(Encoded):
    """A pull-format item, already encoded (``json``); ``seq``, ``id`` and ``number`` say what it is.

    ``item["record"]`` and the other members read as from the dict it
    encodes (decoded once, on first use), for in-process callers.
    """

    seq: int
    id: str
    number: str
    json: bytes
    _decoded: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = orjson.loads(self.json)
        return self._decoded

    def __getitem__(self, member: str) -> Any:
        return self.as_dict()[member]


def visible_seqs(caller: Caller, after: int, limit: int) -> list[int]:
    """The first ``limit`` seqs above ``after`` that the caller may see.

    Bounded by the committed log size read first: every seq up to it is
    committed (writers commit in seq order), and the two index scans below
    run as separate statements, so without the bound a record committing
    between them could be passed over by a cursor moved past it.
    """
    high = log.size()
    conn = db.session.connection()  # Core execution: no ORM entities here, and it costs half as much
    if caller.is_ministry:
        return list(
            conn.scalars(
                select(Record.seq).where(Record.seq > after, Record.seq <= high).order_by(Record.seq).limit(limit)
            )
        )
    assigned = conn.scalars(
        select(Assignment.seq)
        .where(Assignment.partner_id == caller.partner_id, Assignment.seq > after, Assignment.seq <= high)
        .order_by(Assignment.seq)
        .limit(limit)
    )
    own = conn.scalars(
        select(Record.seq)
        .where(Record.issuer == caller.partner_id, Record.seq > after, Record.seq <= high)
        .order_by(Record.seq)
        .limit(limit)
    )
    return sorted(set(assigned) | set(own))[:limit]


def can_see(caller: Caller, record: Record) -> bool:
    if caller.is_ministry or record.issuer == caller.partner_id:
        return True
    return db.session.get(Assignment, (record.id, caller.partner_id)) is not None


#: Timestamps come back naive (UTC as stored) and are formatted once per distinct value
#: per page (``_Page``): a push stores its whole batch with one acceptance time.
_ITEM_COLUMNS = (
    Record.id,
    Record.seq,
    Record.number,
    Record.sha256,
    Record.log_index,
    type_coerce(Record.received_at, DateTime).label("received_at"),
    Record.receipt,
    LogEntry.data,
    Assignment.status,
    type_coerce(Assignment.assigned_at, DateTime).label("assigned_at"),
    type_coerce(Assignment.delivered_at, DateTime).label("delivered_at"),
    type_coerce(Assignment.acted_at, DateTime).label("acted_at"),
)


def _items_select(caller: Caller) -> AnySelect:
    """Everything an item is made of, one row per record, the caller's assignment joined by its key."""
    return (
        select(*_ITEM_COLUMNS)
        .join(LogEntry, LogEntry.idx == Record.log_index)
        .outerjoin(Assignment, and_(Assignment.record_id == Record.id, Assignment.partner_id == caller.partner_id))
    )


def _visible(caller: Caller) -> ColumnElement[bool]:
    """What the caller may see, over ``_items_select``'s join: its own records and those assigned to it."""
    if caller.is_ministry:
        return Record.id.is_not(None)
    return or_(Record.issuer == caller.partner_id, Assignment.record_id.is_not(None))


@visibility.rule("record")
def visible_log_indexes(caller: Caller, start: int, end: int) -> AnySelect:
    """The log's ``record`` leaves in ``[start, end)`` the caller may read (hub.ledger.visibility).

    The same rule as a pull and ``GET /v1/records/<id>`` (``_visible``): the
    caller's own records and those assigned to it, the assignment reached by
    its own key (record, partner), the records by their ``log_index`` key.
    """
    return (
        select(Record.log_index)
        .outerjoin(Assignment, and_(Assignment.record_id == Record.id, Assignment.partner_id == caller.partner_id))
        .where(Record.log_index >= start, Record.log_index < end, _visible(caller))
    )


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


class _Page:
    """Encodes items of one answer; the caller's assignment JSON is built once per distinct state."""

    def __init__(self, delivered: dict[str, datetime] | None = None) -> None:
        self.delivered = delivered or {}  # record id -> delivered_at set by this pull
        self.assignments: dict[tuple[Any, ...], bytes] = {}
        self.retired = retired_kids()
        self.current: HubSigner | None = None

    def assignment(self, r: Any) -> bytes:
        if r.status is None:
            return b"null"
        status, delivered_at = r.status, r.delivered_at
        marked = self.delivered.get(r.id)
        if marked is not None:
            status, delivered_at = "delivered", marked
        key = (status, r.assigned_at, delivered_at, r.acted_at)
        found = self.assignments.get(key)
        if found is None:
            view = {
                "status": status,
                "assigned_at": format_ts(r.assigned_at.replace(tzinfo=UTC)),
                "delivered_at": _ts(_aware(delivered_at)),
                "acted_at": _ts(_aware(r.acted_at)),
            }
            found = self.assignments[key] = orjson.dumps(view)
        return found

    def receipt(self, r: Any) -> bytes:
        if usable(r.receipt, self.retired):
            return r.receipt.encode("utf-8")  # type: ignore[no-any-return]
        # accepted before receipts were stored, or signed by a key since retired
        self.current = self.current or signer()
        at = r.received_at.replace(tzinfo=UTC)
        return receipt_with_bytes("record", r.id, r.sha256, r.log_index, at, self.current)[1]

    def item(self, r: Any) -> PulledItem:
        # the leaf is {"record":{...},"signature":{...}} (JCS: its two members in this order)
        leaf = r.data.encode("utf-8")[1:-1]
        body = b'{"seq":%d,%b,"receipt":%b,"assignment":%b}' % (r.seq, leaf, self.receipt(r), self.assignment(r))
        return PulledItem(r.seq, r.id, r.number, body)


def load_raw(
    caller: Caller, where: Any, mark_delivered: bool, delivered_range: tuple[int, int] | None = None
) -> list[PulledItem]:
    """Pull-format items of the records matching ``where`` (and visible to the caller), ascending seq.

    Reads plain rows, not ORM objects: the delivered-marking commit must not
    leave objects behind whose later refresh or flush would touch the rows
    again (that per-row flush deadlocked overlapping pulls on PostgreSQL).
    Pending assignments among them are marked delivered in one statement:
    by seq range when ``delivered_range`` ``(after, last)`` says the rows
    are every seq the caller may see in it (as a pull's page is), else by id.
    """
    rows = (
        db.session.connection().execute(_items_select(caller).where(where, _visible(caller)).order_by(Record.seq)).all()
    )
    if not rows:
        return []
    delivered: dict[str, datetime] = {}
    if mark_delivered:
        fresh = [r.id for r in rows if r.status == "pending"]
        if fresh:
            now = clock.now()
            mine = Assignment.partner_id == caller.partner_id
            which = (
                and_(mine, Assignment.seq > delivered_range[0], Assignment.seq <= delivered_range[1])
                if delivered_range is not None
                else and_(mine, Assignment.record_id.in_(sorted(fresh)))
            )
            db.session.connection().execute(
                update(Assignment)
                .where(which, Assignment.status == "pending")
                .values(status="delivered", delivered_at=now)
            )
            db.session.commit()
            naive = now.astimezone(UTC).replace(tzinfo=None)
            delivered = dict.fromkeys(fresh, naive)
    page = _Page(delivered)
    return [page.item(r) for r in rows]


def load_items(caller: Caller, where: Any, mark_delivered: bool) -> list[dict[str, Any]]:
    """``load_raw``'s items as dicts (for a caller that adds to them)."""
    return [dict(item.as_dict()) for item in load_raw(caller, where, mark_delivered)]


def pull(caller: Caller, after: int, limit: int) -> dict[str, Any]:
    """``{"items", "next_after", "has_more"}``; items are :class:`PulledItem`."""
    seqs = visible_seqs(caller, after, limit + 1)
    has_more = len(seqs) > limit
    seqs = seqs[:limit]
    # every seq the caller may see in (after, seqs[-1]] is in this page, so its delivery marks are that range
    items = load_raw(caller, Record.seq.in_(seqs), True, (after, seqs[-1])) if seqs else []
    return {"items": items, "next_after": items[-1].seq if items else after, "has_more": has_more}


def assignments_of(record_id: str) -> list[dict[str, Any]]:
    """Every assignment of a record with its signed ack (issuer and ministry only)."""
    rows = db.session.execute(
        select(Assignment, LogEntry.data)
        .outerjoin(LogEntry, LogEntry.idx == Assignment.ack_log_index)
        .where(Assignment.record_id == record_id)
        .order_by(Assignment.partner_id)
    ).all()
    return [
        {"partner": a.partner_id, **(assignment_view(a) or {}), "ack": json.loads(ack) if ack is not None else None}
        for a, ack in rows
    ]


def number_state(number: str, now: datetime) -> bool:
    """True while any block for the number is in force."""
    found = db.session.scalar(select(Record.id).where(Record.number == number, in_force_at(now)).limit(1))
    return found is not None


def _number_statements(ministry: bool) -> tuple[AnySelect, AnySelect]:
    """The look-up's two statements, built once: (blocked, how many records the caller may see), then the newest page.

    Both start from ``records(number, seq)`` and reach the caller's
    assignment by its primary key ``(record_id, partner_id)``, so their cost
    follows the number's own rows, never what the caller was ever assigned
    (tests/test_lookup_plan.py pins the plans on both databases). Bound
    parameters: ``number``, ``partner``, ``now``.
    """
    partner = bindparam("partner", type_=String)
    number = bindparam("number", type_=String)
    now = bindparam("now", type_=UTCDateTime)
    blocked = select(Record.id).where(Record.number == number, in_force_at(now)).limit(1).exists()
    if ministry:
        # The ministry sees every record and is never assigned one (routing: OTT providers and the
        # home operator), so its look-up does not touch assignments at all.
        counted = select(func.count()).select_from(Record).where(Record.number == number).scalar_subquery()
        unassigned = [null().label(c.key) for c in _ITEM_COLUMNS[-4:]]
        page = (
            select(*_ITEM_COLUMNS[:-4], *unassigned)
            .join(LogEntry, LogEntry.idx == Record.log_index)
            .where(Record.number == number)
            .order_by(Record.seq.desc())
            .limit(NUMBER_RECORDS_CAP)
        )
        return select(blocked, counted), page
    mine = and_(Assignment.record_id == Record.id, Assignment.partner_id == partner)
    visible = or_(Record.issuer == partner, Assignment.record_id.is_not(None))
    counted = (
        select(func.count()).select_from(Record).outerjoin(Assignment, mine).where(Record.number == number, visible)
    ).scalar_subquery()
    page = (
        select(*_ITEM_COLUMNS)
        .join(LogEntry, LogEntry.idx == Record.log_index)
        .outerjoin(Assignment, mine)
        .where(Record.number == number, visible)
        .order_by(Record.seq.desc())
        .limit(NUMBER_RECORDS_CAP)
    )
    return select(blocked, counted), page


_NUMBER_STATEMENTS = {ministry: _number_statements(ministry) for ministry in (False, True)}


def number_statements(caller: Caller) -> tuple[AnySelect, AnySelect]:
    """The look-up's statements for this kind of caller (bind ``number``, ``partner``, ``now``)."""
    return _NUMBER_STATEMENTS[caller.is_ministry]


def number_view(caller: Caller, info: NumberInfo, now: datetime) -> dict[str, Any]:
    """PROTOCOL 1.1 section 4's ``GET /v1/numbers/<e164>``: state, count, the newest visible records.

    ``reassigned_at``: the effective_at of the number's latest ``reassigned``
    event (section 10), one probe of its index.
    """
    summary, page = number_statements(caller)
    params = {"number": info.e164, "partner": caller.partner_id, "now": now}
    conn = reads()
    blocked, count = conn.execute(summary, params).one()
    rows = conn.execute(page, params).all() if count else []
    encoder = _Page()
    return {
        "number": info.e164,
        "carrier": info.carrier,
        "blocked": bool(blocked),
        "reassigned_at": format_ts(reassigned) if (reassigned := latest_reassignment(info.e164)) else None,
        "record_count": int(count),
        "records": [encoder.item(r) for r in rows],
    }


_BLOCKED_SUFFIXES = (
    select(Record.number_sha256)
    .where(Record.number_prefix == bindparam("prefix", type_=String), in_force_at(bindparam("now", type_=UTCDateTime)))
    .distinct()
)


def blocked_suffixes(prefix: str, now: datetime) -> list[str]:
    hashes = reads().scalars(_BLOCKED_SUFFIXES, {"prefix": prefix, "now": now})
    return sorted(h[5:] for h in hashes)
