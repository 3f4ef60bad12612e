"""Fixtures: one migrated database per test session, emptied after each test.

SQLite by default. With ``TEST_DATABASE_URL`` set (PostgreSQL), the session
creates a fresh schema there, migrates it, and drops it at the end, so reruns
never see old rows; if the database cannot be reached the run fails.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from config import normalize_database_url
from hub import create_app
from hub.clock import Clock, clock_of
from hub.signing import ensure_key
from tests.log_scan import LeakCollector, find_leaks
from tests.support import PartnerCreds, basic_auth, register_partner

PG_URL = os.environ.get("TEST_DATABASE_URL")

#: the ``world`` fixture (the records tests' partners)
pytest_plugins = ["tests.records_world"]


#: Every log record of the session at INFO and up, and every client secret made: no test may log one.
_LOGS = LeakCollector()
_SECRETS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _log_watch() -> Iterator[None]:
    """Collect the whole session's log records (request lines included) and remember each client secret made."""
    import hub.admin

    request_log = logging.getLogger("tangkal.request")
    level, make_secret = request_log.level, hub.admin.new_client_secret

    def remembered() -> str:
        secret = make_secret()
        _SECRETS.append(secret)
        return secret

    logging.getLogger().addHandler(_LOGS)
    request_log.setLevel(logging.INFO)
    hub.admin.new_client_secret = remembered  # type: ignore[assignment]
    yield
    hub.admin.new_client_secret = make_secret  # type: ignore[assignment]
    request_log.setLevel(level)
    logging.getLogger().removeHandler(_LOGS)


@pytest.fixture(autouse=True)
def _no_leak_in_logs(_log_watch: None) -> Iterator[None]:
    """After each test: nothing it logged holds a number, token, secret or private key (tests/log_scan.py)."""
    root = logging.getLogger()
    if _LOGS not in root.handlers:  # alembic's fileConfig (the session's migration) replaces root's handlers
        root.addHandler(_LOGS)
    start = len(_LOGS.texts)
    yield
    leaks = find_leaks(_LOGS.texts[start:], _SECRETS)
    del _LOGS.texts[start:]
    if leaks:
        pytest.fail("logged what must never be logged:\n" + "\n".join(str(leak) for leak in leaks[:10]))


def _pg_url_with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return normalize_database_url(url) + f"{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tangkal")


@pytest.fixture(scope="session")
def database_url(session_dir: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{session_dir / 'test.db'}"
        return
    schema = f"t_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sa.create_engine(normalize_database_url(PG_URL))
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL cannot be reached: {exc}", returncode=3)
    try:
        yield _pg_url_with_schema(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def hub_env(database_url: str, session_dir: Path) -> dict[str, str]:
    """Environment a live hub process needs to share this session's database and keys."""
    keys_dir = session_dir / "hub-keys"
    keys_dir.mkdir(exist_ok=True, mode=0o700)
    return {
        "DATABASE_URL": database_url,
        "HUB_KEYS_DIR": str(keys_dir),
        "TANGKAL_INSTANCE": str(session_dir / "instance"),
        "LOG_LEVEL": "WARNING",
    }


def _overrides(hub_env: dict[str, str]) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": hub_env["DATABASE_URL"],
        "HUB_KEYS_DIR": hub_env["HUB_KEYS_DIR"],
        "SCHEDULER_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "SECRET_HASH_FAST": True,
    }


@pytest.fixture(scope="session")
def migrated(hub_env: dict[str, str]) -> str:
    """Run the Alembic migrations once, exactly as `flask db upgrade` does."""
    from flask_migrate import upgrade

    os.environ["TANGKAL_INSTANCE"] = hub_env["TANGKAL_INSTANCE"]
    app = create_app(_overrides(hub_env))
    with app.app_context():
        upgrade()
    return hub_env["DATABASE_URL"]


@pytest.fixture(scope="session")
def cleaner(migrated: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(migrated, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def _empty_tables_once(engine: sa.Engine) -> None:
    from hub.db import db

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(sa.text(f'DELETE FROM "{t}"'))
            # A plan test's ANALYZE leaves statistics of its tables behind; the next test's planner
            # would plan for them (a scan of a "tiny" merkle_nodes). A fresh hub has none.
            for (stat,) in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")):
                conn.execute(sa.text(f'DELETE FROM "{stat}"'))
        # the migration seeds the log counter; put it back as a fresh hub has it
        conn.execute(sa.text("INSERT INTO counters (name, value) VALUES ('log', 0)"))


def _empty_tables(engine: sa.Engine) -> None:
    """Empty every table; again if PostgreSQL's autovacuum, analyzing a table meanwhile, made the TRUNCATE a deadlock."""
    for attempt in range(3):
        try:
            _empty_tables_once(engine)
            return
        except sa.exc.OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 2:
                raise


@pytest.fixture
def make_app(cleaner: sa.Engine, hub_env: dict[str, str]) -> Iterator[Callable[..., Flask]]:
    """Build app instances on the session database (several = several hub processes' worth of state)."""
    apps: list[Flask] = []

    def build(hub_key: bool = True, **extra: Any) -> Flask:
        settings = {**_overrides(hub_env), **extra}
        if "HUB_URL" not in extra:
            # The test client's host, fixed as gunicorn.conf.py fixes a hub's own address: other hosts are refused.
            settings.update(HUB_URL="http://localhost", HUB_URL_FROM_BIND=True)
        app = create_app(settings)
        if hub_key:  # what `make run` does after migrating: the hub's first signing key
            with app.app_context():
                ensure_key(app)
        apps.append(app)
        return app

    yield build
    from hub.db import db

    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    _empty_tables(cleaner)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli(app: Flask) -> Callable[..., Any]:
    runner = app.test_cli_runner()

    def run(*args: str) -> Any:
        return runner.invoke(args=list(args), catch_exceptions=False)

    return run


@pytest.fixture
def register(app: Flask) -> Callable[..., PartnerCreds]:
    """Register a partner (hub.admin, as ``partner add`` does) and give it a signing key."""

    def make(partner_id: str, kind: str = "operator", carriers: list[str] | None = None) -> PartnerCreds:
        return register_partner(app, partner_id, kind, carriers)

    return make


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The app's clock: tests move it (freeze, advance) instead of sleeping."""
    return clock_of(app)


@pytest.fixture
def token(client: FlaskClient) -> Callable[..., str]:
    def get(creds: PartnerCreds, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        resp = client.post("/oauth/token", data=data, headers=basic_auth(creds))
        if resp.status_code != 200:
            raise AssertionError(f"token refused: {resp.status_code} {resp.get_data(as_text=True)}")
        return str(resp.get_json()["access_token"])

    return get
