"""Making and storing reports: once per (kind, period), however many try.

``ensure`` is what the scheduler, the CLI and the catch-up all call. The
``period_key`` column is unique, so when two hub instances race for the same
day the database keeps one and the loser reads the winner's report back.
A new report and its webhook delivery are written in one transaction (an
outbox), so a report is never stored without its delivery being owed.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from hub import clock
from hub.db import db
from hub.reports import compute
from hub.reports.models import Delivery, Report
from hub.reports.periods import Period
from hub.signing import signer
from keys.timefmt import jakarta_period

CSV_COLUMNS = [
    "partner",
    "kind",
    "issued",
    "assigned",
    "delivered",
    "acted_blocked",
    "acted_unblocked",
    "acted_rejected",
    "acted_not_applicable",
    "pending",
    "overdue",
    "within_sla_share",
    "median_hours_to_act",
    "p95_hours_to_act",
    "attestation_as_of",
    "attestation_match",
    "period_start",
    "period_end",
]


def _store(p: Period) -> Report:
    now = clock.now()
    report_id = str(uuid.uuid4())
    body = compute.body(report_id, p, int(current_app.config["SLA_HOURS"]), now)
    envelope = signer().sign("report", body)
    row = Report(
        id=report_id,
        kind=p.kind,
        period_start=p.start,
        period_end=p.end,
        generated_at=now,
        period_key=p.key,
        envelope=json.dumps(envelope, separators=(",", ":")),
    )
    db.session.add(row)
    db.session.flush()  # the report row before its delivery (foreign key)
    url = current_app.config.get("MINISTRY_WEBHOOK_URL")
    if url:
        db.session.add(
            Delivery(report_id=report_id, url=url, status="pending", attempts=0, next_attempt_at=now, created_at=now)
        )
    db.session.commit()
    return row


def find(p: Period) -> Report | None:
    if p.key is None:
        return None
    return db.session.scalars(select(Report).where(Report.period_key == p.key)).first()


def ensure(p: Period) -> tuple[Report, bool]:
    """The report of ``p``, made now if there is none; ``True`` when this call made it."""
    existing = find(p)
    if existing is not None:
        return existing, False
    try:
        return _store(p), True
    except IntegrityError:
        db.session.rollback()
        winner = find(p)
        if winner is None:
            raise
        return winner, False


def adhoc(p: Period) -> Report:
    return _store(p)


def envelope(row: Report) -> dict[str, Any]:
    signed: dict[str, Any] = json.loads(row.envelope)
    return signed


def to_csv(row: Report) -> str:
    """One row per partner, with a header: the columns of PROTOCOL.md section 8, then the report's period.

    ``period_start`` and ``period_end`` (UTC, as in the JSON) repeat on every
    row so that the CSVs of many days can be concatenated into one sheet.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    report = envelope(row)["report"]
    for r in report["partners"]:
        att = r["attestation"] or {}
        flat = {**r, **{f"acted_{k}": v for k, v in r["acted"].items()}}
        flat["attestation_as_of"] = att.get("as_of", "")
        flat["attestation_match"] = "" if not att else str(att["match"]).lower()
        flat["period_start"], flat["period_end"] = report["period"]["start"], report["period"]["end"]
        writer.writerow(["" if flat.get(c) is None else flat[c] for c in CSV_COLUMNS])
    return out.getvalue()


def daily_totals(since: datetime, until: datetime) -> dict[datetime, dict[str, Any]]:
    """The ``totals`` of the stored daily reports whose periods start in ``[since, until)``, by period start.

    The member is taken out of the signed JSON by the database (``json_extract`` on SQLite, ``jsonb`` on
    PostgreSQL), so a month of reports costs a month of small rows, not a month of whole reports parsed here.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        member = func.jsonb_extract_path_text(cast(Report.envelope, JSONB), "report", "totals")
    else:
        member = func.json_extract(Report.envelope, "$.report.totals")
    rows = db.session.execute(
        select(Report.period_start, member)
        .where(Report.kind == "daily", Report.period_start >= since, Report.period_start < until)
        .order_by(Report.period_start)
    )
    return {start: json.loads(text) for start, text in rows if text is not None}


def csv_filename(row: Report) -> str:
    """``tangkal-<kind>-<Jakarta period>-<id>.csv``."""
    return f"tangkal-{row.kind}-{jakarta_period(row.kind, row.period_start, row.period_end)}-{row.id}.csv"
