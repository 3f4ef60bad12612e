"""Report endpoints: list, signed JSON, CSV, ad-hoc, delivery state. Ministry only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hub import clock, examples
from hub.api import query_model, read_json, validate
from hub.audit import service as audit
from hub.auth.protect import current_caller, require
from hub.db import db
from hub.openapi import operation
from hub.problems import Problem
from hub.reports import service
from hub.reports.models import Delivery, Report
from hub.reports.periods import Period
from hub.schemas import Signature, Timestamp
from keys.timefmt import format_ts, parse_ts

bp = Blueprint("reports", __name__)

MAX_ADHOC = timedelta(days=400)
#: PROTOCOL 1.1 section 8: an ad-hoc period lies between this moment and one day past the hub's clock,
#: so no date a partner sends reaches date arithmetic (or a signed report) out of range.
ADHOC_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
ADHOC_AHEAD = timedelta(days=1)


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


class Acted(BaseModel):
    blocked: int
    unblocked: int
    rejected: int
    not_applicable: int


class AttestationState(BaseModel):
    """The partner's latest attestation at the period's end."""

    as_of: str
    match: bool


class PartnerRow(BaseModel):
    """One partner's figures for the period (PROTOCOL section 8)."""

    partner: str
    kind: Literal["operator", "ott", "ministry"]
    issued: int
    assigned: int
    delivered: int
    acted: Acted
    pending: int
    overdue: int
    within_sla_share: float | None
    median_hours_to_act: float | None
    p95_hours_to_act: float | None
    attestation: AttestationState | None


class OverdueItem(BaseModel):
    """An assignment not acted on sla_hours after it was made."""

    record_id: str
    partner: str
    number: str
    action: Literal["block", "unblock"]
    assigned_at: str
    due_at: str
    status_at_end: Literal["pending", "delivered"]


class Overdue(BaseModel):
    """count: all of them; items: the oldest, at most 1,000."""

    count: int
    items: list[OverdueItem]


class Anomaly(BaseModel):
    """A number reported again after its operator acked blocked (rereport), or an attestation that does not match."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(examples=["rereport", "attestation_mismatch"])
    at: str
    partner: str
    detail: str


class NumberEventCounts(BaseModel):
    """(1.1) The number events that took effect in the period, and the blocks the hub lifted because of them."""

    disconnected: int = Field(ge=0)
    reassigned: int = Field(ge=0)
    blocks_lifted: int = Field(ge=0)


class ReportBody(BaseModel):
    """The unsigned report; members added by later protocol versions may follow."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: Literal["daily", "monthly", "adhoc"]
    period: ReportPeriod
    generated_at: str
    sla_hours: int
    log_head: dict[str, Any] = Field(description="the signed tree head at the period's end")
    totals: dict[str, Any]
    partners: list[PartnerRow]
    overdue: Overdue
    anomalies: Annotated[list[Anomaly], Field(max_length=1000, description="(1.1) at most 1,000, oldest first")]
    anomaly_count: int | None = Field(
        None, ge=0, description="(1.1) how many anomalies the period has in all; absent in older reports"
    )
    number_events: NumberEventCounts | None = Field(
        None, description="(1.1) section 10's events that took effect in the period; absent in older reports"
    )


class SignedReport(BaseModel):
    """The report of PROTOCOL.md section 8, signed by the hub."""

    report: ReportBody
    signature: Signature


EXAMPLE_REPORT_CSV = (
    "partner,kind,issued,assigned,delivered,acted_blocked,acted_unblocked,acted_rejected,acted_not_applicable,"
    "pending,overdue,within_sla_share,median_hours_to_act,p95_hours_to_act,attestation_as_of,attestation_match,"
    "period_start,period_end\r\n"
    "telkomsel,operator,0,7,7,8,0,0,0,5,0,0.2857,12.307,49.655,2026-11-27T15:00:00Z,true,"
    "2026-11-26T17:00:00Z,2026-11-27T17:00:00Z\r\n"
)

EXAMPLE_SIGNED_REPORT: dict[str, Any] = {
    "report": {
        "id": "6aee2b48-f180-4687-b275-d8bd43835689",
        "kind": "daily",
        "period": {"start": "2026-11-26T17:00:00Z", "end": "2026-11-27T17:00:00Z"},
        "generated_at": "2026-11-27T17:05:00.412Z",
        "sla_hours": 24,
        "log_head": examples.TREE_HEAD,
        "totals": {
            "partners": 1,
            "issued": 0,
            "assigned": 7,
            "delivered": 7,
            "acted": {"blocked": 8, "unblocked": 0, "rejected": 0, "not_applicable": 0},
            "pending": 5,
            "overdue": 1,
            "anomalies": 1,
        },
        "partners": [
            {
                "partner": "telkomsel",
                "kind": "operator",
                "issued": 0,
                "assigned": 7,
                "delivered": 7,
                "acted": {"blocked": 8, "unblocked": 0, "rejected": 0, "not_applicable": 0},
                "pending": 5,
                "overdue": 1,
                "within_sla_share": 0.2857,
                "median_hours_to_act": 12.307,
                "p95_hours_to_act": 49.655,
                "attestation": {"as_of": "2026-11-27T15:00:00Z", "match": True},
            }
        ],
        "overdue": {
            "count": 1,
            "items": [
                {
                    "record_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
                    "partner": "telkomsel",
                    "number": "+6281234567890",
                    "action": "block",
                    "assigned_at": "2026-11-25T10:00:01.250Z",
                    "due_at": "2026-11-26T10:00:01.250Z",
                    "status_at_end": "delivered",
                }
            ],
        },
        "anomalies": [
            {
                "kind": "rereport",
                "at": "2026-11-27T03:12:44.500Z",
                "partner": "telkomsel",
                "number": "+6281234567890",
                "record_id": "3c9a7e52-41d8-4b6f-9e0a-5d2c8b7f1e34",
                "related_record_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
                "detail": "+6281234567890 was reported again while telkomsel's block (acked blocked) was in force",
            }
        ],
        "anomaly_count": 1,
        "number_events": {"disconnected": 2, "reassigned": 1, "blocks_lifted": 1},
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "tangkal-20261128-9a8b7c",
        "value": "C9P5v7i0_UWs3wa5VpY34OX_KQLqRFhN4WJJpTCbHSK2LqHbNytKpuflJ1L8QPE6kQ4JsjC5WmEnWxdqmyBoBg",
    },
}


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
    operation_id="listReports",
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
    summary="A report's per-partner table as CSV",
    tag="reports",
    operation_id="getReportCsv",
    responses={200: "One row per partner with the members of a report's partner rows, and the report's period"},
    response_media="text/csv",
    response_example=EXAMPLE_REPORT_CSV,
    description="Named tangkal-<kind>-<Jakarta period>-<id>.csv (Content-Disposition). The overdue items and "
    "anomalies are in the signed JSON report; `tangkal reports csv --table overdue|anomalies` writes them as CSV.",
)
def report_csv(report_id: str) -> Response:
    row = _get(report_id)
    resp = Response(service.to_csv(row), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{service.csv_filename(row)}"'
    audit.record(current_caller(), count=1, ids=[report_id])  # the per-partner table names no number
    return resp


@bp.get("/v1/reports/<report_id>")
@require("reports:read")
@operation(
    summary="A report, signed",
    tag="reports",
    operation_id="getReport",
    responses={200: SignedReport},
    response_example=EXAMPLE_SIGNED_REPORT,
)
def get_report(report_id: str) -> Response:
    signed = service.envelope(_get(report_id))
    audit.record(current_caller(), count=1, numbers=audit.numbers_in(signed), ids=[report_id])
    return jsonify(signed)


@bp.get("/v1/reports/<report_id>/delivery")
@require("reports:read")
@operation(
    summary="The report's webhook delivery state",
    tag="reports",
    operation_id="getReportDelivery",
    responses={200: DeliveryState},
    response_example={
        "report_id": "6aee2b48-f180-4687-b275-d8bd43835689",
        "url": "https://pengaduan.komdigi.go.id/tangkal/reports",
        "status": "delivered",
        "attempts": 2,
        "last_error": None,
        "next_attempt_at": None,
        "delivered_at": "2026-11-27T17:06:12.031Z",
    },
)
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
    operation_id="createAdhocReport",
    request=AdhocRequest,
    responses={201: SignedReport},
    response_example=EXAMPLE_SIGNED_REPORT,
    request_example={"kind": "adhoc", "start": "2026-11-01T00:00:00Z", "end": "2026-11-15T00:00:00Z"},
)
def make_adhoc() -> tuple[Response, int]:
    body = validate(AdhocRequest, read_json())
    start, end = parse_ts(body.start), parse_ts(body.end)
    if end <= start:
        raise Problem("invalid-request", "end must be after start.")
    latest = clock.now() + ADHOC_AHEAD
    if start < ADHOC_EARLIEST or end > latest:
        raise Problem(
            "invalid-request",
            f"start and end lie between {format_ts(ADHOC_EARLIEST)} and one day past the hub's clock "
            f"({format_ts(latest)}).",
        )
    if end - start > MAX_ADHOC:
        raise Problem("invalid-request", "An ad-hoc period spans at most 400 days.")
    row = service.adhoc(Period("adhoc", start, end))
    signed = service.envelope(row)
    audit.record(current_caller(), count=1, numbers=audit.numbers_in(signed), ids=[row.id])
    return jsonify(signed), 201
