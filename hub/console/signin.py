"""Signing in: password, then the second factor (TOTP, enrolled at the first sign-in), and out again.

Between the two steps the session holds only which account passed the
password and when (for ``PENDING_SECONDS``); the account is signed in
(Flask-Login) only after the second factor. Every step's refusal is
recorded by :mod:`hub.console.accounts`.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from hub import clock
from hub.console import accounts
from hub.console import models as m
from hub.console.blueprint import bp, client_address, end_session
from hub.console.forms import CodeForm, LoginForm
from hub.console.i18n import wib
from hub.console.settings import LANGUAGES
from hub.db import db

PENDING_SECONDS = 300


def safe_next(target: str | None) -> str | None:
    """Only a path inside the console: never another site, never a scheme-relative URL."""
    if not target or not target.startswith("/console") or target.startswith("//") or "\\" in target:
        return None
    return target


def _refusal(result: accounts.Refused) -> None:
    if result.locked_until is not None:
        session.pop("pending", None)
        flash(
            _(
                "Too many failed attempts: this account is locked until %(time)s. "
                "An administrator can lift the lock with user reset-password.",
                time=wib(result.locked_until),
            ),
            "error",
        )
    else:
        flash(_("Sign-in refused: the email, password or code is wrong."), "error")


def _pending() -> m.StaffUser | None:
    found: Any = session.get("pending")
    if not isinstance(found, dict) or clock.now().timestamp() - float(found.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    user = db.session.get(m.StaffUser, int(found["uid"]))
    return user if user is not None and not user.disabled else None


def _start_session(user: m.StaffUser) -> None:
    session.pop("pending", None)
    session.pop("enrol_secret", None)
    login_user(user)
    now = clock.now().timestamp()
    session["since"] = session["seen"] = now
    session.permanent = True


def _after_login() -> WerkzeugResponse:
    return redirect(safe_next(session.pop("next", None)) or url_for("console.overview"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("console.overview"))
    if request.method == "GET" and safe_next(request.args.get("next")):
        session["next"] = request.args["next"]
    form = LoginForm()
    if form.validate_on_submit():
        result = accounts.check_password(form.email.data or "", form.password.data or "", client_address())
        if isinstance(result, accounts.Refused):
            _refusal(result)
        else:
            session["pending"] = {"uid": result.id, "at": clock.now().timestamp()}
            return redirect(url_for("console.enrol" if result.totp_secret is None else "console.verify"))
    return render_template("console/login.html", form=form)


@bp.route("/verify", methods=["GET", "POST"])
def verify() -> Any:
    user = _pending()
    if user is None:
        return redirect(url_for("console.login"))
    if user.totp_secret is None:
        return redirect(url_for("console.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        result = accounts.check_second_factor(user.id, form.code.data or "", client_address())
        if isinstance(result, accounts.Refused):
            _refusal(result)
            if result.locked_until is not None:
                return redirect(url_for("console.login"))
        else:
            _start_session(result)
            return _after_login()
    return render_template("console/verify.html", form=form, email=user.email)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    user = _pending()
    if user is None:
        return redirect(url_for("console.login"))
    if user.totp_secret is not None:
        return redirect(url_for("console.verify"))
    secret = session.get("enrol_secret")
    if not isinstance(secret, str):
        secret = session["enrol_secret"] = accounts.new_totp_secret()
    form = CodeForm()
    if form.validate_on_submit():
        result = accounts.enrol(user.id, secret, form.code.data or "", client_address())
        if isinstance(result, accounts.Refused):
            _refusal(result)
            if result.locked_until is not None:
                return redirect(url_for("console.login"))
        else:
            _start_session(user)
            # Shown once, in this answer: nothing keeps them but their hashes.
            return render_template("console/recovery_codes.html", codes=result, next=_after_login().location)
    uri = accounts.provisioning_uri(user.email, secret)
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=5, dark="#1f2933", light="#ffffff"))
    return render_template("console/enrol.html", form=form, qr=qr, secret=secret, email=user.email)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    end_session(m.LOGOUT)
    flash(_("You have signed out."), "info")
    return redirect(url_for("console.login"))


@bp.post("/language")
def language() -> WerkzeugResponse:
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("console.overview"))
