"""The hub's own URL, fixed when it starts; a request naming another host is refused.

Access tokens carry the hub's URL as ``iss`` and ``aud``, and a client
assertion's ``aud`` must name it (PROTOCOL 1.1 section 3). Taking that URL
from each request's ``Host`` header would let whoever sends the request
choose it. So the URL is decided once:

- ``HUB_URL`` where the operator set it (behind a load balancer, the public
  URL); requests may then arrive under any host name (an instance's own
  address, a health check), which changes nothing the hub signs;
- else the address the hub listens on: gunicorn.conf.py derives it from the
  bind address when serving starts (and says so with ``HUB_URL_FROM_BIND``),
  and an app built without either takes ``http://HOST:PORT`` as ``make run``
  serves it. A hub that chose its own URL this way answers a request whose
  ``Host`` names another host with 400 (problem+json), before any view runs.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, current_app, request

from hub.problems import Problem

_DEFAULT_PORTS = {"http": 80, "https": 443}


def bind_url() -> str:
    """``http://HOST:PORT`` as ``make run`` serves (gunicorn.conf.py's bind), 127.0.0.1:5000 by default."""
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"  # listening everywhere: this machine reaches it on the loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT') or '5000'}"


def _normal(netloc: str, scheme: str) -> str:
    """``host[:port]`` in lowercase, the scheme's default port left out; compared as text, never parsed."""
    netloc = netloc.lower()
    default = f":{_DEFAULT_PORTS.get(scheme, '')}"
    return netloc[: -len(default)] if netloc.endswith(default) else netloc


def names_this_hub(host_header: str, url: str) -> bool:
    """Whether a ``Host`` value names exactly the host and port of ``url`` (a default port may be left out)."""
    ours = urlsplit(url)
    scheme = ours.scheme or "http"
    return _normal(host_header, scheme) == _normal(ours.netloc, scheme)


def hub_url() -> str:
    """The hub's URL: ``HUB_URL``, or the one it fixed when it started; never the request's Host."""
    return str(current_app.config.get("HUB_URL") or bind_url()).rstrip("/")


def _refuse_other_hosts() -> None:
    if not current_app.config.get("HUB_URL_FROM_BIND"):
        return
    url = hub_url()
    if not names_this_hub(request.host, url):
        raise Problem(
            "invalid-request",
            f"This hub is {url}; the request names the host {request.host!r}. Send requests to {url}.",
        )


def init_origin(app: Flask) -> None:
    """Fix the hub's URL now if the operator did not set one, and refuse requests for other hosts."""
    if not app.config.get("HUB_URL"):
        app.config["HUB_URL"] = bind_url()
        app.config["HUB_URL_FROM_BIND"] = True
    app.before_request(_refuse_other_hosts)
