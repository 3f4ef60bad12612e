"""The Tangkal hub: a Flask application factory.

``create_app()`` reads settings from the environment (config.py), binds the
extensions, and registers one blueprint per capability.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from config import from_environment

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("TANGKAL_INSTANCE") or str(ROOT / "instance"))
    app.config.update(from_environment())
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)

    url = app.config.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'tangkal.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    engine_options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 30}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust exactly this many proxies for the client address and scheme:
        # rate limits are per address, and OAuth needs to see HTTPS.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if not app.config.get("HUB_URL") and not app.config.get("TESTING"):
        logging.getLogger(__name__).warning(
            "HUB_URL is not set: the hub's URL follows each request's Host header; set it in production"
        )
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from hub.db import db
    from hub.extensions import limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    limiter.init_app(app)

    from hub.problems import register_error_handlers

    register_error_handlers(app)

    from hub.auth.server import init_oauth

    init_oauth(app)

    from hub import health, openapi
    from hub.acks import routes as acks_routes
    from hub.auth import routes as auth_routes
    from hub.ledger import routes as ledger_routes
    from hub.records import routes as records_routes
    from hub.reports import routes as reports_routes

    limiter.exempt(health.bp)
    limiter.exempt(openapi.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(auth_routes.bp)
    app.register_blueprint(records_routes.bp)
    app.register_blueprint(ledger_routes.bp)
    app.register_blueprint(acks_routes.bp)
    app.register_blueprint(reports_routes.bp)

    from hub.metrics import bp as metrics_bp
    from hub.metrics import init_metrics

    init_metrics(app)
    limiter.exempt(metrics_bp)

    from hub.cli import register_cli

    register_cli(app)
    return app
