"""The Tangkal hub: a Flask application factory.

``create_app()`` reads settings from the environment (config.py), owns the
hub's clock and key store, binds the extensions, and registers one blueprint
per capability. It starts nothing: the report scheduler is started by the
serving process (gunicorn.conf.py), never by importing or building the app,
so an administration command never runs a report job.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import from_environment

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    # Blueprints and services import the extensions and models; importing
    # them here, at build time, keeps ``import hub`` (config, clock) light.
    from hub import clock, health, openapi
    from hub.acks import routes as acks_routes
    from hub.audit import routes as audit_routes
    from hub.auth import routes as auth_routes
    from hub.auth.server import init_oauth
    from hub.cli import register_cli
    from hub.console import init_console
    from hub.db import db, init_reads, migrate
    from hub.jsonio import init_json
    from hub.ledger import routes as ledger_routes
    from hub.ledger.log import init_log
    from hub.metrics import init_metrics
    from hub.numbers import routes as numbers_routes
    from hub.origin import init_origin
    from hub.problems import register_error_handlers
    from hub.ratelimit import init_rate_limits, limiter
    from hub.records import routes as records_routes
    from hub.reports import routes as reports_routes
    from hub.request_log import init_request_log
    from hub.signing import init_signing
    from hub.taxii import routes as taxii_routes

    app = Flask(__name__, instance_path=os.environ.get("TANGKAL_INSTANCE") or str(ROOT / "instance"))
    app.config.update(from_environment())
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)

    url = app.config.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'tangkal.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    # No pre-ping: it is one more round trip per request; a connection the
    # server dropped is invalidated by SQLAlchemy on its first error instead.
    # hide_parameters: a database error never quotes a value (a number) into a log line.
    engine_options: dict[str, Any] = {"pool_recycle": 3600, "hide_parameters": True}
    if url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 30}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    init_json(app)  # orjson; members in insertion order
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops:
        # Trust exactly this many proxies for the client address and scheme:
        # rate limits are per address, and OAuth needs to see HTTPS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    init_request_log(app)  # JSON log lines, one per request, X-Request-Id
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    clock.init_clock(app)
    init_signing(app)
    init_log(app)
    db.init_app(app)
    init_reads(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    register_error_handlers(app)
    init_origin(app)  # the hub's URL is fixed now; a request naming another host is refused
    init_rate_limits(app)
    init_oauth(app)

    for bp in (health.bp, openapi.bp):
        limiter.exempt(bp)
        app.register_blueprint(bp)
    for bp in (
        auth_routes.bp,
        records_routes.bp,
        ledger_routes.bp,
        acks_routes.bp,
        reports_routes.bp,
        taxii_routes.bp,
        numbers_routes.bp,
    ):
        app.register_blueprint(bp)
    app.register_blueprint(audit_routes.bp)
    init_metrics(app, limiter)
    register_cli(app)
    init_console(app)
    return app
