"""Languages and how figures and times read: Indonesian by default, English second, Jakarta time.

The language is the staff member's choice (the switch in every page's
header, kept in the session); times are shown in Asia/Jakarta (WIB)
whatever the server's zone; numbers follow the language (1.234,5 or 1,234.5).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from flask import Flask, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent

from hub.console.extensions import babel
from hub.console.settings import LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
TIMEZONE = "Asia/Jakarta"


def current_language() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


def wib(moment: datetime | None, with_seconds: bool = False) -> str:
    """A moment as Jakarta wall-clock time, e.g. ``2026-11-27 09:15 WIB``."""
    if moment is None:
        return "—"
    return str(format_datetime(moment, "yyyy-MM-dd HH:mm:ss" if with_seconds else "yyyy-MM-dd HH:mm")) + " WIB"


def day_label(day: date) -> str:
    return str(format_date(day, "d MMM"))


def long_day(day: date) -> str:
    return str(format_date(day, "EEEE, d MMMM yyyy"))


def num(value: int | float | None) -> str:
    return "—" if value is None else format_decimal(value)


def pct(share: float | None) -> str:
    return "—" if share is None else format_percent(share, "#,##0.0%")


def hours(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, "#,##0.0") + " h"


def init_i18n(app: Flask) -> None:
    babel.init_app(
        app,
        default_locale=LANGUAGES[0],
        default_timezone=TIMEZONE,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=current_language,
    )
    for name, fn in (("wib", wib), ("num", num), ("pct", pct), ("hours", hours), ("day", long_day)):
        app.jinja_env.filters[f"c_{name}"] = fn
    app.jinja_env.globals["c_language"] = current_language
