"""The console's settings, from the environment, and the session cookie they make.

The session is Flask's signed cookie, named for the console and sent only
under ``/console``: HttpOnly, SameSite=Lax, and Secure unless the hub is
served over plain HTTP (``CONSOLE_SECURE_COOKIES``: default on when
``HUB_URL`` is https, so ``make run`` on http://127.0.0.1:5000 works).
The key that signs it is ``SECRET_KEY``, or a 0600 file made once in
``HUB_KEYS_DIR``, which every instance already shares.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

from hub.signing import keys_dir

SECRET_FILE = "console-session.key"
LANGUAGES = ("id", "en")  # Indonesian first: the default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name) or ""
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _flag(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


def _secret_key(app: Flask) -> str:
    """SECRET_KEY, or the key file every instance shares; made once, exclusively, mode 0600."""
    path: Path = keys_dir(app) / SECRET_FILE
    if not path.exists():
        tmp = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(48).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        # link, not replace: when two processes start at once, the first key made wins and both read it
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        os.unlink(tmp)
    return path.read_text().strip()


def configure(app: Flask) -> None:
    """Console settings (overrides given to create_app win), then the session cookie's attributes."""
    https = (app.config.get("HUB_URL") or "").startswith("https://")
    defaults = {
        "CONSOLE_SECURE_COOKIES": _flag("CONSOLE_SECURE_COOKIES", https),
        "CONSOLE_IDLE_MINUTES": _int("CONSOLE_IDLE_MINUTES", 30),
        "CONSOLE_SESSION_HOURS": _int("CONSOLE_SESSION_HOURS", 12),
        "CONSOLE_LOCKOUT_FAILURES": _int("CONSOLE_LOCKOUT_FAILURES", 5),
        "CONSOLE_LOCKOUT_MINUTES": _int("CONSOLE_LOCKOUT_MINUTES", 15),
    }
    for name, value in defaults.items():
        app.config.setdefault(name, value)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(app)
    app.config.update(
        SESSION_COOKIE_NAME="tangkal_console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config["CONSOLE_SECURE_COOKIES"]),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=int(app.config["CONSOLE_IDLE_MINUTES"])),
        # Flask-WTF: every console POST is checked by the blueprint (csrf.protect), nothing else of the hub's;
        # the token lives as long as the session, whose idle time the console enforces itself.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
