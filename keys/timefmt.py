"""Protocol timestamps: RFC 3339, UTC, ``Z``, at most milliseconds.

``parse_ts`` is deliberately strict (PROTOCOL.md section 1): ``+00:00``,
microseconds, a lowercase ``z`` or a missing zone are refused, so every
party reads a signed timestamp the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

#: ``[0-9]``, not ``\d`` (which takes Arabic-Indic or full-width digits), and
#: matched with ``fullmatch`` (``$`` would accept a trailing newline).
_TS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,3}))?Z", re.ASCII)


class TimestampError(ValueError):
    """A timestamp not in the protocol's form."""


def parse_ts(text: str) -> datetime:
    """An aware UTC datetime from ``2026-11-28T10:00:00Z`` or ``...00.123Z``."""
    if not isinstance(text, str):
        raise TimestampError("a timestamp must be a string")
    m = _TS.fullmatch(text)
    if m is None:
        raise TimestampError(
            f"{text!r} is not an RFC 3339 UTC timestamp like 2026-11-28T10:00:00Z "
            "(Z suffix, at most millisecond precision)"
        )
    year, month, day, hour, minute, second, frac = m.groups()
    millis = int((frac or "0").ljust(3, "0"))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            millis * 1000,
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise TimestampError(f"{text!r} is not a real date and time: {exc}") from None


def format_ts(dt: datetime) -> str:
    """The protocol form; milliseconds only when there are some."""
    if dt.tzinfo is None:
        raise TimestampError("refusing to format a naive datetime")
    dt = dt.astimezone(UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    millis = dt.microsecond // 1000
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


#: Western Indonesia Time (WIB, UTC+07:00; no daylight saving), the clock of
#: the ministry's report periods (PROTOCOL section 8).
JAKARTA = timezone(timedelta(hours=7), "WIB")


def jakarta_period(kind: str, start: datetime, end: datetime) -> str:
    """A report period as Jakarta dates: ``2026-11-27`` (daily), ``2026-11`` (monthly), ``2026-11-01_2026-11-15``.

    Periods are written in UTC on the wire, so a Jakarta day starts at 17:00Z
    the day before; named by its UTC start, a daily report would be filed
    under the wrong day. An ad-hoc period is named by its first and last day
    (``end`` is exclusive).
    """
    first = start.astimezone(JAKARTA)
    if kind == "daily":
        return first.date().isoformat()
    if kind == "monthly":
        return first.strftime("%Y-%m")
    last = (end - timedelta(microseconds=1)).astimezone(JAKARTA)
    return f"{first.date().isoformat()}_{last.date().isoformat()}"


def jakarta_time(text: str) -> str:
    """A protocol timestamp as Jakarta wall time, ``2026-11-28 17:00 WIB`` (seconds when not zero)."""
    moment = parse_ts(text).astimezone(JAKARTA)
    return moment.strftime("%Y-%m-%d %H:%M:%S WIB" if moment.second else "%Y-%m-%d %H:%M WIB")
