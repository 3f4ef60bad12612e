"""APScheduler jobs: daily and monthly reports, caught up at start, and deliveries.

Every hub instance (and every gunicorn worker) runs this scheduler, so a job
must be safe to run twice at once: on PostgreSQL it first takes an advisory
lock (the others skip), and in any case a report's (kind, period) is unique
in the database, so a second run only finds the first one's report.
Missed runs (the hub was down at midnight) are caught up at start and every
hour, for the days since the hub's first partner, at most REPORT_CATCHUP_DAYS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import zlib
from collections.abc import Iterator
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import func, select, text

from hub import clock
from hub.auth.models import Partner, purge_expired
from hub.clock import JAKARTA, clock_of
from hub.db import db
from hub.reports import service, webhook
from hub.reports.periods import Period, completed_days, completed_months

log = logging.getLogger(__name__)

EXTENSION = "tangkal.scheduler"
REPORTS_LOCK = zlib.crc32(b"tangkal:reports")
DELIVERY_LOCK = zlib.crc32(b"tangkal:deliveries")


@contextlib.contextmanager
def job_lock(key: int) -> Iterator[bool]:
    """A PostgreSQL advisory lock held for the job; SQLite runs one process."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def due_periods(now: datetime, catchup_days: int) -> list[Period]:
    """Completed days and months not older than the hub's first partner."""
    first = db.session.scalar(select(func.min(Partner.created_at)))
    if first is None:
        return []
    months = max(1, catchup_days // 28 + 1)
    periods = completed_days(now, catchup_days) + completed_months(now, months)
    return [p for p in periods if p.end > first]


def run_reports(app: Flask, now: datetime | None = None) -> list[str]:
    """Make every due report that is missing; returns the ids this run made."""
    made: list[str] = []
    with app.app_context():
        with job_lock(REPORTS_LOCK) as got:
            if got:
                for p in due_periods(now or clock.now(), int(app.config.get("REPORT_CATCHUP_DAYS", 7))):
                    row, created = service.ensure(p)
                    if created:
                        made.append(row.id)
                        log.info("%s report %s made for %s", p.kind, row.id, p.start)
        db.session.remove()
    log.info(
        "report job done in process %d: %d made%s", os.getpid(), len(made), "" if got else " (lock held elsewhere)"
    )
    return made


def run_purge(app: Flask) -> int:
    with app.app_context():
        n = purge_expired(clock.now())
        db.session.remove()
    return n


def run_deliveries(app: Flask) -> None:
    with app.app_context():
        with job_lock(DELIVERY_LOCK) as got:
            if got:
                webhook.deliver_due()
        db.session.remove()


def start(app: Flask) -> BackgroundScheduler:
    """Start this process's scheduler: catch up now, then hourly; deliveries every 30 s."""
    scheduler = BackgroundScheduler(timezone=JAKARTA)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    scheduler.add_job(run_reports, CronTrigger(minute=5, timezone=JAKARTA), args=[app], id="reports", **common)
    scheduler.add_job(run_reports, args=[app], id="reports-catchup", next_run_time=clock_of(app).now(), **common)
    scheduler.add_job(run_deliveries, IntervalTrigger(seconds=30), args=[app], id="deliveries", **common)
    scheduler.add_job(run_purge, IntervalTrigger(hours=1), args=[app], id="purge", **common)
    scheduler.start()
    app.extensions[EXTENSION] = scheduler
    log.info("report scheduler started in process %d", os.getpid())
    return scheduler


def running(app: Flask) -> bool:
    """Whether this process started the scheduler for ``app``."""
    found = app.extensions.get(EXTENSION)
    return isinstance(found, BackgroundScheduler) and found.running
