"""Attestations for a partner with 100,000 blocked numbers: same memory as with 10?

Issue target: "An attestation that matches and one that does not are both
shown correctly, for a partner with 100,000 blocked numbers, within the same
memory as for one with 10." hub/acks/attest.py computes the expected set in
the database, sorted, streamed (``yield_per``) and hashed as it streams, so
memory should not depend on how many numbers a partner blocks.

The benchmark registers three operators with the admin CLI (as the
``register`` fixture of tests/conftest.py does) in one throwaway hub and
writes, with SQLAlchemy Core inserts in chunks (as tests/test_acks.py does),
blocks they acked ``blocked``: 10 for the small one (``--small``), 10,000 for
a middle one (``--mid``, 0 to skip) and 100,000 for the big one (``--big``).
Each also gets the cases the expected set must get right, about 1% of its
size each (at least 2): blocks lifted by an unblock accepted before
``as_of`` (out) or after it (in), blocks expired by then (out) or expiring
just after (in), acks ``rejected`` (out), acks accepted after ``as_of``
(out), assignments never acked (out), and a second block of a number already
in the set (counted once). The generator keeps the set it expects.

For each partner, interleaved over ``--runs`` rounds:

- ``hub.acks.attest.expected_set(partner, as_of)`` called directly;
- a full ``POST /v1/attestations`` through the Flask test client, matching
  (the generator's set) and mismatching (same count, one number different),
  signed beforehand with ``keys.signing.sign_object``; each answer must be
  201 with the right ``match`` and ``expected_count`` (and the same id
  again 200 with the stored result).

Columns: time (median), SQL statements, peak Python memory (tracemalloc, in
a separate untimed run), and the peak resident set size above the one at the
start (VmHWM after resetting it via /proc/self/clear_refs; ru_maxrss as a
fallback). Ratios big/small are printed next to the n ratio (10,000). The
database server's memory (PostgreSQL) is another process and not in them.

VERDICT: memory is the same when the Python peak ratio big/small is at most
1.5 (for ``expected_set`` and for both requests) and the peak RSS increase at
the big size stays under the small one's plus 8 MiB; statements must be the
same at all sizes. Time grows with n (every number is read and hashed); it is
printed, not judged. Exit status 0: holds; 2: it does not; 1: a wrong
answer or an error.

    .venv/bin/python bench/attestation_memory.py [--big 100000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import contextvars
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from _common import bench_hub, default_database_url, describe_db, median, ratio, sqlite_access_path, table
from _memory import MemWatch  # noqa: E402

from hub.acks import attest  # noqa: E402  (sys.path set by _common)
from hub.clock import now as utcnow  # noqa: E402
from hub.db import db  # noqa: E402
from hub.records.models import Assignment, Record  # noqa: E402
from keys.timefmt import format_ts  # noqa: E402
from tests.support import attestation_body, basic_auth, bearer, register_partner  # noqa: E402

CHUNK = 20_000
LOAD: list[float] = [0.0, 0.0, 0.0]
ZERO64 = "0" * 64
PARTNERS = (("indosat", "+62857"), ("xl", "+62817"), ("telkomsel", "+62812"))  # small, mid, big


# --- memory (as bench/report_daily.py) -----------------------------------------------


@dataclass
class SqlLog:
    on: bool = False
    stmts: list[tuple[str, Any]] = field(default_factory=list)

    def attach(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.on:
            self.stmts.append((statement, parameters))

    def counted(self) -> int:
        # The signer's and the key ring's periodic refreshes are clock ticks, not the attestation's.
        return sum(1 for s, _ in self.stmts if "hub_keys" not in s)


# --- partners and blocks --------------------------------------------------------------


class Blocks:
    """Writes a partner's blocks and the cases around them; knows the set the hub must expect."""

    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.seq = 0
        self.recs: list[dict[str, Any]] = []
        self.asgs: list[dict[str, Any]] = []
        self.rows = 0

    def _record(
        self,
        number: str,
        action: str,
        received: datetime,
        in_force_until: datetime | None,
        lifted_by: str | None = None,
        rid: str | None = None,
        lifted_at: datetime | None = None,
    ) -> str:
        self.seq += 1
        rid = rid or str(uuid.UUID(int=self.seq, version=4))
        h = hashlib.sha256(number.encode()).hexdigest()
        self.recs.append(
            {
                "id": rid,
                "seq": 10_000_000 + self.seq,
                "log_index": 10_000_000 + self.seq,
                "sha256": h,
                "issuer": "kominfo",
                "number": number,
                "number_prefix": h[:5],
                "number_sha256": h,
                "action": action,
                "category": "scam",
                "issued_at": received,
                "in_force_until": in_force_until,
                "supersedes": None,
                "lifted_by": lifted_by,
                "lifted_at": lifted_at,
                "received_at": received,
            }
        )
        return rid

    def _assign(self, rid: str, pid: str, assigned: datetime, acted: datetime | None, outcome: str | None) -> None:
        self.asgs.append(
            {
                "record_id": rid,
                "partner_id": pid,
                "seq": 10_000_000 + self.seq,
                "status": "acted" if outcome else "delivered",
                "assigned_at": assigned,
                "delivered_at": assigned + timedelta(minutes=1),
                "acted_at": acted,
                "outcome": outcome,
                "ack_id": None,
            }
        )
        if len(self.asgs) >= CHUNK:
            self.flush()

    def block(
        self,
        pid: str,
        number: str,
        *,
        days_ago: float,
        acted_after: timedelta = timedelta(hours=1),
        outcome: str | None = "blocked",
        until: datetime | None = None,
        lifted_at: datetime | None = None,
    ) -> None:
        """A block of ``number`` received ``days_ago`` before as_of, assigned to ``pid``; optionally lifted at ``lifted_at``."""
        received = self.as_of - timedelta(days=days_ago)
        unblock_id = str(uuid.uuid4()) if lifted_at else None
        rid = self._record(
            number,
            "block",
            received,
            until or self.as_of + timedelta(days=180),
            lifted_by=unblock_id,
            lifted_at=lifted_at,
        )
        self._assign(rid, pid, received, received + acted_after if outcome else None, outcome)
        if lifted_at is not None:
            self._record(number, "unblock", lifted_at, None, rid=unblock_id)
            self._assign(unblock_id or "", pid, lifted_at, lifted_at + timedelta(minutes=2), "unblocked")

    def flush(self) -> None:
        conn = db.session.connection()
        if self.recs:
            conn.execute(sa.insert(Record.__table__), self.recs)
        if self.asgs:
            conn.execute(sa.insert(Assignment.__table__), self.asgs)
        db.session.commit()
        self.rows += len(self.asgs)
        self.recs, self.asgs = [], []


def make_partner_blocks(blocks: Blocks, pid: str, prefix: str, n: int) -> list[str]:
    """Rows for ``pid`` whose expected set is exactly ``n`` numbers; returns them."""
    as_of = blocks.as_of
    edge = max(2, n // 100)
    numbers = [f"{prefix}{i:08d}" for i in range(n)]
    expected = list(numbers)
    k = 0
    for i, num in enumerate(numbers):
        days = 1 + (i * 7919) % 300 / 1.0
        if k < edge and i % 3 == 0:  # lifted, but after as_of: still in force then
            blocks.block(pid, num, days_ago=days, lifted_at=as_of + timedelta(minutes=30))
            k += 1
        elif i < 2 * edge and i % 3 == 1:  # expiring just after as_of
            blocks.block(pid, num, days_ago=days, until=as_of + timedelta(minutes=1))
        else:
            blocks.block(pid, num, days_ago=days)
    for j in range(edge):  # a second block of a number already in the set: counted once
        blocks.block(pid, numbers[j * max(1, n // edge) % n], days_ago=0.5)
    out = [f"{prefix}9{j:07d}" for j in range(7 * edge)]  # numbers that must stay out
    for j, num in enumerate(out):
        case = j % 7
        if case == 0:  # lifted by an unblock accepted before as_of
            blocks.block(pid, num, days_ago=20, lifted_at=as_of - timedelta(days=1))
        elif case == 1:  # expired by as_of
            blocks.block(pid, num, days_ago=200, until=as_of - timedelta(hours=1))
        elif case == 2:  # acked rejected
            blocks.block(pid, num, days_ago=3, outcome="rejected")
        elif case == 3:  # acked blocked after as_of
            blocks.block(pid, num, days_ago=0.01, acted_after=timedelta(hours=1))
        elif case == 4:  # never acked
            blocks.block(pid, num, days_ago=2, outcome=None)
        elif case == 5:  # acked not_applicable
            blocks.block(pid, num, days_ago=4, outcome="not_applicable")
        else:  # exactly at expiry: in_force_until > as_of is false
            blocks.block(pid, num, days_ago=100, until=as_of)
    return expected


# --- measuring ----------------------------------------------------------------------


@dataclass
class Op:
    times: list[float] = field(default_factory=list)
    stmts: list[int] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # KiB
    py_peak: int = 0
    rss_method: str = ""
    plan: str = ""

    @property
    def seconds(self) -> float:
        return median(self.times)


def timed(op: Op, sql: SqlLog, fn: Callable[[], Any], trace: bool = False) -> Any:
    mem = MemWatch(trace=trace)
    sql.stmts = []
    with mem:
        sql.on = True
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        sql.on = False
    if trace:
        op.py_peak = mem.py_peak
    else:
        op.times.append(dt)
        op.stmts.append(sql.counted())
        op.rss.append(mem.rss_delta)
        op.rss_method = mem.rss_method
    db.session.remove()  # as after a request: nothing held over between calls
    return out


def access_path(statement: str, params: Any, dialect: str) -> str:
    conn = db.session.connection()
    if dialect == "sqlite":
        return sqlite_access_path(statement, params)
    # expected_set streams (yield_per): psycopg runs it as a server-side cursor, which
    # PostgreSQL plans for its first rows (cursor_tuple_fraction), so EXPLAIN it as one.
    doc = conn.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) DECLARE bench_c NO SCROLL CURSOR WITHOUT HOLD FOR " + statement, params or {}
    ).scalar()
    db.session.commit()
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        label = ""
        if node.get("Relation Name"):
            label = f"{node['Node Type']} on {node['Relation Name']}" + (
                f" using {node['Index Name']}" if node.get("Index Name") else ""
            )
        elif node.get("Index Name"):
            label = f"{node['Node Type']} using {node['Index Name']}"
        if label and label not in found:
            found.append(label)
        for kid in node.get("Plans") or []:
            walk(kid)

    walk((doc[0] if isinstance(doc, list) else doc)["Plan"])
    return "; ".join(found)


def set_digest(numbers: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(numbers))).encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10, help="numbers the small partner blocks (default 10)")
    parser.add_argument(
        "--mid", type=int, default=10_000, help="numbers the middle partner blocks (default 10000; 0: none)"
    )
    parser.add_argument("--big", type=int, default=100_000, help="numbers the big partner blocks (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds (default 3; one more traced)")
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL URL (default: env BENCH_DATABASE_URL, else a SQLite file in a temp dir)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.small < args.big or (args.mid and not args.small < args.mid < args.big) or args.runs < 1:
        parser.error("need 1 <= --small < --mid < --big (or --mid 0), --runs >= 1")
    sizes = {"small": args.small, **({"mid": args.mid} if args.mid else {}), "big": args.big}
    t_start = time.perf_counter()
    LOAD[:] = os.getloadavg()

    with bench_hub(args.database_url) as hub:
        app = hub.app
        sql = SqlLog()
        sql.attach(db.engine)
        register_partner(app, "kominfo", "ministry")
        creds = {
            label: register_partner(app, pid, "operator")
            for label, (pid, _) in zip(("small", "mid", "big"), PARTNERS)
            if label in sizes
        }
        client = app.test_client()
        headers = {}
        for label, c in creds.items():
            resp = contextvars.Context().run(
                client.post, "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(c)
            )
            if resp.status_code != 200:
                raise RuntimeError(f"token refused: {resp.status_code} {resp.get_data(as_text=True)}")
            headers[label] = bearer(resp.get_json()["access_token"])

        as_of = utcnow() - timedelta(hours=2)
        blocks = Blocks(as_of)
        expected: dict[str, list[str]] = {}
        t_fill = time.perf_counter()
        with app.app_context():
            for label, (pid, prefix) in zip(("small", "mid", "big"), PARTNERS):
                if label in sizes:
                    expected[label] = make_partner_blocks(blocks, pid, prefix, sizes[label])
            blocks.flush()
            if hub.dialect == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM (ANALYZE) records, assignments")
            total_rows = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) or 0
            db.session.commit()
        fill_s = time.perf_counter() - t_fill
        as_of_text = format_ts(as_of)
        want = {label: (len(nums), set_digest(nums)) for label, nums in expected.items()}

        # Bodies signed beforehand (the partner's work): per partner and round, one matching and
        # one mismatching (same count, one number swapped for one it never blocked).
        def bodies(label: str, match: bool) -> dict[str, Any]:
            nums = expected[label]
            if not match:
                nums = nums[:-1] + [PARTNERS[0][1] + "77777777"]
            return creds[label].sign("attestation", attestation_body(creds[label].id, nums, as_of=as_of_text))

        t_sign = time.perf_counter()
        rounds = args.runs + 1  # the last one traced
        signed = {(label, m, r): bodies(label, m) for label in sizes for m in (True, False) for r in range(rounds + 1)}
        sign_s = time.perf_counter() - t_sign

        ops: dict[tuple[str, str], Op] = {
            (label, kind): Op() for label in sizes for kind in ("expected_set", "match", "mismatch")
        }
        problems: list[str] = []

        def request(label: str, body: dict[str, Any]) -> Any:
            # In an empty context, so the request pushes its own app context as under a WSGI
            # server: inside the benchmark's one, Flask would reuse it and its ``g`` (see README).
            return contextvars.Context().run(client.post, "/v1/attestations", json=body, headers=headers[label])

        def post(label: str, body: dict[str, Any], match: bool) -> Any:
            resp = request(label, body)
            got = resp.get_json(silent=True) or {}
            n = sizes[label]
            if resp.status_code != 201 or got.get("match") is not match or got.get("expected_count") != n:
                problems.append(f"{label} ({n:,}) {'matching' if match else 'mismatching'}: {resp.status_code} {got}")
            return got

        def direct(label: str) -> attest.ExpectedSet:
            got = attest.expected_set(creds[label].id, as_of)
            if (got.count, got.sha256) != want[label]:
                problems.append(
                    f"{label} expected_set: {got.count} {got.sha256[:12]}..., generator {want[label][0]} {want[label][1][:12]}..."
                )
            return got

        with app.app_context():
            # Warm-up, untimed: first use of each code path and of each partner's rows.
            for label in sizes:
                direct(label)
                post(label, signed[(label, True, rounds)], True)
                post(label, signed[(label, False, rounds)], False)
                db.session.remove()
            for r in range(rounds):
                trace = r == args.runs
                for label in sizes:
                    timed(ops[(label, "expected_set")], sql, lambda label=label: direct(label), trace)
                    if not trace and not ops[(label, "expected_set")].plan:
                        q = next((s, p) for s, p in sql.stmts if "records" in s and "assignments" in s)
                        ops[(label, "expected_set")].plan = access_path(q[0], q[1], hub.dialect)
                    timed(
                        ops[(label, "match")],
                        sql,
                        lambda label=label, r=r: post(label, signed[(label, True, r)], True),
                        trace,
                    )
                    timed(
                        ops[(label, "mismatch")],
                        sql,
                        lambda label=label, r=r: post(label, signed[(label, False, r)], False),
                        trace,
                    )
            # The same attestation again: 200 and the stored result.
            for label in sizes:
                body = signed[(label, True, 0)]
                again = request(label, body)
                got = again.get_json(silent=True) or {}
                if (
                    again.status_code != 200
                    or got.get("match") is not True
                    or got.get("id") != body["attestation"]["id"]
                ):
                    problems.append(f"{label} replay: {again.status_code} {got}")
        dbname = describe_db(hub)
    total_s = time.perf_counter() - t_start
    return print_report(args, dbname, sizes, ops, problems, int(total_rows), blocks.seq, fill_s, sign_s, total_s)


def print_report(
    args: argparse.Namespace,
    dbname: str,
    sizes: dict[str, int],
    ops: dict[tuple[str, str], Op],
    problems: list[str],
    total_rows: int,
    records: int,
    fill_s: float,
    sign_s: float,
    total_s: float,
) -> int:
    small, big = sizes["small"], sizes["big"]
    n_ratio = big / small
    print(
        f"Attestations on {dbname}: partners blocking {', '.join(f'{n:,}' for n in sizes.values())} numbers "
        f"(and ~1% per edge case each), {args.runs} timed round(s) + 1 traced"
    )
    print(
        f"fill: {records:,} records, {total_rows:,} assignments in {fill_s:.1f} s; bodies signed beforehand in {sign_s:.1f} s"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {LOAD[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    print()
    labels = list(sizes)
    rows = []
    rss_method = ""
    for kind, name in (
        ("expected_set", "expected_set()"),
        ("match", "POST matching"),
        ("mismatch", "POST mismatching"),
    ):
        for label in labels:
            op = ops[(label, kind)]
            rss_method = rss_method or op.rss_method
            rows.append(
                [
                    name if label == labels[0] else "",
                    f"{sizes[label]:,}",
                    f"{op.seconds * 1000:.2f}",
                    f"{op.seconds / sizes[label] * 1e6:.2f}",
                    f"{min(op.stmts)}-{max(op.stmts)}" if min(op.stmts) != max(op.stmts) else str(op.stmts[0]),
                    f"{op.py_peak / 1024:,.1f}",
                    f"{max(op.rss):,}",
                ]
            )
    print(
        table(
            [
                "operation",
                "numbers",
                "ms (median)",
                "us/number",
                "stmts",
                "py peak KiB",
                f"RSS incr KiB ({rss_method})",
            ],
            rows,
        )
    )
    print()
    rrows = []
    missed: list[str] = []
    excess_mib = 0.0
    for kind, name in (
        ("expected_set", "expected_set()"),
        ("match", "POST matching"),
        ("mismatch", "POST mismatching"),
    ):
        a, b = ops[("small", kind)], ops[("big", kind)]
        py_r = ratio(b.py_peak, a.py_peak)
        t_r = ratio(b.seconds, a.seconds)
        rss_big, rss_small = max(b.rss), max(a.rss)
        excess = (b.py_peak - a.py_peak) / 2**20
        excess_mib = max(excess_mib, excess)
        plateau = ratio(b.py_peak, ops[("mid", kind)].py_peak) if "mid" in sizes else float("nan")
        rrows.append(
            [
                name,
                f"{py_r:.2f}",
                f"{plateau:.2f}" if "mid" in sizes else "-",
                f"{excess:+.2f}",
                f"{rss_big - rss_small:+,}",
                f"{t_r:.0f}",
                f"{n_ratio:,.0f}",
            ]
        )
        # Flat = does not grow with n: no growth from mid to big (n x10), and what the big
        # partner costs over the small one bounded by a constant (8 MiB, as for RSS).
        if "mid" in sizes and plateau > 1.5:
            missed.append(f"{name} Python peak grows from {sizes['mid']:,} to {big:,} numbers: x{plateau:.2f}")
        if "mid" not in sizes and py_r > 1.5:
            missed.append(f"{name} Python peak x{py_r:.2f}")
        if excess > 8:
            missed.append(f"{name} Python peak +{excess:.1f} MiB over the small partner")
        if rss_big > rss_small + 8 * 1024:
            missed.append(f"{name} RSS +{rss_big:,} KiB vs +{rss_small:,} KiB")
        if sorted(set(a.stmts)) != sorted(set(b.stmts)):
            missed.append(f"{name} statements {sorted(set(a.stmts))} -> {sorted(set(b.stmts))}")
    mid_head = f"py peak big/mid (n x{big / sizes['mid']:.0f})" if "mid" in sizes else "py peak big/mid"
    print(f"ratios big ({big:,}) / small ({small:,}):")
    print(
        table(
            [
                "operation",
                "py peak ratio",
                mid_head,
                "py peak big-small MiB",
                "RSS incr big-small KiB",
                "time ratio",
                "n ratio",
            ],
            rrows,
        )
    )
    print(
        f"(the expected set is fetched {attest.STREAM_BATCH:,} rows at a time (hub.acks.attest.STREAM_BATCH): memory grows "
        f"up to that many numbers, then stays flat; big/mid is the flatness, big-small the constant it costs)"
    )
    print()
    print(
        "access path of the expected-set query (EXPLAIN"
        + (" DECLARE ... CURSOR: it streams through a server-side cursor)" if "PostgreSQL" in dbname else ")")
        + ":"
    )
    for label in labels:
        print(f"  {sizes[label]:>9,}: {ops[(label, 'expected_set')].plan}")
    print()
    if problems:
        print("WRONG ANSWERS:")
        for p in problems[:20]:
            print("  " + p)
        print(f"(total {total_s:.0f} s)")
        return 1
    print(
        "answers checked: expected_set count and SHA-256 equal the generator's set at every size; every matching POST 201 "
        "match=true, every mismatching one 201 match=false, expected_count right; the same id again 200 with the stored result: OK"
    )
    print()
    exp_r = ratio(ops[("big", "expected_set")].py_peak, ops[("small", "expected_set")].py_peak)
    req_r = max(ratio(ops[("big", k)].py_peak, ops[("small", k)].py_peak) for k in ("match", "mismatch"))
    flat = (
        f"big/mid x{max(ratio(ops[('big', k)].py_peak, ops[('mid', k)].py_peak) for k in ('expected_set', 'match', 'mismatch')):.2f} "
        f"(n x{big / sizes['mid']:.0f}), "
        if "mid" in sizes
        else ""
    )
    if missed:
        print(f"VERDICT: attestation memory NOT flat on {dbname}: " + "; ".join(missed) + f" (n ratio {n_ratio:,.0f})")
    else:
        print(
            f"VERDICT: attestation memory bounded on {dbname}: Python peak {flat}big/small x{exp_r:.2f} for expected_set and "
            f"<= x{req_r:.2f} for the requests (+{excess_mib:.1f} MiB at most: the {attest.STREAM_BATCH:,}-row fetch "
            f"buffer, not n), n ratio {n_ratio:,.0f}; matching and mismatching both answered right"
        )
    print(f"(total {total_s:.0f} s)")
    return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
