"""Prometheus metrics for the person on call: traffic, latency, item outcomes.

Per process. Under gunicorn, scrape each worker, or set
``PROMETHEUS_MULTIPROC_DIR`` as prometheus_client documents.

``/metrics`` needs a credential (PROTOCOL 1.1 section 9): the bearer secret
``METRICS_TOKEN``, which Prometheus sends (``authorization: {credentials:
...}`` in its scrape config). Without it the answer is 401; a hub with no
``METRICS_TOKEN`` set does not serve metrics at all (404), so nothing is
open by default.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_limiter import Limiter
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from hub.problems import Problem, unauthorized

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("tangkal_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "tangkal_http_request_seconds",
    "Time to answer",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ITEMS = Counter("tangkal_items_total", "Pushed items by outcome", ["kind", "status", "slug"])


def count_items(kind: str, results: list[dict[str, Any]], dry_run: bool = False) -> None:
    """Pushed items by outcome and problem slug; a dry run pushed nothing and counts nothing."""
    if dry_run:
        return
    for r in results:
        slug = r["error"]["type"].rsplit(":", 1)[-1] if r.get("error") else ""
        ITEMS.labels(kind, r["status"], slug).inc()


@bp.get("/metrics")
def metrics() -> Response:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        raise Problem("not-found", "Metrics are not served: set METRICS_TOKEN to scrape them.")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), str(expected).encode()):
        raise unauthorized("Send the metrics secret: Authorization: Bearer <METRICS_TOKEN>.", error="")
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask, limiter: Limiter) -> None:
    @app.before_request
    def _start() -> None:
        g.metrics_start = time.perf_counter()

    @app.after_request
    def _observe(resp: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        start = g.pop("metrics_start", None)
        if start is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - start)
        REQUESTS.labels(endpoint, request.method, str(resp.status_code)).inc()
        return resp

    limiter.exempt(bp)
    app.register_blueprint(bp)
