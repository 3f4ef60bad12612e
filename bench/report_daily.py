"""The daily reconciliation report over a million assignments: time and memory.

Issue target: "A benchmark shows the daily report over 1,000,000 assignments
and its memory use; target: under 30 seconds and flat memory."
hub/reports/compute.py says every figure is a GROUP BY done by the database,
so only one row per partner (and at most 1,000 overdue items) reaches Python
and a day of a million assignments costs the memory of a day of ten.

The benchmark writes a realistic history straight into the tables with
chosen timestamps, as tests/test_reports.py does (a week of activity cannot
be made through the API), in chunks of 50,000 rows: SQLAlchemy Core inserts
for the small tables, and for records and assignments the driver itself
(executemany on SQLite, COPY on PostgreSQL) because SQLAlchemy's per-value
bind processing would make the fill of 1.5 million rows take minutes. The
world: a ministry, 4 operators and 3 OTT providers; records
over one Jakarta day (2026-10-10 by default) and the 6 days before it, each
assigned to its home operator (if any) and the 3 OTTs; acted within the SLA,
late, or never (overdue), with mixed outcomes; some anomalies, attestations
and log entries. It then makes the day's report the way the scheduler does,
``hub.reports.service.ensure(periods.daily(day))`` (compute, sign, store),
first with 10,000 assignments in the day (``--small``), then after growing
the day to 1,000,000 (``--assignments``), and prints for each:

- wall time (median of the timed runs), SQL statements, time per statement
  with its call site and the access path the database chose (EXPLAIN);
- peak Python memory during the report (tracemalloc, in a separate run, so
  its overhead does not count in the time) and the peak resident set size
  above the one at the start (VmHWM after resetting it via
  /proc/self/clear_refs; ru_maxrss as a fallback). The database server's own
  memory (PostgreSQL) is another process and is not in either;
- ratios big/small of time and memory next to the n ratio (100 by default).

Every figure of both reports is checked against counts the generator kept
while writing the rows (per partner: issued, assigned, delivered, acted by
outcome, pending, overdue, within-SLA share, nearest-rank median and p95,
latest attestation; anomalies, overdue items, log head size), and a few
against independent SQL counts. Any difference exits 1.

A last, informational measurement makes the report of a quiet day (as many
assignments as ``--small``) five days after the big day, when the big day's
late acts are all over, in the big table: if it costs much more than the
baseline day, the report reads the whole table, not the day.

VERDICT: the 1M-assignment report under 30 s (the issue's absolute target;
the ratio is printed too) and memory flat: the Python peak ratio under 3
while n grows 100 times, the peak RSS increase under 3 times the small one
plus 16 MiB (allocator noise), and the same statements at both sizes. Exit
status 0: holds; 2: a target missed; 1: a wrong figure or an error.

    .venv/bin/python bench/report_daily.py [--assignments 1000000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextlib
import operator
import os
import random
import sys
import time
import uuid
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import bench_hub, default_database_url, describe_db, median, ratio, sqlite_access_path, table
from _memory import MemWatch  # noqa: E402

from hub.acks.models import Attestation  # noqa: E402
from hub.auth.models import Partner  # noqa: E402
from hub.clock import now as utcnow  # noqa: E402
from hub.db import UTCDateTime, db  # noqa: E402
from hub.ledger import log  # noqa: E402
from hub.records.anomalies import Anomaly  # noqa: E402  (sys.path set by _common)
from hub.records.models import Assignment  # noqa: E402
from hub.reports import periods, service  # noqa: E402
from hub.reports.compute import OUTCOMES, OVERDUE_LISTED  # noqa: E402
from hub.reports.models import Report  # noqa: E402
from hub.reports.periods import Period  # noqa: E402
from keys.timefmt import format_ts, parse_ts  # noqa: E402

CHUNK = 50_000  # assignments per executemany / COPY
MINISTRY = "kominfo"
OPERATORS = (("telkomsel", "+62812", 45), ("indosat", "+62857", 25), ("xl", "+62817", 18), ("smartfren", "+62881", 12))
OTTS = ("whatsapp", "telegram", "line")
PARTNERS = [(MINISTRY, "ministry")] + [(op, "operator") for op, _, _ in OPERATORS] + [(o, "ott") for o in OTTS]
ZERO64 = "0" * 64
DAY_S = 86_400
LOAD: list[float] = [0.0, 0.0, 0.0]


# --- memory -------------------------------------------------------------------------


# --- statements: count, time, call site ---------------------------------------------


@dataclass
class Stmt:
    site: str
    sql: str
    params: Any
    seconds: float = 0.0  # in execute
    started: float = 0.0
    span: float = 0.0  # from its start to the next statement's (or the report's end): execute, fetch, Python


@dataclass
class StmtTimer:
    on: bool = False
    stmts: list[Stmt] = field(default_factory=list)
    _t0: float = 0.0

    def attach(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    @staticmethod
    def _site() -> str:
        f = sys._getframe(2)
        while f is not None:
            name = f.f_code.co_filename
            if "/hub/" in name and not name.endswith("/hub/db.py"):
                return f"{Path(name).stem}.{f.f_code.co_name}:{f.f_lineno}"
            f = f.f_back  # type: ignore[assignment]
        return "?"

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.on:
            self._t0 = time.perf_counter()
            self.stmts.append(Stmt(self._site(), statement, parameters, started=self._t0))

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.on and self.stmts:
            self.stmts[-1].seconds += time.perf_counter() - self._t0

    def counted(self, end: float) -> list[Stmt]:
        """The run's statements with their spans; ``end`` is when the run ended."""
        for st, nxt in zip(self.stmts, self.stmts[1:] + [None]):
            st.span = (nxt.started if nxt else end) - st.started
        # The signer re-reads hub_keys every 30 s (hub.signing.REFRESH_SECONDS): a clock tick, not the report's.
        return [s for s in self.stmts if "hub_keys" not in s.sql]


def access_path(stmt: Stmt, dialect: str) -> str:
    """The tables and indexes the database plans to read for ``stmt`` (EXPLAIN, not run)."""
    if not stmt.sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return "-"
    conn = db.session.connection()
    if dialect == "sqlite":
        return sqlite_access_path(stmt.sql, stmt.params)
    doc = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + stmt.sql, stmt.params or {}).scalar()
    db.session.commit()
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        label = ""
        if node.get("Relation Name"):
            label = f"{node['Node Type']} on {node['Relation Name']}"
            if node.get("Index Name"):
                label += f" using {node['Index Name']}"
        elif node.get("Index Name"):  # a Bitmap Index Scan under its Bitmap Heap Scan
            label = f"{node['Node Type']} using {node['Index Name']}"
        if label and label not in found:
            found.append(label)
        for kid in node.get("Plans") or []:
            walk(kid)

    walk((doc[0] if isinstance(doc, list) else doc)["Plan"])
    return "; ".join(found)


# --- the generator and what it knows ------------------------------------------------


def _naive(d: datetime) -> datetime:
    return d.astimezone(UTC).replace(tzinfo=None)


class Tally:
    """The figures a period's report must show, counted while the rows are generated.

    Times here are naive UTC, as the generator makes them (and as the hub stores them).
    """

    def __init__(self, p: Period, sla_s: int) -> None:
        self.p = p
        self.start, self.end = _naive(p.start), _naive(p.end)
        self.sla_s = sla_s
        self.due_before = self.end - timedelta(seconds=sla_s)
        self.issued: Counter[str] = Counter()
        self.assigned: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()
        self.acted: dict[str, Counter[str]] = defaultdict(Counter)
        self.pending: Counter[str] = Counter()
        self.overdue: Counter[str] = Counter()
        self.in_sla: Counter[str] = Counter()
        self.hours: dict[str, array] = defaultdict(lambda: array("d"))
        self.latest_att: dict[str, tuple[datetime, datetime, bool]] = {}
        self.mismatches = 0
        self.rereports = 0
        self.log_size = 0

    def record(self, issuer: str, received: datetime) -> None:
        if self.start <= received < self.end:
            self.issued[issuer] += 1

    def assignment(
        self,
        pid: str,
        assigned: datetime,
        delivered: datetime | None,
        acted: datetime | None,
        outcome: str | None,
        delay_s: int,
    ) -> None:
        s, e = self.start, self.end
        if s <= assigned < e:
            self.assigned[pid] += 1
            if acted is not None and delay_s <= self.sla_s:
                self.in_sla[pid] += 1
        if delivered is not None and s <= delivered < e:
            self.delivered[pid] += 1
        if acted is not None and s <= acted < e:
            self.acted[pid][outcome or ""] += 1
            self.hours[pid].append(delay_s / 3600.0)
        if assigned < e and (acted is None or acted >= e):
            self.pending[pid] += 1
            if assigned < self.due_before:
                self.overdue[pid] += 1

    def attestation(self, pid: str, as_of: datetime, received: datetime, match: bool) -> None:
        """``as_of`` and ``received`` aware UTC."""
        if as_of < self.p.end:
            prev = self.latest_att.get(pid)
            if prev is None or (as_of, received) > (prev[0], prev[1]):
                self.latest_att[pid] = (as_of, received, match)
        if not match and self.p.start <= received < self.p.end:
            self.mismatches += 1

    def expected_row(self, pid: str, kind: str) -> dict[str, Any]:
        hours = sorted(self.hours.get(pid, ()))
        n = len(hours)
        total, ok = self.assigned[pid], self.in_sla[pid]
        att = self.latest_att.get(pid)
        return {
            "partner": pid,
            "kind": kind,
            "issued": self.issued[pid],
            "assigned": total,
            "delivered": self.delivered[pid],
            "acted": {o: self.acted[pid][o] for o in OUTCOMES},
            "pending": self.pending[pid],
            "overdue": self.overdue[pid],
            "within_sla_share": round(ok / total, 4) if total else None,
            "median_hours_to_act": round(hours[(n + 1) // 2 - 1], 3) if n else None,
            "p95_hours_to_act": round(hours[(n * 95 + 99) // 100 - 1], 3) if n else None,
            "attestation": {"as_of": format_ts(att[0]), "match": att[2]} if att else None,
        }


def _same(d: datetime) -> datetime:
    return d


REC_COLS = (
    "id",
    "seq",
    "log_index",
    "sha256",
    "issuer",
    "number",
    "number_prefix",
    "number_sha256",
    "action",
    "category",
    "issued_at",
    "in_force_until",
    "supersedes",
    "lifted_by",
    "received_at",
)
ASG_COLS = ("record_id", "partner_id", "seq", "status", "assigned_at", "delivered_at", "acted_at", "outcome", "ack_id")


class Writer:
    """Bulk rows into ``records`` and ``assignments``, in the session's transaction, as fast as the driver goes.

    SQLite: one DB-API executemany per chunk, with timestamps already in the text form
    SQLAlchemy stores (checked against its own bind processor at start). PostgreSQL:
    COPY through psycopg (naive UTC timestamps, as the hub's UTCDateTime stores them), with
    the foreign-key triggers off for the transaction when the user may do that.
    Going under SQLAlchemy's per-value bind processing makes the fill about 5 times faster.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.skip_fk_triggers = dialect == "postgresql"
        if dialect == "sqlite":
            col = Assignment.__table__.c.assigned_at.type
            eng = db.engine.dialect
            proc = col.dialect_impl(eng).bind_processor(eng)
            sample = datetime(2026, 10, 10, 1, 2, 3, 4000, tzinfo=UTC)
            sample2 = sample.replace(microsecond=0)
            for d in (sample, sample2):
                want = proc(d) if proc else None
                if want != self.ts(d.replace(tzinfo=None)):
                    raise RuntimeError(f"SQLite timestamp text {want!r} is not what the bench writes")

    @property
    def ts(self) -> Callable[[datetime], Any]:
        """A naive UTC timestamp as the driver should get it (C-level calls only: it runs 4 million times)."""
        return operator.methodcaller("isoformat", " ", "microseconds") if self.dialect == "sqlite" else _same

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """SQLite: a 256 MiB page cache while filling (random index inserts), the default again for measuring."""
        if self.dialect != "sqlite":
            yield
            return
        raw = db.session.connection().connection.driver_connection
        before = raw.execute("PRAGMA cache_size").fetchone()[0]
        raw.execute("PRAGMA cache_size=-262144")
        try:
            yield
        finally:
            raw = db.session.connection().connection.driver_connection
            raw.execute(f"PRAGMA cache_size={int(before)}")
            db.session.commit()

    def write(self, recs: list[tuple[Any, ...]], asgs: list[tuple[Any, ...]]) -> None:
        raw = db.session.connection().connection.driver_connection
        if self.dialect == "sqlite":
            for name, cols, rows in (("records", REC_COLS, recs), ("assignments", ASG_COLS, asgs)):
                if rows:
                    raw.executemany(
                        f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
                    )
        else:
            if self.skip_fk_triggers:
                # As pg_restore --disable-triggers: the rows are consistent by construction, and the
                # foreign-key triggers would double the fill time. Superuser only; skipped if refused.
                try:
                    with raw.transaction():
                        raw.execute("SET LOCAL session_replication_role = replica")
                except Exception:  # noqa: BLE001  (psycopg.errors.InsufficientPrivilege and kin)
                    self.skip_fk_triggers = False
            with raw.cursor() as cur:
                if self.skip_fk_triggers:
                    cur.execute("SET LOCAL session_replication_role = replica")
                for name, cols, rows in (("records", REC_COLS, recs), ("assignments", ASG_COLS, asgs)):
                    if rows:
                        with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
        db.session.commit()


class World:
    """Writes records and assignments with chosen timestamps, keeping every tally up to date."""

    def __init__(self, rng: random.Random, tallies: list[Tally], sla_s: int, writer: Writer) -> None:
        self.rng = rng
        self.tallies = tallies
        self.sla_s = sla_s
        self.writer = writer
        self.ts = writer.ts
        self._prefix = {op: prefix for op, prefix, _ in OPERATORS}
        self.rec_no = 0
        self.records = 0
        self.assignments = 0
        self._recs: list[tuple[Any, ...]] = []
        self._asgs: list[tuple[Any, ...]] = []

    def day(self, day: date, n_assignments: int) -> None:
        """``n_assignments`` assignments made over the Jakarta ``day`` (one per record and partner).

        One tight loop (about 1.5 million rows per run): locals, no per-row helper calls
        but the tallies'.
        """
        rand, expo = self.rng.random, self.rng.expovariate
        ts, tallies, sla_s = self.ts, self.tallies, self.sla_s
        recs, asgs = self._recs, self._asgs
        start = _naive(periods.daily(day).start)
        year = timedelta(days=365)
        td = timedelta
        # home operator by weight: a table of 100 slots
        slots = [op for op, _, w in OPERATORS for _ in range(w)]
        prefix = self._prefix
        otts = list(OTTS)
        left = n_assignments
        while left > 0:
            self.rec_no += 1
            k = self.rec_no
            rid = f"00000000-0000-4000-8000-{k:012x}"
            received = start + td(milliseconds=int(rand() * DAY_S * 1000))
            if rand() < 0.92:
                op: str | None = slots[int(rand() * len(slots))]
                number = f"{prefix[op]}{k:08d}"
            else:  # a foreign number: no home operator, the OTTs only
                op = None
                number = f"+6591{k:07d}"
            issuer = MINISTRY if op is None or rand() < 0.9 else op
            action = "block" if rand() < 0.95 else "unblock"
            rts = ts(received)
            recs.append(
                (
                    rid,
                    k,
                    10_000_000 + k,
                    ZERO64,
                    issuer,
                    number,
                    "00000",
                    ZERO64,
                    action,
                    "scam",
                    rts,
                    ts(received + year) if action == "block" else None,
                    None,
                    None,
                    rts,
                )
            )
            for t in tallies:
                t.record(issuer, received)
            targets = ([op] if op else []) + otts
            if len(targets) > left:
                targets = targets[:left]
            for pid in targets:
                r = rand()
                delay = 0
                acted: datetime | None = None
                if r < 0.66:  # within the SLA; whole seconds, never exactly on its edge
                    delay = min(sla_s - 1, 60 + int(expo(1 / (4 * 3600))))
                elif r < 0.78:  # late, up to 4 days
                    delay = sla_s + 1 + int(rand() * (4 * DAY_S - sla_s))
                if delay:
                    acted = received + td(seconds=delay)
                    delivered = received + td(seconds=int(delay * rand())) if rand() < 0.9 else None
                    u = rand()
                    if action == "unblock":
                        outcome: str | None = "unblocked" if u < 0.9 else ("rejected" if u < 0.95 else "not_applicable")
                    elif pid == op:
                        outcome = "blocked" if u < 0.85 else ("rejected" if u < 0.95 else "not_applicable")
                    else:
                        outcome = "blocked" if u < 0.6 else ("not_applicable" if u < 0.9 else "rejected")
                    status = "acted"
                else:
                    delivered = received + td(seconds=10 + int(rand() * 6 * 3600)) if rand() < 0.6 else None
                    outcome = None
                    status = "delivered" if delivered else "pending"
                asgs.append(
                    (
                        rid,
                        pid,
                        k,
                        status,
                        rts,
                        ts(delivered) if delivered else None,
                        ts(acted) if acted else None,
                        outcome,
                        None,
                    )
                )
                for t in tallies:
                    t.assignment(pid, received, delivered, acted, outcome, delay)
            left -= len(targets)
            self.assignments += len(targets)
            self.records += 1
            if len(asgs) >= CHUNK:
                self.flush()
                recs, asgs = self._recs, self._asgs

    def flush(self) -> None:
        self.writer.write(self._recs, self._asgs)
        self._recs, self._asgs = [], []


def setup(world: World, day: date, quiet: date, anomalies: int, rng: random.Random) -> None:
    """Partners, log entries, attestations and anomalies: the same at both sizes."""
    now = utcnow()
    db.session.connection().execute(
        sa.insert(Partner.__table__),
        [{"id": pid, "kind": kind, "name": pid.title(), "created_at": now} for pid, kind in PARTNERS],
    )
    db.session.commit()
    # Log entries: one every 2 hours from the day before to the day after (the report's log head).
    first = periods.daily(day - timedelta(days=1)).start
    for i in range(36):
        at = first + timedelta(hours=2 * i, minutes=7)
        start = log.reserve(db.session, 1)
        oid = str(uuid.UUID(int=(1 << 100) + i, version=4))
        log.append(db.session, start, [log.Entry("record", oid, f'{{"id":"{oid}"}}'.encode())], at)
        db.session.commit()
        for t in world.tallies:
            if at < t.p.end:
                t.log_size = start + 1
    # Attestations: each operator and OTT, two in the day and one the day before; some do not match.
    atts = []
    for n, (pid, kind) in enumerate(PARTNERS):
        if kind == "ministry":
            continue
        for d, hour, match in ((day - timedelta(days=1), 12, True), (day, 6, n % 3 != 0), (day, 18, n % 2 == 0)):
            as_of = periods.daily(d).start + timedelta(hours=hour)
            received = as_of + timedelta(minutes=5)
            aid = str(uuid.UUID(int=(1 << 101) + len(atts), version=4))
            atts.append(
                {
                    "id": aid,
                    "partner_id": pid,
                    "as_of": as_of,
                    "blocked_count": 1000 + n,
                    "blocked_set_sha256": "a" * 64,
                    "expected_count": 1000 + (0 if match else n + 1),
                    "expected_sha256": "a" * 64 if match else "b" * 64,
                    "match": match,
                    "sha256": aid.replace("-", "") * 2,
                    "envelope": "{}",
                    "received_at": received,
                }
            )
            for t in world.tallies:
                t.attestation(pid, as_of, received, match)
    db.session.connection().execute(sa.insert(Attestation.__table__), atts)
    # Re-report anomalies: ``anomalies`` in the day and as many in the quiet day.
    rows = []
    for d in (day, quiet):
        start = periods.daily(d).start
        for i in range(anomalies):
            at = start + timedelta(seconds=rng.randrange(DAY_S))
            op = OPERATORS[i % len(OPERATORS)]
            rows.append(
                {
                    "kind": "rereported_after_block",
                    "number": f"{op[1]}9{i:07d}",
                    "partner_id": op[0],
                    "record_id": str(uuid.UUID(int=(1 << 102) + len(rows), version=4)),
                    "related_record_id": str(uuid.UUID(int=(1 << 103) + len(rows), version=4)),
                    "created_at": at,
                }
            )
            for t in world.tallies:
                if t.p.start <= at < t.p.end:
                    t.rereports += 1
    if rows:
        db.session.connection().execute(sa.insert(Anomaly.__table__), rows)
    db.session.commit()


def fill(world: World, day: date, n_day: int, n_history: int, history_days: int) -> None:
    """``n_history`` assignments over the ``history_days`` days before ``day``, then ``n_day`` in it."""
    with world.writer.bulk():
        for k in range(history_days, 0, -1):
            share = n_history // history_days + (1 if k <= n_history % history_days else 0)
            world.day(day - timedelta(days=k), share)
        world.day(day, n_day)
        world.flush()


def vacuum_analyze(dialect: str) -> None:
    """PostgreSQL: what autovacuum would have done to a table this size (stats, visibility map)."""
    if dialect != "postgresql":
        return
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) records, assignments, attestations, anomalies, log_entries")


# --- measuring ----------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    stmts: list[Stmt]
    mem: MemWatch


@dataclass
class SizeResult:
    label: str
    n: int
    table_rows: int
    runs: list[Run]
    traced: MemWatch
    report: dict[str, Any]

    @property
    def seconds(self) -> float:
        return median([r.seconds for r in self.runs])

    @property
    def rss_kib(self) -> int:
        return max(r.mem.rss_delta for r in self.runs)

    @property
    def stmts(self) -> list[Stmt]:
        return self.runs[-1].stmts


def make_report(p: Period, timer: StmtTimer, mem: MemWatch) -> tuple[dict[str, Any], float, list[Stmt]]:
    """One daily report as the scheduler makes it (compute, sign, store), after removing any earlier one."""
    db.session.execute(sa.delete(Report).where(Report.period_key == p.key))
    db.session.commit()
    db.session.expire_all()
    timer.stmts = []
    with mem:
        timer.on = True
        t0 = time.perf_counter()
        row, made = service.ensure(p)
        t1 = time.perf_counter()
        dt = t1 - t0
        timer.on = False
    if not made:
        raise RuntimeError("service.ensure did not make a new report")
    report = service.envelope(row)["report"]
    db.session.commit()
    return report, dt, timer.counted(t1)


def measure(label: str, p: Period, n: int, runs: int, timer: StmtTimer) -> SizeResult:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) or 0
    db.session.commit()
    done: list[Run] = []
    report: dict[str, Any] = {}
    for _ in range(runs):
        mem = MemWatch(trace=False)
        report, dt, stmts = make_report(p, timer, mem)
        done.append(Run(dt, stmts, mem))
    traced = MemWatch(trace=True)
    traced_report, _, _ = make_report(p, timer, traced)
    if _figures(traced_report) != _figures(report):
        raise VerificationFailed(f"{label}: the traced run gave other figures than the timed one")
    return SizeResult(label, n, int(count), done, traced, report)


def _figures(report: dict[str, Any]) -> Any:
    return report["totals"], report["partners"], report["overdue"]["count"]


# --- checking the figures -----------------------------------------------------------


class VerificationFailed(Exception):
    pass


def verify(report: dict[str, Any], tally: Tally, dialect: str) -> list[str]:
    """Every figure against the generator's counts, and a few against hand-written SQL."""
    p = tally.p
    problems: list[str] = []
    rows = {r["partner"]: r for r in report["partners"]}
    if set(rows) != {pid for pid, _ in PARTNERS}:
        problems.append(f"partners {sorted(rows)}")
    for pid, kind in PARTNERS:
        want, got = tally.expected_row(pid, kind), rows.get(pid, {})
        for key, w in want.items():
            g = got.get(key)
            if key in ("median_hours_to_act", "p95_hours_to_act") and w is not None and g is not None:
                if abs(g - w) > 0.0011:
                    problems.append(f"{pid}.{key}: report {g}, generator {w}")
            elif g != w:
                problems.append(f"{pid}.{key}: report {g}, generator {w}")
    tot = report["totals"]
    want_over = sum(tally.overdue.values())
    if tot["assigned"] != sum(tally.assigned.values()) or tot["overdue"] != want_over:
        problems.append(f"totals {tot}")
    over = report["overdue"]
    if over["count"] != want_over or len(over["items"]) != min(OVERDUE_LISTED, want_over):
        problems.append(f"overdue count {over['count']} items {len(over['items'])}, generator {want_over}")
    assigned_at = [parse_ts(i["assigned_at"]) for i in over["items"]]
    if assigned_at != sorted(assigned_at):
        problems.append("overdue items not in assigned_at order")
    if any(parse_ts(i["due_at"]) >= p.end for i in over["items"]):
        problems.append("an overdue item not due by the period's end")
    kinds = Counter(a["kind"] for a in report["anomalies"])
    if (
        kinds
        != Counter({"rereported_after_block": tally.rereports, "attestation_mismatch": tally.mismatches}) - Counter()
    ):
        problems.append(
            f"anomalies {dict(kinds)}, generator {tally.rereports} rereports, {tally.mismatches} mismatches"
        )
    head = report["log_head"]["tree_head"]
    if head["size"] != tally.log_size:
        problems.append(f"log head size {head['size']}, expected {tally.log_size}")
    # Independent SQL, written here, not taken from hub.reports.compute.
    params = {"s": p.start, "e": p.end, "due": p.end - timedelta(seconds=tally.sla_s)}
    binds = [sa.bindparam(k, type_=UTCDateTime()) for k in params]
    checks = {
        "assigned in the day": (
            "SELECT count(*) FROM assignments WHERE assigned_at >= :s AND assigned_at < :e",
            tot["assigned"],
        ),
        "acted in the day": (
            "SELECT count(*) FROM assignments WHERE acted_at >= :s AND acted_at < :e AND outcome IS NOT NULL",
            sum(tot["acted"].values()),
        ),
        "overdue at the end": (
            "SELECT count(*) FROM assignments WHERE assigned_at < :due AND (acted_at IS NULL OR acted_at >= :e)",
            over["count"],
        ),
        "issued in the day": (
            "SELECT count(*) FROM records WHERE received_at >= :s AND received_at < :e",
            tot["issued"],
        ),
    }
    for name, (q, shown) in checks.items():
        n = db.session.execute(sa.text(q).bindparams(*[b for b in binds if f":{b.key}" in q]), params).scalar_one()
        if n != shown:
            problems.append(f"{name}: SQL count {n}, report {shown}")
    db.session.commit()
    return problems


# --- the run ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--assignments", type=int, default=1_000_000, help="assignments in the big day (default 1000000)"
    )
    parser.add_argument("--small", type=int, default=10_000, help="assignments in the baseline day (default 10000)")
    parser.add_argument(
        "--history",
        type=float,
        default=0.5,
        help="assignments on the days before, as a share of the day's (default 0.5)",
    )
    parser.add_argument("--history-days", type=int, default=6, help="days of history before the day (default 6)")
    parser.add_argument("--day", default="2026-10-10", help="the Jakarta day of the report (default 2026-10-10)")
    parser.add_argument(
        "--anomalies", type=int, default=50, help="re-report anomalies in the day (default 50, same at both sizes)"
    )
    parser.add_argument("--runs", type=int, default=2, help="timed reports per size (default 2; one more traced)")
    parser.add_argument(
        "--target-seconds", type=float, default=30.0, help="the issue's target for the big day (default 30)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL URL (default: env BENCH_DATABASE_URL, else a SQLite file in a temp dir)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.small < args.assignments or args.runs < 1 or args.history < 0 or args.history_days < 1:
        parser.error("need 1 <= --small < --assignments, --runs >= 1, --history >= 0, --history-days >= 1")
    day = date.fromisoformat(args.day)
    quiet = day + timedelta(days=5)  # acts come at most 4 days after assignment: none of the big day's
    rng = random.Random(args.seed)
    t_start = time.perf_counter()
    LOAD[:] = os.getloadavg()

    with bench_hub(args.database_url, MINISTRY_WEBHOOK_URL=None) as hub:
        sla_s = int(hub.app.config["SLA_HOURS"]) * 3600
        p_day, p_quiet = periods.daily(day), periods.daily(quiet)
        t_day, t_quiet = Tally(p_day, sla_s), Tally(p_quiet, sla_s)
        world = World(rng, [t_day, t_quiet], sla_s, Writer(hub.dialect))
        timer = StmtTimer()
        timer.attach(db.engine)
        setup(world, day, quiet, args.anomalies, rng)

        t0 = time.perf_counter()
        fill(world, day, args.small, round(args.small * args.history), args.history_days)
        vacuum_analyze(hub.dialect)
        fill_small = (time.perf_counter() - t0, world.assignments, world.records)
        small = measure("small", p_day, args.small, max(args.runs, 3), timer)
        small_problems = verify(small.report, t_day, hub.dialect)

        t0 = time.perf_counter()
        a0, r0 = world.assignments, world.records
        grow = args.assignments - args.small
        fill(
            world,
            day,
            grow,
            round(args.assignments * args.history) - round(args.small * args.history),
            args.history_days,
        )
        vacuum_analyze(hub.dialect)
        fill_big = (time.perf_counter() - t0, world.assignments - a0, world.records - r0)
        big = measure("big", p_day, args.assignments, args.runs, timer)
        big_problems = verify(big.report, t_day, hub.dialect)
        paths = {i: access_path(s, hub.dialect) for i, s in enumerate(big.stmts)}

        # Informational: a quiet day (as small as the baseline) after the big one, in the big table.
        fill(world, quiet, args.small, 0, 1)
        vacuum_analyze(hub.dialect)
        quiet_res = measure("quiet", p_quiet, args.small, 1, timer)
        quiet_problems = verify(quiet_res.report, t_quiet, hub.dialect)
        dbname = describe_db(hub)
        dialect = hub.dialect
    total_s = time.perf_counter() - t_start
    problems = (
        [f"small: {x}" for x in small_problems]
        + [f"big: {x}" for x in big_problems]
        + [f"quiet day: {x}" for x in quiet_problems]
    )
    return print_report(args, dbname, dialect, small, big, quiet_res, paths, fill_small, fill_big, problems, total_s)


def kib(b: float) -> str:
    return f"{b / 1024:,.0f}"


def print_report(
    args: argparse.Namespace,
    dbname: str,
    dialect: str,
    small: SizeResult,
    big: SizeResult,
    quiet: SizeResult,
    paths: dict[int, str],
    fill_small: tuple[float, int, int],
    fill_big: tuple[float, int, int],
    problems: list[str],
    total_s: float,
) -> int:
    n_ratio = big.n / small.n
    print(
        f"Daily report on {dbname}: Jakarta day {args.day}, {small.n:,} -> {big.n:,} assignments in the day "
        f"(+{args.history:.0%} on the {args.history_days} days before), {len(PARTNERS)} partners, "
        f"{args.anomalies} re-report anomalies, seed {args.seed}"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {LOAD[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    for label, (secs, n_a, n_r) in (("baseline", fill_small), ("growth", fill_big)):
        print(
            f"fill ({label}): {n_a:,} assignments and {n_r:,} records in {secs:.1f} s ({n_a / secs:,.0f} assignments/s)"
            + ("; then VACUUM (ANALYZE)" if dialect == "postgresql" else "")
        )
    print(f"assignments table: {small.table_rows:,} rows at the baseline, {big.table_rows:,} at the big day")
    print()
    t_r = ratio(big.seconds, small.seconds)
    py_r = ratio(big.traced.py_peak, small.traced.py_peak)
    rss_r = ratio(big.rss_kib, small.rss_kib) if small.rss_kib else float("nan")
    ns, nb = len(small.stmts), len(big.stmts)
    rss_name = "peak RSS increase (KiB, " + (big.runs[0].mem.rss_method or "-") + ")"
    print(
        table(
            ["service.ensure(periods.daily(day))", f"{small.n:,}", f"{big.n:,}", "ratio", "n ratio"],
            [
                [
                    "wall time (s, median of timed runs)",
                    f"{small.seconds:.3f}",
                    f"{big.seconds:.3f}",
                    f"{t_r:.1f}",
                    f"{n_ratio:.0f}",
                ],
                [
                    "  timed runs (s)",
                    " ".join(f"{r.seconds:.2f}" for r in small.runs),
                    " ".join(f"{r.seconds:.2f}" for r in big.runs),
                    "",
                    "",
                ],
                [
                    "peak Python memory (KiB, tracemalloc)",
                    kib(small.traced.py_peak),
                    kib(big.traced.py_peak),
                    f"{py_r:.2f}",
                    f"{n_ratio:.0f}",
                ],
                [rss_name, f"{small.rss_kib:,}", f"{big.rss_kib:,}", f"{rss_r:.2f}", f"{n_ratio:.0f}"],
                ["SQL statements", str(ns), str(nb), f"{ratio(nb, ns):.2f}", f"{n_ratio:.0f}"],
            ],
        )
    )
    print(
        "(the report is computed, signed and stored; RSS is this process only: the PostgreSQL server's memory is not in it)"
    )
    print()
    rows = []
    for i, (a, b) in enumerate(zip(small.stmts, big.stmts)):
        site = b.site if a.site == b.site else f"{a.site} / {b.site}"
        q = f"{quiet.stmts[i].span * 1000:.1f}" if i < len(quiet.stmts) and quiet.stmts[i].site == b.site else "-"
        rows.append(
            [
                site,
                f"{a.span * 1000:.1f}",
                f"{b.span * 1000:.1f}",
                f"{ratio(b.span, a.span):.0f}" if a.span > 0.0005 else "-",
                f"{b.seconds * 1000:.1f}",
                q,
                paths.get(i, ""),
            ]
        )
    print(
        "per statement, last timed run: ms from the statement to the next one (execute, fetch, Python in between; SQLite"
    )
    print(
        "computes part of a query while its rows are fetched, so 'in execute' alone can be far less); quiet: the quiet"
    )
    print(
        f"day's report ({quiet.n:,} assignments in the day, like the baseline, in the big table); access path planned at the big size:"
    )
    print(
        table(
            [
                "call site",
                f"{small.n:,} ms",
                f"{big.n:,} ms",
                "ratio",
                "in execute",
                "quiet ms",
                "access path (EXPLAIN)",
            ],
            rows,
            "lrrrrrl",
        )
    )
    print()
    q_r = ratio(quiet.seconds, small.seconds)
    print(
        f"quiet day, 5 days after the big one ({quiet.n:,} assignments in the day, {quiet.table_rows:,} in the table): "
        f"{quiet.seconds:.3f} s = {q_r:.1f} x the baseline day with the same assignments "
        f"({ratio(quiet.seconds, big.seconds):.2f} x the big day); Python peak {kib(quiet.traced.py_peak)} KiB "
        "(informational: the time follows the table, not the day, where a statement scans it)"
    )
    tot = big.report["totals"]
    print(
        f"big report: assigned {tot['assigned']:,}, delivered {tot['delivered']:,}, acted {sum(tot['acted'].values()):,}, "
        f"pending {tot['pending']:,}, overdue {tot['overdue']:,} (items listed {len(big.report['overdue']['items'])}), "
        f"anomalies {tot['anomalies']}, log head size {big.report['log_head']['tree_head']['size']}"
    )
    if problems:
        print()
        print("FIGURES WRONG:")
        for x in problems[:30]:
            print("  " + x)
        print(f"(total {total_s:.0f} s)")
        return 1
    print(
        "figures checked: every partner row, totals, overdue items, anomalies and log head of the three reports against the "
        "generator's counts; assigned, acted, overdue and issued against hand-written SQL: OK"
    )
    print()
    missed = []
    if big.seconds >= args.target_seconds:
        missed.append(f"time {big.seconds:.1f} s >= {args.target_seconds:.0f} s")
    if not py_r < 3:
        missed.append(f"Python peak x{py_r:.2f} (limit 3)")
    if big.rss_kib > 3 * small.rss_kib + 16 * 1024:
        missed.append(f"peak RSS increase {big.rss_kib:,} KiB > 3 x {small.rss_kib:,} + 16 MiB")
    if ns != nb:
        missed.append(f"statements {ns} -> {nb}")
    desc = (
        f"{big.seconds:.1f} s for {big.n:,} assignments (target < {args.target_seconds:.0f} s; x{t_r:.1f} the "
        f"{small.n:,} baseline, n ratio {n_ratio:.0f}); Python peak {kib(big.traced.py_peak)} KiB = x{py_r:.2f}, "
        f"peak RSS +{big.rss_kib / 1024:.1f} MiB vs +{small.rss_kib / 1024:.1f} MiB; {nb} statements at both sizes"
        if ns == nb
        else ""
    )
    if missed:
        print(f"VERDICT: daily report target MISSED on {dbname}: " + "; ".join(missed) + (f" ({desc})" if desc else ""))
    else:
        print(f"VERDICT: daily report target holds on {dbname}: {desc}")
    print(f"(total {total_s:.0f} s)")
    return 2 if missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except VerificationFailed as exc:
        print(f"FIGURES WRONG: {exc}", file=sys.stderr)
        sys.exit(1)
