"""What the console's pages show, from the queries the API and the reports use.

Nothing here counts on its own: past days are the stored, signed daily
reports (their ``totals``, taken out in the database), today and "now" are
the report's own queries for a period ending now
(:func:`hub.reports.compute.flow`, :func:`~hub.reports.compute.open_now`,
:func:`~hub.reports.compute.overdue_now`), the league table is a report's
partner rows, a number is the records' look-ups. Each is an index range
read; none scans a table.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub import admin
from hub.auth.models import OAuthClient
from hub.db import db
from hub.ledger import log
from hub.reports import compute, periods, service
from hub.reports.models import Report
from hub.reports.periods import Period
from hub.signing import published_jwks
from keys.errors import SigningError
from keys.verify import verify_signed
from keys.wire import OUTCOMES

DAYS = 30


def overview(now: datetime, sla_hours: int) -> dict[str, Any]:
    """Today so far (live) and the 30 Jakarta days ending today: the 29 before it from their daily reports."""
    today = periods.jakarta_today(now)
    today_start = periods.daily(today).start
    live = compute.flow(Period("adhoc", today_start, now))
    by_partner = compute.open_now(now, sla_hours)
    pending = sum(v["pending"] for v in by_partner.values())
    overdue = sum(v["overdue"] for v in by_partner.values())
    first = today - timedelta(days=DAYS - 1)
    reported = service.daily_totals(periods.daily(first).start, today_start)
    days: list[dict[str, Any]] = []
    for n in range(DAYS - 1):
        day = first + timedelta(days=n)
        days.append({"day": day, "totals": reported.get(periods.daily(day).start), "live": False})
    today_totals = {"issued": live["issued"], "acted": live["acted"], "pending": pending, "overdue": overdue}
    days.append({"day": today, "totals": today_totals, "live": True})
    known = [d["totals"] for d in days if d["totals"] is not None]
    return {
        "now": now,
        "today": today,
        "today_totals": today_totals,
        "open_by_partner": by_partner,
        "days": days,
        "missing": [d["day"] for d in days if d["totals"] is None],
        "last30": {
            "issued": sum(int(t["issued"]) for t in known),
            "acted": {o: sum(int(t["acted"].get(o, 0)) for t in known) for o in OUTCOMES},
        },
    }


#: verdicts on stored reports' signatures, by (the stored text's SHA-256, the published key set's)
_VERDICTS: dict[tuple[str, str], bool] = {}
_VERDICTS_KEPT = 1000


def verify_report(report: Report, envelope: dict[str, Any]) -> bool:
    """Does the report's signature verify with the hub's published keys (what a reader of the JWKS checks)?

    A stored report never changes, but its JCS form takes hundreds of milliseconds of Python for a
    report listing 1,000 overdue items: the verdict is kept per exact stored text and published key set, so a
    report is checked once however often the league table shows it, and again if either changes.
    """
    keys = published_jwks()
    fingerprint = hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()
    key = (hashlib.sha256(report.envelope.encode()).hexdigest(), fingerprint)
    if key not in _VERDICTS:
        try:
            verify_signed(envelope, "report", keys)
            verdict = True
        except SigningError:
            verdict = False
        if len(_VERDICTS) >= _VERDICTS_KEPT:
            _VERDICTS.clear()
        _VERDICTS[key] = verdict
    return _VERDICTS[key]


def recent_reports(limit: int = 60) -> list[Report]:
    return list(
        db.session.scalars(select(Report).order_by(Report.period_start.desc(), Report.generated_at.desc()).limit(limit))
    )


def league(report: Report, now: datetime, sla_hours: int) -> dict[str, Any]:
    """The report's partners that must act, best within-SLA share first (then the shorter p95)."""
    envelope = service.envelope(report)
    body = envelope["report"]
    rows = [dict(r) for r in body["partners"] if r["kind"] != "ministry"]
    rows.sort(
        key=lambda r: (
            r["within_sla_share"] is None,
            -(r["within_sla_share"] or 0.0),
            r["p95_hours_to_act"] if r["p95_hours_to_act"] is not None else float("inf"),
            r["partner"],
        )
    )
    open_ = compute.open_now(now, sla_hours)
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
        r["overdue_now"] = open_.get(r["partner"], {}).get("overdue", 0)
    return {"report": report, "body": body, "rows": rows, "verified": verify_report(report, envelope)}


def partners(now: datetime, sla_hours: int) -> dict[str, Any]:
    rows = admin.list_partners()
    disabled = set(db.session.scalars(select(OAuthClient.partner_id).where(OAuthClient.disabled.is_(True))))
    open_ = compute.open_now(now, sla_hours)
    for r in rows:
        r["disabled"] = r["id"] in disabled
        r["open"] = open_.get(r["id"], {"pending": 0, "overdue": 0})
    head = log.signed_head()
    try:
        verify_signed(head, "tree_head", published_jwks())
        head_ok = True
    except SigningError:
        head_ok = False
    return {"partners": rows, "head": head, "head_verified": head_ok}
