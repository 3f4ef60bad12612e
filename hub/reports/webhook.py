"""Delivering reports to ``MINISTRY_WEBHOOK_URL`` from the durable outbox.

Each due delivery is claimed with a conditional UPDATE (only one instance
wins it for the next minute), POSTed as the signed report, and either marked
delivered on a 2xx or given its next attempt with exponential back-off
(30 s doubling, at most an hour). Nothing is lost if the hub stops: the
outbox row waits in the database.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from sqlalchemy import or_, select, update

from hub import clock
from hub.db import db, rows_changed
from hub.reports.models import Delivery, Report

log = logging.getLogger(__name__)

CLAIM = timedelta(seconds=60)
BASE_DELAY = 30.0
MAX_DELAY = 3600.0
TIMEOUT = 15.0


def backoff(attempts: int, base: float = BASE_DELAY) -> timedelta:
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), MAX_DELAY))


def _claim(delivery_id: int) -> bool:
    now = clock.now()
    won = rows_changed(
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == "pending",
                or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM)
        )
    )
    db.session.commit()
    return won == 1


def deliver_due(base_delay: float = BASE_DELAY, limit: int = 20) -> int:
    """POST every due delivery once; returns how many were taken."""
    now = clock.now()
    due = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    taken = 0
    for delivery_id in due:
        if not _claim(delivery_id):
            continue
        delivery = db.session.get(Delivery, delivery_id)
        report = db.session.get(Report, delivery.report_id) if delivery else None
        if delivery is None or report is None:
            continue
        error: str | None = None
        try:
            resp = requests.post(
                delivery.url,
                data=report.envelope.encode(),
                timeout=TIMEOUT,
                headers={"Content-Type": "application/json", "X-Tangkal-Report": report.id},
            )
            if not 200 <= resp.status_code < 300:
                error = f"HTTP {resp.status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        delivery.attempts += 1
        delivery.claimed_until = None
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", clock.now(), None
            taken += 1
            log.info("report %s delivered to the ministry after %d attempt(s)", report.id, delivery.attempts)
        else:
            delivery.last_error = error
            delivery.next_attempt_at = clock.now() + backoff(delivery.attempts, base_delay)
            log.warning("report %s delivery failed (%s); retry at %s", report.id, error, delivery.next_attempt_at)
        db.session.commit()
    return taken
