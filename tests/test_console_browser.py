"""The console in a real browser: Debian's Chromium, headless, driven by Playwright for Python.

One demo world per module (``flask --app wsgi demo``, on the session's database), served in a thread
by ``serve(app)`` so the tests move the hub's clock (lockout) as the other tests do. Every test opens
its own browser context (its own cookies) and signs in through the forms as a person would: password,
TOTP enrolment with the key under the QR code, recovery codes.

Runs on SQLite and on PostgreSQL. The first test writes the README's screenshots to docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from babel.numbers import format_decimal
from flask import Flask
from sqlalchemy import func, select

from hub import create_app
from hub.clock import clock_of
from hub.console import accounts
from hub.db import db
from hub.demo import demo_command
from hub.records.anomalies import Anomaly
from hub.records.lifecycle import NumberEvent
from hub.records.models import Assignment, Record
from hub.reports import periods, service
from hub.reports.models import Report
from hub.signing import ensure_key
from tests.conftest import _empty_tables, _overrides
from tests.console_support import PASSWORD
from tests.test_partners_support import serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_DAYS = 21


@pytest.fixture(scope="module")
def hub_app(cleaner: Any, hub_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A hub with the demo world, built once for the module; emptied afterwards as every test's hub is."""
    app = create_app(_overrides(hub_env))
    with app.app_context():
        ensure_key(app)
    app.cli.add_command(demo_command)
    made = app.test_cli_runner().invoke(
        args=["demo", "--days", str(DEMO_DAYS), "--out", str(tmp_path_factory.mktemp("demo"))]
    )
    assert made.exit_code == 0, made.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _empty_tables(cleaner)


@pytest.fixture(scope="module")
def base_url(hub_app: Flask) -> Iterator[str]:
    with serve(hub_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's Chromium is missing: apt-get install -y chromium (.ci/run installs it)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _staff(app: Flask, email: str, role: str = "analyst") -> str:
    with app.app_context():
        accounts.add_user(email, role, PASSWORD)
    return email


def _code(app: Flask, secret: str) -> str:
    return pyotp.TOTP(secret).at(int(clock_of(app).now().timestamp()))


def _password_step(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _enrol(page: Any, app: Flask, email: str) -> str:
    """First sign-in: password, scan (here: read) the key, confirm a code, keep the recovery codes."""
    _password_step(page, email)
    assert page.url.endswith("/console/enrol")
    assert page.locator(".qr svg").count() == 1  # the QR code, drawn on the server
    secret = page.inner_text("#totp-secret").strip()
    page.fill("input[name=code]", _code(app, secret))
    page.click("button[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("a.button")
    return secret


def _n(value: int, lang: str = "id") -> str:
    return format_decimal(value, locale=lang)


def _expected_overview(app: Flask) -> dict[str, int]:
    """Today's and the 30 days' figures counted straight from the rows (the page reads reports and indexes)."""
    with app.app_context():
        now = clock_of(app).now()
        today = periods.jakarta_today(now)
        start = periods.daily(today).start
        first = periods.daily(today - timedelta(days=29)).start
        count = db.session.scalar
        reported = db.session.execute(
            select(Report.period_start, Report.period_end).where(
                Report.kind == "daily", Report.period_start >= first, Report.period_start < start
            )
        ).all()
        # records issued by partners, as the report's ``issued`` counts them: not the hub's own unblocks
        by_partners = Record.issuer != app.config["HUB_ID"]
        in_reported = sum(
            count(
                select(func.count())
                .select_from(Record)
                .where(Record.received_at >= s, Record.received_at < e, by_partners)
            )
            for s, e in reported
        )
        today_records = count(select(func.count()).select_from(Record).where(Record.received_at >= start, by_partners))
        open_ = (Assignment.acted_at.is_(None), Assignment.assigned_at < now)
        return {
            "today_records": today_records,
            "month_records": in_reported + today_records,
            "pending": count(select(func.count()).select_from(Assignment).where(*open_)),
            "overdue": count(
                select(func.count())
                .select_from(Assignment)
                .where(*open_, Assignment.assigned_at < now - timedelta(hours=24))
            ),
        }


def test_enrol_read_every_page_download_switch_language_and_sign_out(page: Any, hub_app: Flask) -> None:
    email = _staff(hub_app, "analis@komdigi.go.id")
    _enrol(page, hub_app, email)

    # Overview, in Indonesian, with the demo world's figures and two charts drawn on the server.
    assert page.url.endswith("/console/")
    assert page.inner_text("h1") == "Ringkasan"
    want = _expected_overview(hub_app)
    assert page.inner_text("#today-records .big") == _n(want["today_records"])
    assert page.inner_text("#month-records .big") == _n(want["month_records"])
    assert page.inner_text("#pending-now .big") == _n(want["pending"])
    assert page.inner_text("#overdue-now .big") == _n(want["overdue"])
    assert want["month_records"] > 100 and want["overdue"] > 0  # a demo world, not an empty hub
    assert page.locator("#chart-flows svg .series rect").count() > 2 * DEMO_DAYS * 0.9  # a bar a day and series
    assert page.locator("#chart-backlog svg .series .dot").count() > 2 * DEMO_DAYS * 0.9  # a point a day
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-overview.png"), full_page=True)

    # League table: the latest daily report's partners, best within-SLA share first, its signature checked.
    page.click("nav >> text=Peringkat mitra")
    rows = page.locator("#league tbody tr")
    with hub_app.app_context():
        latest = db.session.scalars(
            select(Report).where(Report.kind == "daily").order_by(Report.period_start.desc())
        ).first()
        assert latest is not None
        partners = [r for r in service.envelope(latest)["report"]["partners"] if r["kind"] != "ministry"]
    assert rows.count() == len(partners) == 7
    shares = [r["within_sla_share"] for r in partners]
    first = rows.nth(0).locator("td").nth(1).inner_text()
    best = max(partners, key=lambda r: r["within_sla_share"] if r["within_sla_share"] is not None else -1)
    assert best["within_sla_share"] == max(s for s in shares if s is not None)
    assert [r for r in partners if r["partner"] == first][0]["within_sla_share"] == best["within_sla_share"]
    assert "tanda tangan terverifikasi" in page.inner_text("main")
    assert page.locator("#chart-league svg .series rect").count() >= 5
    page.screenshot(path=str(SCREENSHOTS / "console-league.png"), full_page=True)

    # A number's whole history: the one the demo reported again after its operator acked it blocked.
    with hub_app.app_context():
        number = db.session.scalars(select(Anomaly.number).order_by(Anomaly.created_at)).first()
    page.click("nav >> text=Nomor")
    page.fill("input[name=q]", number)
    page.click("form[role=search] button[type=submit]")
    assert page.inner_text("#number") == number
    history = page.locator("#history tbody tr")
    kinds = [history.nth(i).get_attribute("class") for i in range(history.count())]
    assert kinds.count("ev-record") >= 2 and "ev-ack" in kinds and "ev-anomaly" in kinds and "ev-assigned" in kinds
    assert kinds.index("ev-record") == 0  # time order: the first record comes first
    assert page.locator("#history .ok").count() >= kinds.count("ev-record") + kinds.count("ev-ack")
    assert page.locator("#history .bad").count() == 0  # every signature in the demo verifies
    page.screenshot(path=str(SCREENSHOTS / "console-number.png"), full_page=True)

    # A number its operator recycled (issue 13): the operator's lifecycle events in time order, then the
    # hub's own unblocks they caused, each with the verdict on its signature (the hub's key for the hub's).
    with hub_app.app_context():
        recycled = db.session.scalars(
            select(NumberEvent.number).where(NumberEvent.event == "reassigned").order_by(NumberEvent.effective_at)
        ).first()
        hub_id = hub_app.config["HUB_ID"]
        lifted = db.session.scalar(
            select(func.count()).select_from(Record).where(Record.number == recycled, Record.issuer == hub_id)
        )
    assert recycled is not None and lifted >= 1  # the demo recycles blocked numbers
    page.fill("input[name=q]", recycled)
    page.click("form[role=search] button[type=submit]")
    assert page.inner_text("#number") == recycled
    rows = page.locator("#history tbody tr")
    kinds = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
    who = [t.strip() for t in page.locator("#history tbody tr td:nth-child(3)").all_inner_texts()]
    events = page.locator("#history tbody tr.ev-lifecycle")
    assert events.count() == 2
    assert "nomor diputus" in events.nth(0).inner_text() and "nomor dialihkan" in events.nth(1).inner_text()
    assert events.nth(0).locator(".ok").count() == events.nth(1).locator(".ok").count() == 1  # the operator's
    by_hub = [
        i for i, (kind, partner) in enumerate(zip(kinds, who, strict=True)) if (kind, partner) == ("ev-record", hub_id)
    ]
    assert len(by_hub) == lifted
    for i in by_hub:
        assert "buka blokir" in rows.nth(i).inner_text()
        assert rows.nth(i).locator(".ok").inner_text() == "tanda tangan sah"  # verified with the hub's own key
    reassigned = [i for i, kind in enumerate(kinds) if kind == "ev-lifecycle"][1]
    assert reassigned < by_hub[0]  # the reassignment, then the unblocks the hub issued because of it
    assert page.locator("#history .bad").count() == 0

    # Reports: a rendered report whose signature verifies, and its CSV downloaded.
    page.click("nav >> text=Laporan")
    page.locator("#reports tbody tr a").first.click()
    assert "terverifikasi dengan kunci publik hub" in page.inner_text("#verdict")
    with page.expect_download() as caught:
        page.click("#download-csv")
    download = caught.value
    assert download.suggested_filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert table[0] == service.CSV_COLUMNS and len(table) == 1 + 8

    # Overdue items, filtered by partner, and their CSV.
    page.goto("/console/overdue?partner=smartfren")
    assert "smartfren" in page.inner_text("#overdue-count") or page.locator("tbody tr td").count() > 1
    with page.expect_download() as caught:
        page.click("#export-csv")
    rows_csv = list(csv.reader(io.StringIO(Path(caught.value.path()).read_text())))
    assert rows_csv[0][:2] == ["record_id", "partner"] and all(r[1] == "smartfren" for r in rows_csv[1:])

    # Switch language: English, kept for the next page, and back.
    page.goto("/console/")
    page.click("button[name=lang][value=en]")
    assert page.inner_text("h1") == "Overview"
    assert page.inner_text("#pending-now .big") == _n(want["pending"], "en")
    page.click("nav >> text=League table")
    assert page.inner_text("h1") == "League table"
    page.click("button[name=lang][value=id]")
    assert page.inner_text("h1") == "Peringkat mitra"

    # Sign out: the session is over.
    page.click("#logout")
    assert page.url.endswith("/console/login")
    page.goto("/console/")
    assert "/console/login" in page.url


def test_refusals_wrong_password_wrong_code_no_csrf_and_admin_page(page: Any, hub_app: Flask) -> None:
    email = _staff(hub_app, "analis2@komdigi.go.id")
    secret = _enrol(page, hub_app, email)
    page.click("#logout")

    _password_step(page, email, "not the password at all")
    assert "Masuk ditolak" in page.inner_text(".flash.error")
    assert page.url.endswith("/console/login")

    clock_of(hub_app).advance(timedelta(seconds=31))  # a fresh TOTP step
    _password_step(page, email)
    assert page.url.endswith("/console/verify")
    wrong = str((int(_code(hub_app, secret)) + 1) % 1_000_000).zfill(6)
    page.fill("input[name=code]", wrong)
    page.click("button[type=submit]")
    assert "Masuk ditolak" in page.inner_text(".flash.error")
    page.goto("/console/")
    assert "/console/login" in page.url  # still not signed in

    # A POST without the form's CSRF token (the browser's own cookies, no token) is refused.
    answer = page.request.post("/console/login", form={"email": email, "password": PASSWORD})
    assert answer.status == 400 and "token" in answer.text()

    _password_step(page, email)
    page.fill("input[name=code]", _code(hub_app, secret))
    page.click("button[type=submit]")
    assert page.url.endswith("/console/")
    response = page.goto("/console/staff")
    assert response.status == 403 and "khusus administrator" in page.inner_text("main")


def test_lockout_holds_then_the_admin_reads_it_in_the_sign_in_log(page: Any, hub_app: Flask, browser: Any) -> None:
    email = _staff(hub_app, "analis3@komdigi.go.id")
    for _ in range(5):
        _password_step(page, email, "guessing the password")
    assert "dikunci sampai" in page.inner_text(".flash.error")
    _password_step(page, email)  # the right password, still refused
    assert "dikunci sampai" in page.inner_text(".flash.error") and page.url.endswith("/console/login")

    clock_of(hub_app).advance(timedelta(minutes=16))
    _password_step(page, email)
    assert page.url.endswith("/console/enrol")  # the lock is over: on to the first TOTP enrolment

    admin = browser.new_context(base_url=page.url.split("/console")[0]).new_page()
    _enrol(admin, hub_app, _staff(hub_app, "admin@komdigi.go.id", role="admin"))
    admin.goto("/console/staff")
    log = admin.inner_text("#events")
    assert "dikunci" in log and "ditolak: terkunci" in log and email in log
    admin.context.close()
