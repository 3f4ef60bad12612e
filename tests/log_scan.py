"""Scanning log output for what must never be in it: phone numbers, tokens, secrets, private keys.

``find_leaks(texts, secrets)`` looks through any text (captured log lines,
a process's stderr) and names each leak it finds; ``record_texts(record)``
is everything a log record could put on a line (its message, its extra
members, its exception) before any redaction, so a scan of records finds
what the code tried to log, not what the formatter saved. ``LeakCollector``
is the logging handler conftest.py installs for the whole test session.

The patterns are deliberately wide (any E.164-looking run, Indonesian
national forms, any JWT, any Authorization value, PEM and JWK private
parts); ``secrets`` adds exact strings known to be secret (client secrets
made during the run).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass

PATTERNS: dict[str, re.Pattern[str]] = {
    "E.164 number": re.compile(r"(?:\+|%2[Bb])[1-9][0-9]{6,14}(?![0-9])"),
    "national number": re.compile(r"(?<![0-9A-Za-z._-])(?:62|0)8[1-9][0-9]{6,11}(?![0-9])"),
    "JWT (bearer token or client assertion)": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "Authorization value": re.compile(r"(?i)\b(?:bearer|basic)\s+(?!\{)[A-Za-z0-9._~+/=-]{12,}"),
    "client secret member": re.compile(r"(?i)client_secret[\"']?\s*[:=]\s*[\"']?(?!\{)[A-Za-z0-9_-]{8,}"),
    "PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JWK private part": re.compile(r"[\"']d[\"']\s*:\s*[\"'][A-Za-z0-9_-]{32,}"),
}

#: Extra members a LogRecord has of its own (anything else was passed as ``extra``).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


@dataclass(frozen=True)
class Leak:
    what: str
    found: str
    where: str

    def __str__(self) -> str:
        return f"{self.what} {self.found[:24]!r}... in {self.where[:160]!r}"


def find_leaks(texts: Iterable[str], secrets: Iterable[str] = ()) -> list[Leak]:
    known = [s for s in secrets if len(s) >= 12]
    leaks: list[Leak] = []
    for text in texts:
        for what, pattern in PATTERNS.items():
            for m in pattern.finditer(text):
                leaks.append(Leak(what, m.group(0), text))
        for secret in known:
            if secret in text:
                leaks.append(Leak("a known secret", secret, text))
    return leaks


def record_texts(record: logging.LogRecord) -> list[str]:
    """The record's message, every extra member and its exception, unredacted."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is still scanned as its parts
        message = f"{record.msg!r} {record.args!r}"
    texts = [message]
    texts += [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append("".join(traceback.format_exception(record.exc_info[1])))
    if record.stack_info:
        texts.append(record.stack_info)
    return texts


class LeakCollector(logging.Handler):
    """Keeps every record's texts (level INFO and up) for a later ``find_leaks``."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.extend(record_texts(record))
