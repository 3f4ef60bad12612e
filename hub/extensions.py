"""Flask extensions, created unbound and attached in the app factory."""

from __future__ import annotations

import hashlib

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate


def _rate_key() -> str:
    """Per access token when one is sent, else per address.

    Limits are checked before the view authenticates, so the bucket is the
    token itself (hashed); fetching fresh tokens to dodge it runs into the
    token endpoint's own per-address limit.
    """
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "tok:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return f"addr:{request.remote_addr}"


migrate = Migrate()
limiter = Limiter(key_func=_rate_key)
