"""Report periods in Jakarta time (WIB, UTC+07:00, no daylight saving).

A fixed offset rather than a tz database entry: Indonesia has not changed
WIB since 1964, and a hub started from nothing but Python may have no tzdata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from keys.timefmt import JAKARTA


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime  # aware UTC
    end: datetime  # aware UTC, exclusive

    @property
    def key(self) -> str | None:
        return None if self.kind == "adhoc" else f"{self.kind}:{self.start.isoformat()}"


def _utc(d: date) -> datetime:
    return datetime.combine(d, time(0), JAKARTA).astimezone(UTC)


def daily(day: date) -> Period:
    return Period("daily", _utc(day), _utc(day + timedelta(days=1)))


def monthly(year: int, month: int) -> Period:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return Period("monthly", _utc(first), _utc(nxt))


def parse_period(kind: str, text: str) -> Period:
    """``YYYY-MM-DD`` for daily, ``YYYY-MM`` for monthly (Jakarta dates)."""
    if kind == "daily" and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return daily(date.fromisoformat(text))
    if kind == "monthly" and re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
        year, month = int(text[:4]), int(text[5:])
        if 1 <= month <= 12:
            return monthly(year, month)
    raise ValueError(f"--period for {kind} is {'YYYY-MM-DD' if kind == 'daily' else 'YYYY-MM'}, not {text!r}")


def jakarta_today(now: datetime) -> date:
    return now.astimezone(JAKARTA).date()


def completed_days(now: datetime, back: int) -> list[Period]:
    """The ``back`` most recent Jakarta days that have ended, oldest first."""
    today = jakarta_today(now)
    return [daily(today - timedelta(days=n)) for n in range(back, 0, -1)]


def completed_months(now: datetime, back: int) -> list[Period]:
    today = jakarta_today(now)
    y, m = today.year, today.month
    out = []
    for _ in range(back):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append(monthly(y, m))
    return list(reversed(out))
