"""The console's pages: overview, league table, overdue items, a number's history, reports, partners, staff."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Response, abort, current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from hub import clock
from hub.auth.models import Partner
from hub.console import accounts, charts, figures, history
from hub.console import models as m
from hub.console.blueprint import admin_required, bp, staff_required
from hub.console.i18n import day_label
from hub.console.models import StaffEvent
from hub.db import db
from hub.problems import Problem
from hub.records import views
from hub.records.numbers import check_e164
from hub.reports import compute, service
from hub.reports.models import Report
from keys.timefmt import format_ts, parse_ts

PAGE = 100
#: how far past its due time an overdue item may be filtered by, in hours
LATE_CHOICES = (0, 24, 72, 168, 720)
EXPORT_CHUNK = 1000


def _sla() -> int:
    return int(current_app.config["SLA_HOURS"])


def _partner_ids() -> list[str]:
    return list(db.session.scalars(select(Partner.id).where(Partner.kind != "ministry").order_by(Partner.id)))


@bp.get("/")
@staff_required
def overview() -> str:
    data = figures.overview(clock.now(), _sla())
    labels = [day_label(d["day"]) for d in data["days"]]

    def series(pick: Any) -> list[int | None]:
        return [None if d["totals"] is None else int(pick(d["totals"])) for d in data["days"]]

    flows = charts.daily_bars(
        _("Records in and blocks acted, per day (WIB)"),
        labels,
        [
            (_("Records in"), series(lambda t: t["issued"])),
            (_("Blocks acted"), series(lambda t: t["acted"]["blocked"])),
        ],
        every=5,
    )
    backlog = charts.daily_lines(
        _("Pending and overdue at the end of each day"),
        labels,
        [(_("Pending"), series(lambda t: t["pending"])), (_("Overdue"), series(lambda t: t["overdue"]))],
        every=5,
    )
    return render_template("console/overview.html", data=data, flows=flows, backlog=backlog, sla=_sla())


@bp.get("/league")
@staff_required
def league() -> Any:
    recent = [r for r in figures.recent_reports() if r.kind != "adhoc"]
    chosen_id = request.args.get("report")
    report = db.session.get(Report, chosen_id) if chosen_id else (recent[0] if recent else None)
    if chosen_id and report is None:
        abort(404)
    if report is None:
        return render_template("console/league.html", table=None, recent=recent)
    table = figures.league(report, clock.now(), _sla())
    chart = charts.share_bars(
        _("Share acted within the SLA"), [(r["partner"], r["within_sla_share"]) for r in table["rows"]]
    )
    return render_template("console/league.html", table=table, recent=recent, chart=chart, sla=_sla())


def _overdue_filters() -> tuple[str | None, int]:
    partner = request.args.get("partner") or None
    if partner is not None and partner not in _partner_ids():
        abort(404)
    try:
        late = int(request.args.get("late") or 0)
    except ValueError:
        late = 0
    return partner, late if late in LATE_CHOICES else 0


def _cursor(text: str | None) -> tuple[Any, str, str] | None:
    if not text:
        return None
    try:
        at, rid, pid = text.split(",", 2)
        return parse_ts(at), rid, pid
    except ValueError:
        abort(400)


@bp.get("/overdue")
@staff_required
def overdue() -> str:
    partner, late = _overdue_filters()
    now, sla = clock.now(), _sla()
    late_by = timedelta(hours=late)
    items = compute.overdue_now(
        now, sla, partner=partner, late_by=late_by, after=_cursor(request.args.get("after")), limit=PAGE + 1
    )
    more = len(items) > PAGE
    items = items[:PAGE]
    nxt = None
    if more:
        last = items[-1]
        cursor = f"{format_ts(last['assigned_at'])},{last['record_id']},{last['partner']}"
        nxt = url_for("console.overdue", partner=partner, late=late or None, after=cursor)
    return render_template(
        "console/overdue.html",
        items=items,
        count=compute.count_overdue_now(now, sla, partner, late_by),
        partners=_partner_ids(),
        partner=partner,
        late=late,
        late_choices=LATE_CHOICES,
        next_url=nxt,
        now=now,
        sla=sla,
    )


OVERDUE_CSV = ["record_id", "partner", "number", "action", "assigned_at", "due_at", "hours_overdue", "status"]


@bp.get("/overdue.csv")
@staff_required
def overdue_csv() -> Response:
    """Every overdue item the filters select, streamed in keyset pages (never all in memory)."""
    partner, late = _overdue_filters()
    now, sla = clock.now(), _sla()

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(OVERDUE_CSV)
        after = None
        while True:
            chunk = compute.overdue_now(
                now, sla, partner=partner, late_by=timedelta(hours=late), after=after, limit=EXPORT_CHUNK
            )
            for it in chunk:
                hours_over = (now - it["due_at"]).total_seconds() / 3600
                writer.writerow(
                    [
                        it["record_id"],
                        it["partner"],
                        it["number"],
                        it["action"],
                        format_ts(it["assigned_at"]),
                        format_ts(it["due_at"]),
                        f"{hours_over:.1f}",
                        it["status"],
                    ]
                )
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(chunk) < EXPORT_CHUNK:
                return
            last = chunk[-1]
            after = (last["assigned_at"], last["record_id"], last["partner"])

    name = f"tangkal-overdue-{format_ts(now)[:10]}{'-' + partner if partner else ''}.csv"
    resp = Response(stream_with_context(rows()), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/numbers")
@staff_required
def number() -> str:
    raw = (request.args.get("q") or "").strip()
    if not raw:
        return render_template("console/number.html", query="", info=None)
    try:
        info = check_e164(raw)
    except Problem as exc:
        suggestion = exc.extensions.get("suggestion")
        if not suggestion:
            return render_template("console/number.html", query=raw, info=None, invalid=True)
        info = check_e164(suggestion)
    events, truncated = history.history(info.e164)
    return render_template(
        "console/number.html",
        query=raw,
        info=info,
        events=events,
        truncated=truncated,
        blocked=views.number_state(info.e164, clock.now()),
    )


@bp.get("/reports")
@staff_required
def reports() -> str:
    kind = request.args.get("kind") or None
    stmt = select(Report).order_by(Report.period_start.desc(), Report.generated_at.desc(), Report.id.desc())
    if kind in ("daily", "monthly", "adhoc"):
        stmt = stmt.where(Report.kind == kind)
    before = request.args.get("before")
    if before:
        cursor = db.session.get(Report, before)
        if cursor is None:
            abort(404)
        stmt = stmt.where(
            (Report.period_start < cursor.period_start)
            | ((Report.period_start == cursor.period_start) & (Report.generated_at < cursor.generated_at))
            | (
                (Report.period_start == cursor.period_start)
                & (Report.generated_at == cursor.generated_at)
                & (Report.id < cursor.id)
            )
        )
    rows = list(db.session.scalars(stmt.limit(PAGE + 1)))
    nxt = url_for("console.reports", kind=kind, before=rows[PAGE - 1].id) if len(rows) > PAGE else None
    return render_template("console/reports.html", reports=rows[:PAGE], kind=kind, next_url=nxt)


def _report(report_id: str) -> Report:
    row = db.session.get(Report, report_id)
    if row is None:
        abort(404)
    return row


@bp.get("/reports/<report_id>")
@staff_required
def report(report_id: str) -> str:
    row = _report(report_id)
    envelope = service.envelope(row)
    return render_template(
        "console/report.html",
        row=row,
        body=envelope["report"],
        signature=envelope["signature"],
        verified=figures.verify_report(row, envelope),
        shown=PAGE,
    )


def _download(row: Report, text: str, mimetype: str, ext: str) -> Response:
    resp = Response(text, mimetype=mimetype)
    name = f"tangkal-{row.kind}-{format_ts(row.period_start)[:10]}-{row.id}.{ext}"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/reports/<report_id>.json")
@staff_required
def report_json(report_id: str) -> Response:
    row = _report(report_id)
    return _download(row, json.dumps(service.envelope(row), ensure_ascii=False, indent=2), "application/json", "json")


@bp.get("/reports/<report_id>.csv")
@staff_required
def report_csv(report_id: str) -> Response:
    row = _report(report_id)
    return _download(row, service.to_csv(row), "text/csv", "csv")


@bp.get("/partners")
@staff_required
def partners() -> str:
    return render_template("console/partners.html", data=figures.partners(clock.now(), _sla()))


@bp.get("/staff")
@admin_required
def staff() -> str:
    stmt = select(StaffEvent).order_by(StaffEvent.id.desc())
    before = request.args.get("before", type=int)
    if before:
        stmt = stmt.where(StaffEvent.id < before)
    events = list(db.session.scalars(stmt.limit(PAGE + 1)))
    nxt = url_for("console.staff", before=events[PAGE - 1].id) if len(events) > PAGE else None
    names = {
        m.LOGIN: _("signed in"),
        m.FAILURE: _("failed"),
        m.LOCKOUT: _("locked out"),
        m.LOCKED: _("refused: locked"),
        m.DISABLED: _("refused: disabled"),
        m.LOGOUT: _("signed out"),
        m.EXPIRED: _("session expired"),
        m.ENROLLED: _("authenticator enrolled"),
        m.RECOVERY: _("signed in with a recovery code"),
    }
    return render_template(
        "console/staff.html",
        users=accounts.list_users(),
        events=events[:PAGE],
        next_url=nxt,
        now=clock.now(),
        event_names=names,
    )
