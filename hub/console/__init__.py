"""The ministry's console: compliance at a glance, server-rendered at ``/console``.

Staff accounts (``flask --app wsgi user ...``) sign in with a password and
TOTP; pages show the overview, the league table of partners, overdue items,
a number's history, the reports, partners and the log, in Indonesian
(default) or English, times in Asia/Jakarta. Every figure comes from the
queries the API and the reports use (:mod:`hub.console.figures`).

``init_console(app)`` is the one call ``create_app`` makes: settings and
the session cookie, CSRF, Flask-Login, Flask-Babel, the blueprint and the
``user`` command group.
"""

from __future__ import annotations

from flask import Flask

from hub.console import pages, signin
from hub.console.blueprint import bp
from hub.console.cli import user_cli
from hub.console.extensions import csrf, login_manager
from hub.console.i18n import init_i18n
from hub.console.settings import configure

#: the view modules register their routes on ``bp`` when imported
VIEWS = (pages, signin)


def init_console(app: Flask) -> None:
    configure(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    init_i18n(app)
    app.register_blueprint(bp)
    app.cli.add_command(user_cli)
