"""Has this number been given to a new subscriber since a date? (PROTOCOL.md section 10)

The answers of the FCC's Reassigned Numbers Database: ``yes`` when a
``reassigned`` event took effect at or after ``since``, ``no`` when none
did, ``no_data`` when ``since`` is before the hub began recording lifecycle
events (``NUMBER_EVENTS_SINCE``, by default the earliest effective_at it has
accepted; with none, every answer is ``no_data``). A batch of a thousand
questions is two index reads, however many events are stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from flask import current_app

from hub.clock import JAKARTA
from hub.db import reads
from hub.problems import Problem
from hub.records.lifecycle import earliest_and_latest, earliest_effective_at, latest_reassignments
from hub.records.numbers import check_e164
from keys.timefmt import TimestampError, format_ts, parse_ts

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
#: Older questions are not about this hub's numbers; the bound keeps date arithmetic away from year 1.
EARLIEST_SINCE = datetime(1970, 1, 1, tzinfo=UTC)


def parse_since(text: object, member: str = "since") -> datetime:
    """An RFC 3339 UTC timestamp, or a date (00:00 Asia/Jakarta that day); a 400 problem otherwise."""
    if not isinstance(text, str):
        raise Problem(
            "invalid-request", f"{member} is a timestamp like 2026-12-01T00:00:00Z or a date like 2026-12-01."
        )
    moment = _since_moment(text)
    if moment is None:
        raise Problem(
            "invalid-request",
            f"{member} {text!r} is neither an RFC 3339 UTC timestamp (2026-12-01T00:00:00Z) nor a date (2026-12-01).",
        )
    if moment < EARLIEST_SINCE:
        raise Problem("invalid-request", f"{member} {text!r} is before 1970; ask about a later date.")
    return moment


def _configured_begin() -> datetime | None:
    configured = current_app.config.get("NUMBER_EVENTS_SINCE")
    return parse_since(configured, "NUMBER_EVENTS_SINCE") if configured else None


@lru_cache(maxsize=4096)
def _since_moment(text: str) -> datetime | None:
    """``since`` read once per distinct text: a batch usually asks about one date (None: not a date or time)."""
    found = _DATE.fullmatch(text)
    try:
        if found is not None:
            return datetime.combine(date(*(int(g) for g in found.groups())), time(0), JAKARTA).astimezone(UTC)
        return parse_ts(text)
    except (TimestampError, ValueError, OverflowError):
        return None


#: ``since`` echoed in the protocol's form, once per distinct moment.
_shown_since = lru_cache(maxsize=4096)(format_ts)


def records_begin() -> datetime | None:
    """Since when the hub's record of lifecycle events counts as complete."""
    return _configured_begin() or earliest_effective_at(reads())


@dataclass(frozen=True)
class Question:
    number: str
    since: datetime


def answer(questions: list[Question]) -> list[dict[str, Any]]:
    """The answers, in order; two queries for the whole list, one for a single question."""
    configured = _configured_begin()
    if len(questions) == 1 and configured is None:
        begin, last = earliest_and_latest(questions[0].number)
        latest = {questions[0].number: last} if last is not None else {}
    else:
        conn = reads()
        begin = configured or earliest_effective_at(conn)
        latest = latest_reassignments((q.number for q in questions), conn) if begin is not None else {}
    out = []
    for q in questions:
        at = latest.get(q.number)
        if begin is None or q.since < begin:
            verdict, shown = "no_data", None
        elif at is not None and at >= q.since:
            verdict, shown = "yes", at
        else:
            verdict, shown = "no", None
        out.append(
            {
                "number": q.number,
                "since": _shown_since(q.since),
                "answer": verdict,
                "reassigned_at": format_ts(shown) if shown is not None else None,
            }
        )
    return out


def question(number: object, since: object) -> Question:
    """One question, checked: the number in E.164 (``invalid-number``), ``since`` a time or date (``invalid-request``)."""
    if not isinstance(number, str):
        raise Problem("invalid-number", "number is an E.164 string such as +6281234567890.")
    info = check_e164(number)
    return Question(info.e164, parse_since(since))
