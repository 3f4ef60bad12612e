"""What the benchmarks share: a throwaway migrated hub, SQL statement counting, tables.

A benchmark builds its own hub exactly as a deployment does (``create_app``
plus the Alembic migrations), on a SQLite file in a temporary folder, or on
PostgreSQL in a fresh schema that is dropped at the end (as tests/conftest.py
does), so runs never see each other's rows.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402

from config import normalize_database_url  # noqa: E402

ENV_URL = "BENCH_DATABASE_URL"


def default_database_url() -> str | None:
    return os.environ.get(ENV_URL) or None


@dataclass
class BenchHub:
    app: Flask
    url: str
    dialect: str  # "sqlite" or "postgresql"
    tmp: Path
    server_version: str = ""


def _pg_url_with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return normalize_database_url(url) + f"{sep}options={quote(f'-csearch_path={schema}')}"


@contextlib.contextmanager
def bench_hub(database_url: str | None, **overrides: Any) -> Iterator[BenchHub]:
    """A migrated hub in an app context; everything it made is removed on exit."""
    with tempfile.TemporaryDirectory(prefix="tangkal-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["TANGKAL_INSTANCE"] = str(tmp / "instance")
        admin: sa.Engine | None = None
        schema = ""
        if database_url:
            schema = f"bench_{os.getpid()}_{secrets.token_hex(4)}"
            admin = sa.create_engine(normalize_database_url(database_url), poolclass=sa.pool.NullPool)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = _pg_url_with_schema(database_url, schema)
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
        try:
            from flask_migrate import upgrade

            from hub import create_app
            from hub.db import db
            from hub.signing import ensure_key

            keys_dir = tmp / "hub-keys"
            keys_dir.mkdir(mode=0o700)
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "HUB_KEYS_DIR": str(keys_dir),
                    "SCHEDULER_ENABLED": False,
                    "RATELIMIT_ENABLED": False,
                    "LOG_LEVEL": "WARNING",
                    # in process, requests come from Flask's test client (Host: localhost); hub.origin checks it
                    "HUB_URL": "http://localhost",
                    **overrides,
                }
            )
            with app.app_context():
                # Alembic's logging config prints a line per migration; keep the tables readable.
                with contextlib.redirect_stderr(io.StringIO()):
                    upgrade()
                ensure_key(app)
                dialect = db.engine.dialect.name
                version = ".".join(str(v) for v in (db.engine.dialect.server_version_info or ()))
                try:
                    yield BenchHub(app, url, dialect, tmp, version)
                finally:
                    db.session.remove()
                    db.engine.dispose()
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


@dataclass
class StatementLog:
    """Every SQL statement the engine sends while ``on`` (a before_cursor_execute listener).

    An executemany counts once: it is one statement (one round trip on
    PostgreSQL with psycopg's pipeline, one prepared statement on SQLite).
    """

    on: bool = False
    keep: bool = False
    count: int = 0
    kept: list[tuple[str, Any]] = field(default_factory=list)

    def attach(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.on:
            self.count += 1
            if self.keep:
                self.kept.append((statement, parameters))

    def reset(self, keep: bool = False) -> None:
        self.count = 0
        self.kept = []
        self.keep = keep


def mean(xs: Sequence[float]) -> float:
    return statistics.fmean(xs) if xs else float("nan")


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def p95(xs: Sequence[float]) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain fixed-width table; ``align`` is one l/r per column (default: first l, rest r)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def describe_db(hub: BenchHub) -> str:
    if hub.dialect == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    return f"PostgreSQL {hub.server_version} (fresh schema)"


def sqlite_access_path(sql: str, params: Any) -> str:
    """SQLite's plan for ``sql`` as "SCAN ...; SEARCH ..." (EXPLAIN QUERY PLAN, not run)."""
    from hub.db import db

    raw = db.session.connection().connection.driver_connection
    rows = raw.execute("EXPLAIN QUERY PLAN " + sql, params or ()).fetchall()
    parts: list[str] = []
    for r in rows:
        d = str(r[-1])
        if d.startswith(("SCAN", "SEARCH", "USE TEMP")):
            d = d.replace("USING COVERING INDEX", "USING COVERING IX").replace("USING INDEX", "USING IX")
            if not parts or parts[-1] != d:
                parts.append(d)
    db.session.commit()
    return "; ".join(parts)
