"""Flask extensions, created unbound and attached in the app factory."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate

import hub.ratelimit_storage  # noqa: F401  registers locked-memory://


def _rate_key() -> str:
    """Per partner for a verified access token, else per address.

    Only a token that verifies picks the bucket (junk tokens share their
    sender's address bucket), and the OAuth endpoints always count by
    address. Behind a load balancer set PROXY_FIX_X_FOR so the address is
    the client's, not the balancer's.
    """
    from hub.auth.protect import bearer_claims

    if not request.path.startswith("/oauth/"):
        claims = bearer_claims()
        if claims is not None:
            return f"partner:{claims['partner']}"
    return f"addr:{request.remote_addr}"


migrate = Migrate()
limiter = Limiter(key_func=_rate_key)
