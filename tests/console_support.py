"""Helpers for the console's tests: staff accounts, CSRF tokens, TOTP codes by the app's clock."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyotp
from flask import Flask

from hub.clock import clock_of
from hub.db import db
from hub.reports import periods, service
from hub.reports.models import Report
from hub.signing import signer
from keys.timefmt import format_ts

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    if found is None:
        raise AssertionError("no CSRF token in the page")
    return found.group(1)


def totp_secret(html: str) -> str:
    found = _SECRET.search(html)
    if found is None:
        raise AssertionError("no TOTP key on the enrolment page")
    return found.group(1)


def code_at(app: Flask, secret: str, offset_steps: int = 0) -> str:
    """The TOTP code for the app's clock now (plus ``offset_steps`` 30-second steps)."""
    return pyotp.TOTP(secret).at(int(clock_of(app).now().timestamp()) + 30 * offset_steps)


def add_staff(app: Flask, email: str, role: str = "analyst", password: str = PASSWORD) -> None:
    from hub.console import accounts

    with app.app_context():
        accounts.add_user(email, role, password)


@dataclass
class Staff:
    email: str
    secret: str
    codes: list[str]


def enrol(app: Flask, client: Any, email: str, password: str = PASSWORD) -> Staff:
    """Sign in for the first time through the console's forms: password, TOTP enrolment, recovery codes."""
    page = client.get("/console/login").get_data(as_text=True)
    resp = client.post("/console/login", data={"csrf_token": csrf_token(page), "email": email, "password": password})
    assert resp.status_code == 302 and resp.location.endswith("/console/enrol"), resp.get_data(as_text=True)
    page = client.get("/console/enrol").get_data(as_text=True)
    secret = totp_secret(page)
    resp = client.post("/console/enrol", data={"csrf_token": csrf_token(page), "code": code_at(app, secret)})
    assert resp.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", resp.get_data(as_text=True))
    assert len(codes) == 10
    return Staff(email, secret, codes)


def signed_daily_reports(today: date, days: int, id_for: Callable[[int], str]) -> str:
    """Yesterday's daily report made by the report service, and signed copies of it for the ``days - 1``
    days before (ids from ``id_for(n)``, n days back): a history of reports without computing each.
    Returns the made report's id. Runs in an app context."""
    made, _ = service.ensure(periods.daily(today - timedelta(days=1)))
    body = service.envelope(made)["report"]
    for n in range(2, days + 1):
        p = periods.daily(today - timedelta(days=n))
        rid = id_for(n)
        copy = {**body, "id": rid, "period": {"start": format_ts(p.start), "end": format_ts(p.end)}}
        envelope = signer().sign("report", copy)
        db.session.add(
            Report(
                id=rid,
                kind="daily",
                period_start=p.start,
                period_end=p.end,
                generated_at=p.end + timedelta(minutes=5),
                period_key=p.key,
                envelope=json.dumps(envelope, separators=(",", ":")),
            )
        )
    db.session.commit()
    return made.id
