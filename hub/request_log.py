"""Structured logs: one JSON line per request, and a request id that ties it to the answer.

Every log line the hub writes is one JSON object (``JsonFormatter``); the
request line (logger ``tangkal.request``, level INFO) says ``method``,
``path``, ``query`` (the parameters' names only), ``status``,
``duration_ms``, ``partner`` (when a token authenticated the caller) and
``request_id``, which is also sent back in ``X-Request-Id``. A well-formed
incoming ``X-Request-Id`` (a load balancer's or the partner's) is kept, so
one id follows a request through every layer; anything else is replaced.

What never reaches a log line, and how:

- phone numbers: the path is logged with anything that looks like one
  replaced (``/v1/numbers/{number}``), query values are never logged, and
  an incoming request id with a run of digits is not kept;
- tokens, client secrets and assertions: headers and bodies are never
  logged, and werkzeug's own request lines (which carry query strings) are
  quietened;
- what a database error would quote: the engine is built with
  ``hide_parameters`` (hub/__init__.py), so an exception names no value.

``JsonFormatter`` also redacts, as a last line of defence, anything in a
message that looks like a number, a bearer token or a private key.
tests/log_scan.py is the check that none gets there in the first place.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, Response, g, request

log = logging.getLogger("tangkal.request")

HEADER = "X-Request-Id"
#: An incoming id the hub keeps: 8 to 128 of these characters and no run of 7 digits (a phone number).
_INCOMING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}", re.ASCII)
_DIGIT_RUN = re.compile(r"[0-9]{7}")
#: In a path: an E.164 or national number, possibly percent-encoded ("%2B62...").
_NUMBER_IN_PATH = re.compile(r"(?:\+|%2[Bb])?[0-9]{6,}")
#: What ``JsonFormatter`` blanks out of any message.
_REDACT = [
    (re.compile(r"(?:\+|%2[Bb])[1-9][0-9]{6,14}"), "{number}"),
    (re.compile(r"(?<![0-9A-Za-z])(?:62|0)8[1-9][0-9]{6,11}(?![0-9])"), "{number}"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "{jwt}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 {credential}"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"), "{private key}"),
]
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, replacement in _REDACT:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """``{"at", "level", "logger", "message", ...extra members}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(out, default=str).decode()


def safe_path(path: str) -> str:
    return _NUMBER_IN_PATH.sub("{number}", path)


def request_id() -> str:
    """This request's id: the incoming one when well-formed, else a new one."""
    found = g.get("request_id")
    if found is None:
        incoming = request.headers.get(HEADER, "")
        if _INCOMING_ID.fullmatch(incoming) and not _DIGIT_RUN.search(incoming):
            found = incoming
        else:
            found = secrets.token_urlsafe(12)
        g.request_id = found
    return str(found)


def init_request_log(app: Flask) -> None:
    """JSON logging for the process (unless something configured logging first), and the per-request line."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"), handlers=[handler])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its lines carry query strings

    @app.before_request
    def _start() -> None:
        g.request_log_start = time.perf_counter()
        request_id()

    @app.after_request
    def _line(resp: Response) -> Response:
        rid = request_id()
        resp.headers[HEADER] = rid
        if log.isEnabledFor(logging.INFO):
            start = g.get("request_log_start")
            caller = g.get("caller")
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": safe_path(request.path),
                    "query": sorted({safe_path(name[:40]) for name in request.args})[:20],
                    "status": resp.status_code,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2) if start is not None else None,
                    "partner": getattr(caller, "partner_id", None),
                    "request_id": rid,
                },
            )
        return resp
