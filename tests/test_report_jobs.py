"""Report jobs: two schedulers, one report per period; the webhook outbox."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from keys.verify import verify_signed
from tests.support import LiveHub, bearer

pytestmark = pytest.mark.slow


def _backdate_partners(app, days: int) -> None:
    from hub.db import db

    with app.app_context():
        dialect = db.engine.dialect.name
        expr = (
            f"created_at - interval '{days} days'"
            if dialect == "postgresql"
            else f"datetime(created_at, '-{days} days')"
        )
        db.session.execute(text(f"UPDATE partners SET created_at = {expr}"))
        db.session.commit()


def _reports(app) -> list[tuple[str, str]]:
    from hub.db import db
    from hub.reports.models import Report

    with app.app_context():
        db.session.expire_all()
        return sorted((r.kind, r.period_key or "") for r in db.session.query(Report).all())


def test_two_scheduler_processes_make_one_report_per_period(app, register, hub_env):
    register("kominfo", "ministry")
    _backdate_partners(app, 4)
    env = {**hub_env, "REPORT_CATCHUP_DAYS": "3", "HUB_URL": "http://hub.test", "LOG_LEVEL": "INFO"}
    hubs = [LiveHub(env, workers=2, scheduler=True), LiveHub(env, workers=2, scheduler=True)]
    try:
        # every worker's catch-up job has run (made its reports, found them made, or found the lock taken)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(Path(h.log.name).read_text().count("report job done") for h in hubs) >= 4:
                break
            time.sleep(0.2)
        got = _reports(app)
    finally:
        for h in hubs:
            h.stop()
    daily = [key for kind, key in got if kind == "daily"]
    assert len(daily) == 3 and len(set(daily)) == 3, got
    assert len(got) == len(set(got)), f"a period was stored twice: {got}"


def test_scheduler_job_run_twice_at_once_makes_one_report(app, make_app, register):
    register("kominfo", "ministry")
    _backdate_partners(app, 3)
    from hub.reports.scheduler import run_reports

    apps = [make_app(REPORT_CATCHUP_DAYS=2), make_app(REPORT_CATCHUP_DAYS=2)]
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda a=a: results.append(run_reports(a))) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [rid for r in results for rid in r]
    stored = [k for k, _ in _reports(app)]
    assert stored.count("daily") == 2
    assert len(made) == len(stored)
    assert run_reports(apps[0]) == []  # nothing left to do


class _FlakyReceiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []
    calls = 0

    def do_POST(self) -> None:  # noqa: N802
        cls = type(self)
        cls.calls += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if cls.calls <= 2:
            self.send_response(503)
            self.end_headers()
            return
        cls.bodies.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_fails_twice_then_delivers_exactly_once(make_app, register, token):
    server = HTTPServer(("127.0.0.1", 0), _FlakyReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/reports"
    try:
        app = make_app(MINISTRY_WEBHOOK_URL=url)
        client = app.test_client()
        kom = register("kominfo", "ministry")
        auth = bearer(token(kom))
        made = client.post(
            "/v1/reports",
            json={"kind": "adhoc", "start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
            headers=auth,
        )
        assert made.status_code == 201, made.get_data(as_text=True)
        report_id = made.get_json()["report"]["id"]
        state = client.get(f"/v1/reports/{report_id}/delivery", headers=auth).get_json()
        assert state["status"] == "pending" and state["attempts"] == 0
        from hub.reports import webhook

        with app.app_context():
            for _ in range(6):
                webhook.deliver_due(base_delay=0)
        state = client.get(f"/v1/reports/{report_id}/delivery", headers=auth).get_json()
        assert state["status"] == "delivered" and state["attempts"] == 3 and state["delivered_at"]
        assert _FlakyReceiver.calls == 3 and len(_FlakyReceiver.bodies) == 1
        jwks = client.get("/.well-known/jwks.json").get_json()
        delivered = verify_signed(json.loads(_FlakyReceiver.bodies[0]), "report", jwks)
        assert delivered["id"] == report_id
    finally:
        server.shutdown()


def test_backoff_grows_and_is_capped():
    from hub.reports.webhook import backoff

    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30).total_seconds() == 3600


def test_failed_delivery_waits_for_its_next_attempt(make_app, register, token):
    app = make_app(MINISTRY_WEBHOOK_URL="http://127.0.0.1:9/unreachable")
    client = app.test_client()
    kom = register("kominfo", "ministry")
    auth = bearer(token(kom))
    rid = client.post(
        "/v1/reports",
        json={"kind": "adhoc", "start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
        headers=auth,
    ).get_json()["report"]["id"]
    from hub.reports import webhook

    with app.app_context():
        assert webhook.deliver_due() == 0
        assert webhook.deliver_due() == 0  # not due again for 30 s
    state = client.get(f"/v1/reports/{rid}/delivery", headers=auth).get_json()
    assert state["status"] == "pending" and state["attempts"] == 1 and state["last_error"]
