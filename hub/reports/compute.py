"""The numbers of a reconciliation report, computed by the database.

Every figure is a GROUP BY in the database over the period's rows (found by
the indexes on assigned, delivered, acted and received times); pending and
overdue count the assignments still open at the period's end, whenever made.
The only rows that reach Python are one per partner, the first 1,000 overdue
items, and the period's anomalies. Medians and
p95s use window functions (nearest rank), which SQLite and PostgreSQL both
have, so a day of a million assignments costs the same memory as a day of ten.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from hub.acks.models import Attestation
from hub.auth.models import Partner
from hub.db import db
from hub.ledger import log
from hub.records.anomalies import Anomaly
from hub.records.lifecycle import DISCONNECTED, REASSIGNED, NumberEvent
from hub.records.models import Assignment, Record
from hub.reports.periods import Period
from keys.timefmt import format_ts
from keys.wire import OUTCOMES

OVERDUE_LISTED = 1000
#: PROTOCOL 1.1 section 8: a report lists at most this many anomalies, oldest first; anomaly_count gives all
ANOMALIES_LISTED = 1000


def _hours(start: Any, end: Any) -> ColumnElement[Any]:
    """Hours from ``start`` to ``end`` as the current database computes them."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _in(column: Any, p: Period) -> ColumnElement[bool]:
    return and_(column >= p.start, column < p.end)


def _by_partner(query: Any) -> dict[str, Any]:
    return {row[0]: row[1] for row in db.session.execute(query)}


def _percentiles(p: Period) -> dict[str, tuple[float, float]]:
    """Nearest-rank median and p95 hours to act, over the period's acts, per partner."""
    hours = _hours(Assignment.assigned_at, Assignment.acted_at).label("h")
    ranked = (
        select(
            Assignment.partner_id.label("pid"),
            hours,
            func.row_number().over(partition_by=Assignment.partner_id, order_by=hours).label("rn"),
            func.count().over(partition_by=Assignment.partner_id).label("n"),
        )
        .where(_in(Assignment.acted_at, p))
        .subquery()
    )
    # ceil(q * n) in integer arithmetic (// is floor division in SQLAlchemy 2).
    median_rank = (ranked.c.n + 1) // 2
    p95_rank = (ranked.c.n * 95 + 99) // 100
    rows = db.session.execute(
        select(ranked.c.pid, ranked.c.h, ranked.c.rn == median_rank, ranked.c.rn == p95_rank).where(
            or_(ranked.c.rn == median_rank, ranked.c.rn == p95_rank)
        )
    )
    out: dict[str, list[float]] = {}
    for pid, h, is_median, is_p95 in rows:
        slot = out.setdefault(pid, [0.0, 0.0])
        if is_median:
            slot[0] = round(float(h), 3)
        if is_p95:
            slot[1] = round(float(h), 3)
    return {pid: (m, q) for pid, (m, q) in out.items()}


def _latest_attestations(end: datetime) -> dict[str, dict[str, Any]]:
    ranked = (
        select(
            Attestation.partner_id,
            Attestation.as_of,
            Attestation.match,
            func.row_number()
            .over(
                partition_by=Attestation.partner_id, order_by=(Attestation.as_of.desc(), Attestation.received_at.desc())
            )
            .label("rn"),
        )
        .where(Attestation.as_of < end)
        .subquery()
    )
    rows = db.session.execute(select(ranked.c.partner_id, ranked.c.as_of, ranked.c.match).where(ranked.c.rn == 1))
    return {pid: {"as_of": format_ts(as_of), "match": bool(match)} for pid, as_of, match in rows}


def partner_rows(p: Period, sla_hours: int) -> list[dict[str, Any]]:
    sla = timedelta(hours=sla_hours)
    issued = _by_partner(select(Record.issuer, func.count()).where(_in(Record.received_at, p)).group_by(Record.issuer))
    assigned = _by_partner(
        select(Assignment.partner_id, func.count())
        .where(_in(Assignment.assigned_at, p))
        .group_by(Assignment.partner_id)
    )
    delivered = _by_partner(
        select(Assignment.partner_id, func.count())
        .where(_in(Assignment.delivered_at, p))
        .group_by(Assignment.partner_id)
    )
    acted: dict[str, dict[str, int]] = {}
    for pid, outcome, n in db.session.execute(
        select(Assignment.partner_id, Assignment.outcome, func.count())
        .where(_in(Assignment.acted_at, p))
        .group_by(Assignment.partner_id, Assignment.outcome)
    ):
        acted.setdefault(pid, {})[str(outcome)] = n
    open_at_end = and_(Assignment.assigned_at < p.end, or_(Assignment.acted_at.is_(None), Assignment.acted_at >= p.end))
    pending = _by_partner(
        select(Assignment.partner_id, func.count()).where(open_at_end).group_by(Assignment.partner_id)
    )
    overdue = _by_partner(
        select(Assignment.partner_id, func.count())
        .where(open_at_end, Assignment.assigned_at < p.end - sla)
        .group_by(Assignment.partner_id)
    )
    in_sla = case(
        (
            and_(
                Assignment.acted_at.is_not(None),
                _hours(Assignment.assigned_at, Assignment.acted_at) <= literal(float(sla_hours)),
            ),
            1,
        ),
        else_=0,
    )
    within: dict[str, tuple[int, int]] = {
        pid: (int(total), int(ok or 0))
        for pid, total, ok in db.session.execute(
            select(Assignment.partner_id, func.count(), func.sum(cast(in_sla, Float)))
            .where(_in(Assignment.assigned_at, p))
            .group_by(Assignment.partner_id)
        )
    }
    percentiles = _percentiles(p)
    attestations = _latest_attestations(p.end)

    rows = []
    for partner in db.session.scalars(select(Partner).order_by(Partner.id)):
        pid = partner.id
        total, ok = within.get(pid, (0, 0))
        median, p95 = percentiles.get(pid, (None, None))
        rows.append(
            {
                "partner": pid,
                "kind": partner.kind,
                "issued": int(issued.get(pid, 0)),
                "assigned": int(assigned.get(pid, 0)),
                "delivered": int(delivered.get(pid, 0)),
                "acted": {o: int(acted.get(pid, {}).get(o, 0)) for o in OUTCOMES},
                "pending": int(pending.get(pid, 0)),
                "overdue": int(overdue.get(pid, 0)),
                "within_sla_share": round(ok / total, 4) if total else None,
                "median_hours_to_act": median,
                "p95_hours_to_act": p95,
                "attestation": attestations.get(pid),
            }
        )
    return rows


def _overdue_listing(where: ColumnElement[bool], limit: int) -> Any:
    """Overdue items oldest first, with their number and action (the report's listing and the console's)."""
    return (
        select(
            Assignment.record_id,
            Assignment.partner_id,
            Assignment.assigned_at,
            Assignment.status,
            Record.number,
            Record.action,
        )
        .join(Record, Record.id == Assignment.record_id)
        .where(where)
        .order_by(Assignment.assigned_at, Assignment.record_id, Assignment.partner_id)
        .limit(limit)
    )


def overdue_items(p: Period, sla_hours: int) -> dict[str, Any]:
    sla = timedelta(hours=sla_hours)
    where = and_(
        Assignment.assigned_at < p.end - sla,
        or_(Assignment.acted_at.is_(None), Assignment.acted_at >= p.end),
    )
    count = db.session.scalar(select(func.count()).select_from(Assignment).where(where)) or 0
    rows = db.session.execute(_overdue_listing(where, OVERDUE_LISTED))
    items = [
        {
            "record_id": rid,
            "partner": pid,
            "number": number,
            "action": action,
            "assigned_at": format_ts(assigned_at),
            "due_at": format_ts(assigned_at + sla),
            "status_at_end": "delivered" if status != "pending" else "pending",
        }
        for rid, pid, assigned_at, status, number, action in rows
    ]
    return {"count": int(count), "items": items}


def _rereports_in(p: Period) -> ColumnElement[bool]:
    return _in(Anomaly.created_at, p)


def _mismatches_in(p: Period) -> ColumnElement[bool]:
    return and_(_in(Attestation.received_at, p), Attestation.match.is_(False))


def anomaly_count(p: Period) -> int:
    """How many anomalies the period has in all (PROTOCOL 1.1 section 8: ``anomaly_count``)."""
    rereports = db.session.scalar(select(func.count()).select_from(Anomaly).where(_rereports_in(p))) or 0
    mismatches = db.session.scalar(select(func.count()).select_from(Attestation).where(_mismatches_in(p))) or 0
    return int(rereports) + int(mismatches)


def anomalies(p: Period, limit: int = ANOMALIES_LISTED) -> list[dict[str, Any]]:
    """The period's first ``limit`` anomalies, oldest first: each source read up to ``limit``, then merged."""
    found: list[tuple[datetime, int, dict[str, Any]]] = []
    for a in db.session.scalars(
        select(Anomaly).where(_rereports_in(p)).order_by(Anomaly.created_at, Anomaly.id).limit(limit)
    ):
        found.append(
            (
                a.created_at,
                len(found),
                {
                    "kind": a.kind,
                    "at": format_ts(a.created_at),
                    "partner": a.partner_id,
                    "number": a.number,
                    "record_id": a.record_id,
                    "related_record_id": a.related_record_id,
                    "detail": f"{a.number} was reported again while {a.partner_id}'s block (acked blocked) was in force",
                },
            )
        )
    for att in db.session.scalars(
        select(Attestation).where(_mismatches_in(p)).order_by(Attestation.received_at, Attestation.id).limit(limit)
    ):
        found.append(
            (
                att.received_at,
                len(found),
                {
                    "kind": "attestation_mismatch",
                    "at": format_ts(att.received_at),
                    "partner": att.partner_id,
                    "attestation_id": att.id,
                    "as_of": format_ts(att.as_of),
                    "blocked_count": att.blocked_count,
                    "expected_count": att.expected_count,
                    "detail": f"{att.partner_id} attests {att.blocked_count} blocked numbers; "
                    f"the hub expects {att.expected_count}"
                    + ("" if att.blocked_count != att.expected_count else " (same count, different numbers)"),
                },
            )
        )
    found.sort(key=lambda item: (item[0], item[1]))
    return [item for _, _, item in found[:limit]]


def number_events(p: Period) -> dict[str, int]:
    """PROTOCOL 1.1 section 8's ``number_events``: the events that took effect in the period, by kind,
    and the blocks the hub lifted because of them (one indexed range read)."""
    rows = db.session.execute(
        select(NumberEvent.event, func.count(), func.coalesce(func.sum(NumberEvent.blocks_lifted), 0))
        .where(_in(NumberEvent.effective_at, p))
        .group_by(NumberEvent.event)
    ).all()
    counts = {event: (int(n), int(lifted)) for event, n, lifted in rows}
    return {
        "disconnected": counts.get(DISCONNECTED, (0, 0))[0],
        "reassigned": counts.get(REASSIGNED, (0, 0))[0],
        "blocks_lifted": sum(lifted for _n, lifted in counts.values()),
    }


def totals(rows: list[dict[str, Any]], overdue: dict[str, Any], found: int) -> dict[str, Any]:
    return {
        "partners": len(rows),
        "issued": sum(r["issued"] for r in rows),
        "assigned": sum(r["assigned"] for r in rows),
        "delivered": sum(r["delivered"] for r in rows),
        "acted": {o: sum(r["acted"][o] for r in rows) for o in OUTCOMES},
        "pending": sum(r["pending"] for r in rows),
        "overdue": overdue["count"],
        "anomalies": found,
    }


def body(report_id: str, p: Period, sla_hours: int, generated_at: datetime) -> dict[str, Any]:
    """The unsigned report of PROTOCOL.md section 8."""
    rows = partner_rows(p, sla_hours)
    over = overdue_items(p, sla_hours)
    found = anomalies(p)
    found_count = anomaly_count(p)
    head = log.signed_head() if p.end > generated_at else log.signed_head(log.size_at(p.end))
    return {
        "id": report_id,
        "kind": p.kind,
        "period": {"start": format_ts(p.start), "end": format_ts(p.end)},
        "generated_at": format_ts(generated_at),
        "sla_hours": sla_hours,
        "log_head": head,
        "totals": totals(rows, over, found_count),
        "partners": rows,
        "overdue": over,
        "anomalies": found,
        "anomaly_count": found_count,
        "number_events": number_events(p),
    }


# -- Now, for the ministry's console --------------------------------------------------
# What is open at a moment that is now: partner_rows' pending and overdue, and
# overdue_items' listing, for a period ending now. Nothing can be acted after
# now, so "open at the end" is ``acted_at IS NULL``, which the partial indexes
# on open assignments answer by reading only what is still open (both planners
# take them by themselves since ix_assignments_acted_at holds acted rows only:
# migration 0014; tests/test_console_plans.py pins the plans).


def _open_at(before: datetime, partner: str | None) -> ColumnElement[bool]:
    """Not acted, and assigned before ``before`` (the open-assignment indexes' condition)."""
    where = and_(Assignment.acted_at.is_(None), Assignment.assigned_at < before)
    return and_(where, Assignment.partner_id == partner) if partner else where


def open_now(now: datetime, sla_hours: int) -> dict[str, dict[str, int]]:
    """Per partner: assignments pending at ``now`` and how many of them are overdue."""
    due_before = now - timedelta(hours=sla_hours)
    overdue = func.sum(case((Assignment.assigned_at < due_before, 1), else_=0))
    rows = db.session.execute(
        select(Assignment.partner_id, func.count(), overdue).where(_open_at(now, None)).group_by(Assignment.partner_id)
    )
    return {pid: {"pending": int(n), "overdue": int(late or 0)} for pid, n, late in rows}


def count_overdue_now(
    now: datetime, sla_hours: int, partner: str | None = None, late_by: timedelta | None = None
) -> int:
    """How many assignments are overdue at ``now`` (by ``late_by`` or more past their due time)."""
    due_before = now - timedelta(hours=sla_hours) - (late_by or timedelta(0))
    found = db.session.scalar(select(func.count()).select_from(Assignment).where(_open_at(due_before, partner)))
    return int(found or 0)


def overdue_now(
    now: datetime,
    sla_hours: int,
    *,
    partner: str | None = None,
    late_by: timedelta | None = None,
    after: tuple[datetime, str, str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Overdue items at ``now``, oldest first, as the report lists them; ``after`` is the last item's
    (assigned_at, record_id, partner) of the previous page."""
    sla = timedelta(hours=sla_hours)
    where = _open_at(now - sla - (late_by or timedelta(0)), partner)
    if after is not None:
        at, rid, pid = after
        where = and_(
            where,
            Assignment.assigned_at >= at,  # the same rows; a range start the index can seek to on a later page
            or_(
                Assignment.assigned_at > at,
                and_(
                    Assignment.assigned_at == at,
                    or_(Assignment.record_id > rid, and_(Assignment.record_id == rid, Assignment.partner_id > pid)),
                ),
            ),
        )
    rows = db.session.execute(_overdue_listing(where, limit))
    return [
        {
            "record_id": rid,
            "partner": pid,
            "number": number,
            "action": action,
            "assigned_at": assigned_at,
            "due_at": assigned_at + sla,
            "status": status,
        }
        for rid, pid, assigned_at, status, number, action in rows
    ]


def flow(p: Period) -> dict[str, Any]:
    """Records received and acts recorded in ``p``, in total (partner_rows' issued and acted, summed)."""
    # partner_rows counts the issued records of partners: the hub's own unblocks (section 10) are not among them
    received = db.session.scalar(
        select(func.count())
        .select_from(Record)
        .where(_in(Record.received_at, p), Record.issuer.in_(select(Partner.id)))
    )
    acted = {o: 0 for o in OUTCOMES}
    for outcome, n in db.session.execute(
        select(Assignment.outcome, func.count()).where(_in(Assignment.acted_at, p)).group_by(Assignment.outcome)
    ):
        acted[str(outcome)] = int(n)
    return {"issued": int(received or 0), "acted": acted}
