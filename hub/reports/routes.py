"""Report endpoints: list, signed JSON, CSV, ad-hoc, delivery state. Ministry only."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hub.api import query_model, read_json, validate
from hub.auth.protect import require
from hub.db import db
from hub.openapi import operation
from hub.problems import Problem
from hub.reports import service
from hub.reports.models import Delivery, Report
from hub.reports.periods import Period
from hub.schemas import Timestamp
from keys.timefmt import format_ts, parse_ts

bp = Blueprint("reports", __name__)

MAX_ADHOC = timedelta(days=400)


class ReportQuery(BaseModel):
    kind: Literal["daily", "monthly", "adhoc"] | None = None
    since: Timestamp | None = Field(default=None, description="periods starting at or after this time")
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    after: str | None = Field(default=None, description="the cursor from a previous page's next")


class ReportPeriod(BaseModel):
    start: str
    end: str


class ReportListItem(BaseModel):
    id: str
    kind: str
    period: ReportPeriod
    generated_at: str


class ReportList(BaseModel):
    """Reports by period start, oldest first; ``next`` is the URL of the next page or null."""

    items: list[ReportListItem]
    next: str | None


class AdhocRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["adhoc"]
    start: Timestamp
    end: Timestamp


class SignedReport(BaseModel):
    """The report of PROTOCOL.md section 8, signed by the hub."""

    report: dict[str, Any]
    signature: dict[str, str]


class DeliveryState(BaseModel):
    """Where the report stands with the ministry's webhook."""

    report_id: str
    url: str
    status: Literal["pending", "delivered"]
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


def _get(report_id: str) -> Report:
    row = db.session.get(Report, report_id)
    if row is None:
        raise Problem("not-found", f"No report {report_id}.")
    return row


@bp.get("/v1/reports")
@require("reports:read")
@operation(
    summary="List reports",
    tag="reports",
    query=ReportQuery,
    responses={200: ReportList},
    response_example={
        "items": [
            {
                "id": "6aee2b48-f180-4687-b275-d8bd43835689",
                "kind": "daily",
                "period": {"start": "2026-11-26T17:00:00Z", "end": "2026-11-27T17:00:00Z"},
                "generated_at": "2026-11-27T17:05:00.412Z",
            }
        ],
        "next": "/v1/reports?kind=daily&after=6aee2b48-f180-4687-b275-d8bd43835689",
    },
)
def list_reports() -> Response:
    q = query_model(ReportQuery)
    stmt = select(Report).order_by(Report.period_start, Report.generated_at, Report.id)
    if q.kind:
        stmt = stmt.where(Report.kind == q.kind)
    if q.since:
        stmt = stmt.where(Report.period_start >= parse_ts(q.since))
    if q.after:
        cursor = db.session.get(Report, q.after)
        if cursor is None:
            raise Problem("invalid-request", "after is not a report id from a previous page.")
        stmt = stmt.where(
            (Report.period_start > cursor.period_start)
            | ((Report.period_start == cursor.period_start) & (Report.generated_at > cursor.generated_at))
            | (
                (Report.period_start == cursor.period_start)
                & (Report.generated_at == cursor.generated_at)
                & (Report.id > cursor.id)
            )
        )
    rows = db.session.scalars(stmt.limit(q.limit + 1)).all()
    items = [
        {
            "id": r.id,
            "kind": r.kind,
            "period": {"start": format_ts(r.period_start), "end": format_ts(r.period_end)},
            "generated_at": format_ts(r.generated_at),
        }
        for r in rows[: q.limit]
    ]
    nxt = None
    if len(rows) > q.limit:
        params = {k: v for k, v in request.args.items() if k != "after"}
        params["after"] = rows[q.limit - 1].id
        nxt = f"{request.path}?{urlencode(params)}"
    return jsonify({"items": items, "next": nxt})


@bp.get("/v1/reports/<report_id>.csv")
@require("reports:read")
@operation(
    summary="A report's per-partner table as CSV", tag="reports", responses={200: "text/csv, one row per partner"}
)
def report_csv(report_id: str) -> Response:
    row = _get(report_id)
    resp = Response(service.to_csv(row), mimetype="text/csv")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="tangkal-{row.kind}-{format_ts(row.period_start)[:10]}-{row.id}.csv"'
    )
    return resp


@bp.get("/v1/reports/<report_id>")
@require("reports:read")
@operation(summary="A report, signed", tag="reports", responses={200: SignedReport})
def get_report(report_id: str) -> Response:
    return jsonify(service.envelope(_get(report_id)))


@bp.get("/v1/reports/<report_id>/delivery")
@require("reports:read")
@operation(summary="The report's webhook delivery state", tag="reports", responses={200: DeliveryState})
def delivery(report_id: str) -> Response:
    _get(report_id)
    d = db.session.scalars(select(Delivery).where(Delivery.report_id == report_id)).first()
    if d is None:
        raise Problem("not-found", f"Report {report_id} has no webhook delivery (MINISTRY_WEBHOOK_URL was not set).")
    return jsonify(
        {
            "report_id": report_id,
            "url": d.url,
            "status": d.status,
            "attempts": d.attempts,
            "last_error": d.last_error,
            "next_attempt_at": format_ts(d.next_attempt_at) if d.status == "pending" else None,
            "delivered_at": format_ts(d.delivered_at) if d.delivered_at else None,
        }
    )


@bp.post("/v1/reports")
@require("reports:write")
@operation(
    summary="Make an ad-hoc report over any period, now",
    tag="reports",
    request=AdhocRequest,
    responses={201: SignedReport},
    request_example={"kind": "adhoc", "start": "2026-11-01T00:00:00Z", "end": "2026-11-15T00:00:00Z"},
)
def make_adhoc() -> tuple[Response, int]:
    body = validate(AdhocRequest, read_json())
    start, end = parse_ts(body.start), parse_ts(body.end)
    if end <= start:
        raise Problem("invalid-request", "end must be after start.")
    if end - start > MAX_ADHOC:
        raise Problem("invalid-request", "An ad-hoc period spans at most 400 days.")
    row = service.adhoc(Period("adhoc", start, end))
    return jsonify(service.envelope(row)), 201
