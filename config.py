"""Settings read from the environment.

The defaults run the embedded hub: SQLite in the instance folder, one
process, in-memory rate limits. Production sets ``DATABASE_URL`` to
PostgreSQL and ``RATELIMIT_STORAGE_URI`` to Redis so every instance shares
state.
"""

from __future__ import annotations

import os
from typing import Any

from keys.wire import CATEGORIES, MAX_BODY_BYTES


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def normalize_database_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment() -> dict[str, Any]:
    """Every setting the hub reads, with its default."""
    category_days = {
        cat: _int(f"LIFETIME_DAYS_{cat.upper()}", _int("DEFAULT_LIFETIME_DAYS", 365)) for cat in CATEGORIES
    }
    database_url = os.environ.get("DATABASE_URL") or None
    return {
        "DATABASE_URL": normalize_database_url(database_url) if database_url else None,
        "HUB_ID": os.environ.get("HUB_ID", "tangkal"),
        "HUB_URL": (os.environ.get("HUB_URL") or "").rstrip("/") or None,
        # set by gunicorn.conf.py when it derived HUB_URL from the bind address: requests for other hosts are refused
        "HUB_URL_FROM_BIND": os.environ.get("HUB_URL_FROM_BIND") == "1",
        "HUB_KEYS_DIR": os.environ.get("HUB_KEYS_DIR") or None,
        "SLA_HOURS": _int("SLA_HOURS", 24),
        "TOKEN_TTL_SECONDS": _int("TOKEN_TTL_SECONDS", 900),
        "MINISTRY_WEBHOOK_URL": os.environ.get("MINISTRY_WEBHOOK_URL") or None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "locked-memory://"),
        "RATELIMIT_DEFAULT": os.environ.get("RATELIMIT_DEFAULT", "1200 per minute"),
        "RATELIMIT_TOKEN": os.environ.get("RATELIMIT_TOKEN", "60 per minute"),
        "CATEGORY_LIFETIME_DAYS": category_days,
        "REPORT_CATCHUP_DAYS": _int("REPORT_CATCHUP_DAYS", 7),
        "SCHEDULER_ENABLED": os.environ.get("SCHEDULER_ENABLED", "1") not in ("0", "false", "no"),
        # One byte more than a body may have: a chunked body (no Content-Length) is read up to here,
        # so hub.api.read_json sees that it is too large instead of reading it cut to the limit.
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES + 1,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "AUDIT_RETENTION_DAYS": _int("AUDIT_RETENTION_DAYS", 365),
        # Off only to measure the audit trail's cost (bench/audit_cost.py): every read is audited.
        "AUDIT_ENABLED": os.environ.get("AUDIT_ENABLED", "1") not in ("0", "false", "no"),
        # the bearer secret Prometheus sends to /metrics; unset: /metrics is not served (404)
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
    }
