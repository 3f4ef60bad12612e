"""``GET /v1/audit``: the ministry reads who read what (scope ``audit:read``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hub.api import query_model
from hub.auth.protect import require
from hub.openapi import operation
from hub.records.numbers import check_e164
from keys.timefmt import format_ts, parse_ts

from . import service
from .schemas import EXAMPLE_AUDIT_PAGE, AuditPage, AuditQuery

bp = Blueprint("audit", __name__)


@bp.get("/v1/audit")
@require("audit:read")
@operation(
    summary="The audit trail: every read of partner data, oldest first",
    tag="audit",
    operation_id="getAuditTrail",
    query=AuditQuery,
    responses={200: AuditPage},
    response_example=EXAMPLE_AUDIT_PAGE,
    description="Every pull, look-up, hash-range query, record fetch, log read, report read and CSV download, "
    "one row each, written before the answer left the hub. Filters combine. Page from after=0 and continue "
    "from next_after: ids are given in commit order, so every row arrives exactly once. "
    "A hash-range query is recorded by its prefix, never a number.",
)
def audit_trail() -> Response:
    q = query_model(AuditQuery)
    number = check_e164(q.number).e164 if q.number is not None else None
    since = parse_ts(q.since) if q.since is not None else None
    items, next_after = service.page(after=q.after, limit=q.limit, partner=q.partner, since=since, number=number)
    return jsonify(
        {
            "items": [
                {
                    "id": r.id,
                    "at": format_ts(r.at),
                    "partner": r.partner,
                    "endpoint": r.endpoint,
                    "numbers": r.numbers,
                    "ids": r.ids,
                    "count": r.count,
                }
                for r in items
            ],
            "next_after": next_after,
        }
    )
