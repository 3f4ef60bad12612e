"""Rate limits (Flask-Limiter): the limiter, its buckets, and the 429 answer.

Buckets are per partner for a verified access token and per address
otherwise; the OAuth endpoints always count by address. The 429 problem
carries ``Retry-After`` (PROTOCOL.md section 1).

Storage is ``RATELIMIT_STORAGE_URI``: Redis in production, shared by every
instance; the embedded default is ``locked-memory://`` below.

limits 5.8.0's MemoryStorage can start the same expiry Timer from two threads
("threads can only be started once"), which turned into a 500 on whatever
request was being counted (found by tests/test_concurrency.py under threaded
gunicorn workers). ``LockedMemoryStorage`` starts it under a lock, until
limits ships its own fix.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

from hub.auth.protect import bearer_claims
from hub.problems import Problem

#: How often the in-memory storage sweeps expired keys.
SWEEP_SECONDS = 1.0


class LockedMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["locked-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the name-mangled private method
        # limits sweeps expired keys 10 ms after a hit, so a busy hub started a
        # thread on nearly every request (a fifth of a number look-up's time,
        # bench/profile_requests.py). Reads check expiry themselves; the sweep
        # only frees memory, so once a second is enough.
        with self._timer_lock:
            if not self.timer.is_alive():
                self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
                self.timer.daemon = True
                self.timer.start()


def _rate_key() -> str:
    """Per partner for a verified access token, else per address.

    Only a token that verifies picks the bucket (junk tokens share their
    sender's address bucket), and the OAuth endpoints always count by
    address. Behind a load balancer set PROXY_FIX_X_FOR so the address is
    the client's, not the balancer's.
    """
    if not request.path.startswith("/oauth/"):
        claims = bearer_claims()
        if claims is not None:
            return f"partner:{claims['partner']}"
    return f"addr:{request.remote_addr}"


limiter = Limiter(key_func=_rate_key)


def _retry_after() -> int:
    """Seconds until the exceeded rate-limit window resets."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()) + 1)


def init_rate_limits(app: Flask) -> None:
    limiter.init_app(app)

    @app.errorhandler(TooManyRequests)
    def _too_many(exc: TooManyRequests) -> Response:
        wait = _retry_after()
        return Problem(
            "rate-limited",
            f"Rate limit exceeded ({exc.description}); try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        ).response()
