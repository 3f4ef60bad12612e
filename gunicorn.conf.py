"""How the hub serves: gunicorn settings and the start hooks (read from this folder by gunicorn).

``make run`` and production both serve with gunicorn, so what must happen
once when the hub starts serving happens here, and only here:

- ``on_starting`` (the master, once): the hub's URL is fixed (``HUB_URL``, or
  the address it is bound to), the first signing key exists, and a setting
  that would let N workers through N times the rate limit is said out loud.
- ``post_worker_init`` (each worker): the report scheduler starts, unless
  ``SCHEDULER_ENABLED=0``. Its jobs are safe to run in many workers at once.

Administration commands (``flask --app wsgi ...``) import the app but never
this file, so they start no scheduler.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 120

log = logging.getLogger("tangkal.serve")


def _url_from_bind(address: str) -> str | None:
    """``http://host:port`` for a TCP bind of a specific address; None for sockets and wildcards."""
    if address.startswith(("unix:", "fd://")):
        return None
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def on_starting(server: Any) -> None:
    if not os.environ.get("HUB_URL"):
        url = _url_from_bind(server.cfg.bind[0])
        if url is None:
            sys.exit(
                f"HUB_URL is not set and the hub listens on {server.cfg.bind[0]}, which names no address partners "
                "can reach: set HUB_URL to the hub's public URL (tokens carry it as iss and aud)"
            )
        os.environ["HUB_URL"] = url
        os.environ["HUB_URL_FROM_BIND"] = "1"  # the workers refuse requests naming another host (hub.origin)
        server.log.info("HUB_URL not set: the hub's URL is %s (from its bind address)", url)

    from hub import create_app
    from hub.signing import ensure_key

    app = create_app()
    with app.app_context():
        made = ensure_key(app)
        if made is not None:
            server.log.info("made the hub's first signing key %s", made.kid)
    storage = str(app.config.get("RATELIMIT_STORAGE_URI", ""))
    if server.cfg.workers > 1 and storage.startswith(("memory://", "locked-memory://")):
        server.log.warning(
            "RATE LIMITS ARE PER WORKER: %d workers with %s storage let through %d times each limit; "
            "set RATELIMIT_STORAGE_URI=redis://... to share them",
            server.cfg.workers,
            storage,
            server.cfg.workers,
        )


def post_worker_init(worker: Any) -> None:
    app = worker.wsgi
    if app.config.get("SCHEDULER_ENABLED"):
        from hub.reports.scheduler import start

        start(app)
