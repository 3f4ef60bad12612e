"""The console's blueprint and what every console request goes through.

Before a view: a POST must carry the form's CSRF token (Flask-WTF), and a
signed-in session must have been used within ``CONSOLE_IDLE_MINUTES`` and
be younger than ``CONSOLE_SESSION_HOURS`` by the hub's clock, or it ends
here (recorded as ``expired``). After: pages are never cached and may run
no script, load nothing from elsewhere and not be framed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from hub import clock
from hub.console import accounts
from hub.console import models as m
from hub.console.extensions import csrf, login_manager

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")

F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def client_address() -> str | None:
    return (request.remote_addr or "")[:64] or None


def _load(token: str) -> m.StaffUser | None:
    return accounts.session_user(token)


def _unauthorized() -> ResponseReturnValue:
    return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None))


login_manager.user_loader(_load)
login_manager.unauthorized_handler(_unauthorized)


def staff_required(view: F) -> F:
    """Signed in (Flask-Login's login_required, typed)."""
    return cast(F, login_required(view))


def end_session(kind: str) -> None:
    """Record why the session ends, then forget it (cookie and all)."""
    if current_user.is_authenticated:
        accounts.record(kind, current_user.email, current_user.id, client_address())
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    if request.method == "POST":
        csrf.protect()
    if request.endpoint == "console.static" or not current_user.is_authenticated:
        return None
    now = clock.now().timestamp()
    idle = int(current_app.config["CONSOLE_IDLE_MINUTES"]) * 60
    longest = int(current_app.config["CONSOLE_SESSION_HOURS"]) * 3600
    seen, since = session.get("seen"), session.get("since")
    if (
        not isinstance(seen, (int, float))
        or not isinstance(since, (int, float))
        or now - seen > idle
        or now - since > longest
    ):
        end_session(m.EXPIRED)
        flash(_("Your session ended after a time without use. Please sign in again."), "info")
        return redirect(url_for("console.login"))
    session["seen"] = now
    session.permanent = True
    return None


@bp.after_request
def _headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        resp.headers["Cache-Control"] = "no-store"
    return resp


def admin_required(view: F) -> F:
    """Signed in, and an admin: an analyst is answered 403."""

    @functools.wraps(view)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            return error_page(403, _("This page is for administrators."))
        return view(*args, **kwargs)

    return staff_required(cast(F, inner))


def error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, message=message), status


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError) -> tuple[str, int]:
    return error_page(
        400, _("The form was missing its security token or it has expired. Go back, reload and try again.")
    )


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    messages = {404: _("There is no such page or item."), 403: _("You may not open this page.")}
    return error_page(status, messages.get(status, exc.description or ""))
