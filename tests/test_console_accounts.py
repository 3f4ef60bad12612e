"""The console's staff accounts: the user CLI, signing in with a password and TOTP, recovery codes,
lockout, idle expiry, roles, the session cookie, and the sign-in log that records all of it.

Through the Flask test client; time moves with the app's clock (the ``clock`` fixture), never by sleeping.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.console import accounts
from hub.console.models import StaffEvent, StaffUser
from hub.db import db
from tests.console_support import PASSWORD, add_staff, code_at, csrf_token, enrol


def _events(app, email=None):
    with app.app_context():
        stmt = select(StaffEvent.kind, StaffEvent.detail).order_by(StaffEvent.id)
        if email:
            stmt = stmt.where(StaffEvent.email == email)
        return [(k, d) for k, d in db.session.execute(stmt)]


def _login_form(client, email, password):
    page = client.get("/console/login").get_data(as_text=True)
    return client.post("/console/login", data={"csrf_token": csrf_token(page), "email": email, "password": password})


def _second_factor(client, code):
    page = client.get("/console/verify").get_data(as_text=True)
    return client.post("/console/verify", data={"csrf_token": csrf_token(page), "code": code})


def _signed_in(client) -> bool:
    return client.get("/console/").status_code == 200


def test_user_cli_add_disable_enable_reset_password_and_list(app):
    runner = app.test_cli_runner()

    def run(*args, stdin=None):
        return runner.invoke(args=["user", *args], input=stdin)

    made = run("add", "Analis@Komdigi.go.id", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert "analis@komdigi.go.id (analyst) created" in made.output
    # typed twice at a hidden prompt when not from stdin
    prompted = run("add", "admin@komdigi.go.id", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    with app.app_context():
        user = db.session.scalars(select(StaffUser).where(StaffUser.email == "analis@komdigi.go.id")).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert user.totp_secret is None  # enrolled at the first sign-in
        token = user.session_token

    for args, stdin, message in (
        (("add", "analis@komdigi.go.id", "--role", "analyst", "--password-stdin"), PASSWORD, "exists"),
        (("add", "x@komdigi.go.id", "--role", "analyst", "--password-stdin"), "short", "at least 12"),
        (("add", "not-an-email", "--role", "analyst", "--password-stdin"), PASSWORD, "not an email"),
        (("add", "y@komdigi.go.id", "--role", "root", "--password-stdin"), PASSWORD, "Invalid value"),
        (("disable", "nobody@komdigi.go.id"), None, "no staff account"),
    ):
        res = run(*args, stdin=(stdin + "\n") if stdin else None)
        assert res.exit_code != 0 and message in res.output, res.output
        assert "Traceback" not in res.output

    assert run("disable", "analis@komdigi.go.id").exit_code == 0
    listed = run("list").output
    assert "analis@komdigi.go.id" in listed and "disabled" in listed and "admin@komdigi.go.id" in listed
    assert run("enable", "analis@komdigi.go.id").exit_code == 0
    reset = run("reset-password", "analis@komdigi.go.id", "--password-stdin", stdin="another long password\n")
    assert reset.exit_code == 0, reset.output
    with app.app_context():
        user = db.session.scalars(select(StaffUser).where(StaffUser.email == "analis@komdigi.go.id")).one()
        assert user.session_token != token  # every session of the account ended
        assert accounts.check_password("analis@komdigi.go.id", "another long password", None) == user


def test_first_sign_in_enrols_totp_shows_recovery_codes_once_and_records_it(app, client):
    add_staff(app, "analis@komdigi.go.id")
    assert client.get("/console/").status_code == 302  # not signed in
    staff = enrol(app, client, "analis@komdigi.go.id")
    page = client.get("/console/")
    assert page.status_code == 200 and "Ringkasan" in page.get_data(as_text=True)  # Indonesian by default
    # The codes were shown in that one answer: the enrolment page is gone and nothing shows them again.
    assert client.get("/console/enrol").status_code == 302
    assert all(c not in client.get("/console/").get_data(as_text=True) for c in staff.codes)
    with app.app_context():
        user = db.session.scalars(select(StaffUser)).one()
        assert user.totp_secret == staff.secret
    assert [k for k, _ in _events(app)] == ["enrolled", "login"]


def test_wrong_password_wrong_code_and_missing_csrf_are_refused_and_recorded(app, make_app, clock):
    add_staff(app, "analis@komdigi.go.id")
    staff = enrol(app, app.test_client(), "analis@komdigi.go.id")
    client = app.test_client()

    wrong = _login_form(client, "analis@komdigi.go.id", "not the password")
    assert wrong.status_code == 200 and "Masuk ditolak" in wrong.get_data(as_text=True)
    assert client.get("/console/verify").status_code == 302 and not _signed_in(client)
    _login_form(client, "nobody@komdigi.go.id", PASSWORD)

    clock.advance(timedelta(seconds=60))  # a fresh TOTP step (the enrolment used the last one)
    assert _login_form(client, "analis@komdigi.go.id", PASSWORD).status_code == 302
    bad_code = str((int(code_at(app, staff.secret)) + 1) % 1_000_000).zfill(6)
    refused = _second_factor(client, bad_code)
    assert "Masuk ditolak" in refused.get_data(as_text=True) and not _signed_in(client)

    # A form without its CSRF token is refused before anything is checked or recorded.
    before = len(_events(app))
    no_token = client.post("/console/login", data={"email": "analis@komdigi.go.id", "password": PASSWORD})
    assert no_token.status_code == 400 and "token" in no_token.get_data(as_text=True)
    assert len(_events(app)) == before

    assert _second_factor(client, code_at(app, staff.secret)).status_code == 302
    assert _signed_in(client)
    logout = client.post("/console/logout", data={})  # no token: refused, still signed in
    assert logout.status_code == 400 and _signed_in(client)

    assert _events(app)[2:] == [
        ("failure", "wrong password"),
        ("failure", "unknown account"),
        ("failure", "wrong TOTP or recovery code"),
        ("login", None),
    ]
    with app.app_context():
        unknown = db.session.scalars(select(StaffEvent).where(StaffEvent.email == "nobody@komdigi.go.id")).one()
        assert unknown.user_id is None and unknown.address == "127.0.0.1"


def test_lockout_holds_whatever_the_password_until_it_expires(app, client, clock):
    add_staff(app, "analis@komdigi.go.id")
    staff = enrol(app, app.test_client(), "analis@komdigi.go.id")
    clock.advance(timedelta(seconds=60))
    assert app.config["CONSOLE_LOCKOUT_FAILURES"] == 5
    for _ in range(4):
        _login_form(client, "analis@komdigi.go.id", "wrong password!")
    # the fifth failure is a wrong TOTP code after a right password: failures of either step count
    assert _login_form(client, "analis@komdigi.go.id", PASSWORD).status_code == 302
    locked = _second_factor(client, "000000")
    assert locked.status_code == 302 and locked.location.endswith("/console/login")
    assert "dikunci sampai" in client.get("/console/login").get_data(as_text=True)

    held = _login_form(client, "analis@komdigi.go.id", PASSWORD)  # the right password changes nothing
    assert held.status_code == 200 and "dikunci sampai" in held.get_data(as_text=True)
    clock.advance(timedelta(minutes=14))
    assert _login_form(client, "analis@komdigi.go.id", PASSWORD).status_code == 200

    clock.advance(timedelta(minutes=2))  # 16 minutes: the lock is over
    assert _login_form(client, "analis@komdigi.go.id", PASSWORD).status_code == 302
    assert _second_factor(client, code_at(app, staff.secret)).status_code == 302 and _signed_in(client)
    kinds = [k for k, _ in _events(app)]
    assert kinds[2:] == ["failure"] * 4 + ["lockout", "locked", "locked", "login"]


def test_a_totp_code_works_once_and_each_recovery_code_once(app, clock):
    add_staff(app, "analis@komdigi.go.id")
    staff = enrol(app, app.test_client(), "analis@komdigi.go.id")
    clock.advance(timedelta(seconds=60))
    first, second = app.test_client(), app.test_client()
    code = code_at(app, staff.secret)
    _login_form(first, "analis@komdigi.go.id", PASSWORD)
    assert _second_factor(first, code).status_code == 302 and _signed_in(first)
    _login_form(second, "analis@komdigi.go.id", PASSWORD)
    assert "Masuk ditolak" in _second_factor(second, code).get_data(as_text=True)  # replayed
    assert _second_factor(second, staff.codes[0].upper()).status_code == 302 and _signed_in(second)

    third = app.test_client()
    _login_form(third, "analis@komdigi.go.id", PASSWORD)
    assert "Masuk ditolak" in _second_factor(third, staff.codes[0]).get_data(as_text=True)  # spent
    details = [d for k, d in _events(app) if k in ("recovery_code", "failure")]
    assert details == ["TOTP code used before", "9 recovery codes left", "wrong TOTP or recovery code"]


def test_an_analyst_may_not_open_admin_pages(app):
    add_staff(app, "analis@komdigi.go.id")
    add_staff(app, "admin@komdigi.go.id", role="admin")
    analyst, admin = app.test_client(), app.test_client()
    enrol(app, analyst, "analis@komdigi.go.id")
    enrol(app, admin, "admin@komdigi.go.id")
    refused = analyst.get("/console/staff")
    assert refused.status_code == 403 and "khusus administrator" in refused.get_data(as_text=True)
    assert "/console/staff" not in analyst.get("/console/").get_data(as_text=True)  # not offered either
    page = admin.get("/console/staff")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("analis@komdigi.go.id") >= 3  # the account and its events


def test_a_session_ends_after_idle_time_by_the_hub_clock(app, client, clock):
    add_staff(app, "analis@komdigi.go.id")
    enrol(app, client, "analis@komdigi.go.id")
    assert app.config["CONSOLE_IDLE_MINUTES"] == 30
    clock.advance(timedelta(minutes=29))
    assert _signed_in(client)  # and that use counts as activity
    clock.advance(timedelta(minutes=29))
    assert _signed_in(client)
    clock.advance(timedelta(minutes=31))
    gone = client.get("/console/")
    assert gone.status_code == 302 and "/console/login" in gone.location
    assert "lama tidak digunakan" in client.get("/console/login").get_data(as_text=True)
    assert not _signed_in(client)
    assert [k for k, _ in _events(app)][-1] == "expired"


def test_a_session_ends_at_its_maximum_age_even_when_used(app, client, clock):
    add_staff(app, "analis@komdigi.go.id")
    enrol(app, client, "analis@komdigi.go.id")
    for _ in range(12 * 3):  # used every 20 minutes for 12 hours
        clock.advance(timedelta(minutes=20))
        if not _signed_in(client):
            break
    assert not _signed_in(client)
    assert [k for k, _ in _events(app)][-1] == "expired"


def test_disabling_an_account_ends_its_session_at_once(app, client):
    add_staff(app, "analis@komdigi.go.id")
    enrol(app, client, "analis@komdigi.go.id")
    with app.app_context():
        accounts.set_disabled("analis@komdigi.go.id", True)
    assert not _signed_in(client)
    assert _login_form(client, "analis@komdigi.go.id", PASSWORD).status_code == 200
    assert _events(app)[-1][0] == "disabled"


@pytest.mark.parametrize(
    ("extra", "secure"),
    [({}, False), ({"HUB_URL": "https://hub.example"}, True), ({"CONSOLE_SECURE_COOKIES": True}, True)],
)
def test_the_session_cookie_is_httponly_samesite_and_secure_on_https(make_app, extra, secure):
    app = make_app(**extra)
    add_staff(app, "analis@komdigi.go.id")
    client = app.test_client()
    # the hub's own host (a hub without HUB_URL refuses others: hub.origin), over https where secure
    host = "hub.example" if "HUB_URL" in extra else "localhost"
    resp = client.get("/console/login", base_url=f"{'https' if secure else 'http'}://{host}")
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("tangkal_console=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert ("Secure" in cookie) is secure
    # the API never gets (or sets) the console's cookie
    assert "Set-Cookie" not in client.get("/healthz").headers
