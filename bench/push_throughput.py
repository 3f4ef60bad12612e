"""Push throughput end to end, and how much of it is spent inside the write transaction.

DESIGN.md ("The hot path: a push") does everything it can outside any lock
and keeps one short write transaction per batch (take the counter, insert
records, assignments and log leaves, extend the Merkle log, commit). This
benchmark pushes signed records through the real app (Flask test client:
routing, auth, validation, signatures, SQL, receipts; no network) in batches
of 1, 100 and 1000, and prints:

- records/second and ms per request and per record for each batch size,
  with ratios against the batch-of-1 baseline measured in the same run;
- the time inside the write transaction (from hub.ledger.log.reserve, its
  first statement, to the commit that ends it) and its share of the request:
  the part that serializes pushes across all hub instances;
- where the rest goes (auth, batch shape, per-item checks, database checks
  with signature verification, receipts, everything else), and the SQL
  statements per request, inside and outside the transaction.

Batch sizes are interleaved over a few rounds so a slow moment of the
machine, or the growing database, does not favour one of them. The
instrumentation wraps hub functions in this process only.

    .venv/bin/python bench/push_throughput.py [--rounds 3] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import sqlalchemy as sa
from _common import bench_hub, default_database_url, describe_db, mean, ratio, table
from sqlalchemy.orm import Session

import hub.auth.protect as protect  # noqa: E402  (sys.path set by _common)
import hub.ledger.log as ledger_log  # noqa: E402
import hub.records.ingest as ingest  # noqa: E402
import hub.records.routes as record_routes  # noqa: E402
from hub.db import db  # noqa: E402
from tests.support import PartnerCreds, basic_auth, bearer, record_body, register_partner  # noqa: E402

# --- instrumentation (this process only) --------------------------------------------

PHASES = ("auth", "batch shape", "item checks", "db checks", "write tx", "receipts")


@dataclass
class Probe:
    """Time and statements of the request being measured."""

    active: bool = False
    phase: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    tx_start: float | None = None
    in_tx: bool = False
    stmts: int = 0
    tx_stmts: int = 0
    tx_count: int = 0
    tx_sql: float = 0.0  # inside the write tx: time in statements
    tx_commit: float = 0.0  # inside the write tx: time in COMMIT
    stmt_start: float = 0.0
    commit_start: float | None = None

    def reset(self) -> None:
        self.phase = defaultdict(float)
        self.tx_start = None
        self.in_tx = False
        self.stmts = self.tx_stmts = self.tx_count = 0
        self.tx_sql = self.tx_commit = 0.0
        self.commit_start = None


PROBE = Probe()


def _timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            PROBE.phase[phase] += time.perf_counter() - t0

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _reserve(session: Any, count: int) -> int:
    PROBE.tx_start = time.perf_counter()
    PROBE.in_tx = True
    PROBE.tx_count += 1
    return _original_reserve(session, count)


def _before_commit(session: Any) -> None:
    if PROBE.in_tx:
        PROBE.commit_start = time.perf_counter()


def _end_tx(session: Any) -> None:
    now = time.perf_counter()
    if PROBE.tx_start is not None:
        PROBE.phase["write tx"] += now - PROBE.tx_start
        PROBE.tx_start = None
    if PROBE.commit_start is not None:
        PROBE.tx_commit += now - PROBE.commit_start
        PROBE.commit_start = None
    PROBE.in_tx = False


def _count_statement(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if PROBE.active:
        PROBE.stmts += 1
        if PROBE.in_tx:
            PROBE.tx_stmts += 1
            PROBE.stmt_start = time.perf_counter()


def _statement_done(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if PROBE.active and PROBE.in_tx:
        PROBE.tx_sql += time.perf_counter() - PROBE.stmt_start


_original_reserve = ledger_log.reserve


def instrument(engine: sa.Engine) -> None:
    ledger_log.reserve = _reserve  # ingest calls log.reserve through the module
    sa.event.listen(Session, "before_commit", _before_commit)
    sa.event.listen(Session, "after_commit", _end_tx)
    sa.event.listen(Session, "after_rollback", _end_tx)
    sa.event.listen(engine, "before_cursor_execute", _count_statement)
    sa.event.listen(engine, "after_cursor_execute", _statement_done)
    # The hub's push pipeline is refactored now and then; wrap whatever of it is there
    # and report a phase it cannot find as n/a rather than fail.
    import hub.batch as batch

    _wrap(protect, "authenticate", "auth")
    _wrap(record_routes, "read_batch", "batch shape")
    _wrap(ingest, "_judge_alone", "item checks")
    if not _wrap(getattr(ingest, "RecordJudge", None), "with_database", "db checks"):
        _wrap(ingest, "_judge_with_database", "db checks")
    # receipts are signed by hub.batch.run, or by ingest itself in older versions
    if not _wrap(batch, "receipt", "receipts"):
        _wrap(ingest, "receipt", "receipts")


MISSING: set[str] = set()


def _wrap(owner: Any, name: str, phase: str) -> bool:
    """Replace ``owner.name`` by a timed wrapper; False when there is no such attribute."""
    fn = getattr(owner, name, None) if owner is not None else None
    if fn is None:
        MISSING.add(phase)
        return False
    MISSING.discard(phase)
    setattr(owner, name, _timed(phase, fn))
    return True


# --- partners and records -----------------------------------------------------------


# Telkomsel and Indosat have an operator in this world, XL has none (OTT only).
PREFIXES = ["+62812", "+62813", "+62815", "+62857", "+62817"]


class Numbers:
    """Distinct valid Indonesian mobile numbers (so the hub's number cache never helps)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def next(self) -> str:
        while True:
            n = self.rng.choice(PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if n in self.seen:
                continue
            parsed = phonenumbers.parse(n, None)
            if (
                phonenumbers.is_valid_number(parsed)
                and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == n
            ):
                self.seen.add(n)
                return n


def make_body(creds: PartnerCreds, numbers: Numbers, size: int) -> bytes:
    records = [creds.sign("record", record_body(creds.id, numbers.next(), id=str(uuid.uuid4()))) for _ in range(size)]
    return json.dumps({"records": records}).encode()


# --- the run ------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    records: int
    phase: dict[str, float]
    stmts: int
    tx_stmts: int
    tx_count: int
    tx_sql: float
    tx_commit: float


def push(client: Any, headers: dict[str, str], body: bytes, size: int) -> Sample:
    PROBE.reset()
    PROBE.active = True
    t0 = time.perf_counter()
    resp = client.post("/v1/records", data=body, headers=headers, content_type="application/json")
    dt = time.perf_counter() - t0
    PROBE.active = False
    if resp.status_code != 200:
        raise RuntimeError(f"push answered {resp.status_code}: {resp.get_data(as_text=True)[:500]}")
    results = resp.get_json()["results"]
    bad = [r for r in results if r["status"] != "accepted"]
    if len(results) != size or bad:
        raise RuntimeError(f"expected {size} accepted, got {len(results)} results; first problem: {bad[:1]}")
    if PROBE.tx_count != 1:
        raise RuntimeError(f"expected one write transaction per push, saw {PROBE.tx_count}")
    return Sample(
        dt, size, dict(PROBE.phase), PROBE.stmts, PROBE.tx_stmts, PROBE.tx_count, PROBE.tx_sql, PROBE.tx_commit
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--requests", default="150,6,2", help="requests per round for batches of 1,100,1000 (default 150,6,2)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL URL (default: env BENCH_DATABASE_URL, else a SQLite file in a temp dir)",
    )
    args = parser.parse_args(argv)
    sizes = (1, 100, 1000)
    counts = [int(x) for x in args.requests.split(",")]
    if len(counts) != len(sizes) or min(counts) < 1 or args.rounds < 1:
        parser.error("--requests takes three counts of at least 1, --rounds at least 1")
    per_round = dict(zip(sizes, counts))
    rng = random.Random(args.seed)
    t_start = time.perf_counter()

    with bench_hub(args.database_url) as hub:
        app = hub.app
        instrument(db.engine)
        kominfo = register_partner(app, "kominfo", "ministry")
        register_partner(app, "telkomsel", "operator", ["Telkomsel"])
        register_partner(app, "indosat", "operator", ["Indosat Ooredoo Hutchison"])
        register_partner(app, "whatsapp", "ott")
        register_partner(app, "telegram", "ott")
        client = app.test_client()
        resp = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(kominfo))
        if resp.status_code != 200:
            raise RuntimeError(f"token refused: {resp.status_code} {resp.get_data(as_text=True)}")
        headers = bearer(resp.get_json()["access_token"])
        numbers = Numbers(rng)

        # Signing is the partner's work, not the hub's: prepare every body first.
        t_sign = time.perf_counter()
        plan: list[tuple[int, bytes]] = []
        warmup = [(s, make_body(kominfo, numbers, s)) for s in sizes]
        for _ in range(args.rounds):
            round_plan = [(s, make_body(kominfo, numbers, s)) for s in sizes for _ in range(per_round[s])]
            rng.shuffle(round_plan)
            plan += round_plan
        sign_s = time.perf_counter() - t_sign

        for s, body in warmup:
            push(client, headers, body, s)
        samples: dict[int, list[Sample]] = {s: [] for s in sizes}
        for s, body in plan:
            samples[s].append(push(client, headers, body, s))
        stored = ledger_log.size()
        db.session.commit()
        dbname = describe_db(hub)
    total_s = time.perf_counter() - t_start
    expected = sum(s for s, _ in warmup) + sum(s for s, _ in plan)
    if stored != expected:
        print(f"log size {stored} != {expected} records pushed", file=sys.stderr)
        return 1
    report(args, dbname, sizes, samples, sign_s, total_s)
    return 0


def report(
    args: argparse.Namespace,
    dbname: str,
    sizes: tuple[int, ...],
    samples: dict[int, list[Sample]],
    sign_s: float,
    total_s: float,
) -> None:
    print(
        f"Push throughput on {dbname}, Flask test client, {args.rounds} interleaved rounds "
        f"(requests per round {args.requests} for batches of {','.join(map(str, sizes))}), seed {args.seed}"
    )
    print()
    summary = {}
    rows = []
    for s in sizes:
        xs = samples[s]
        secs = sum(x.seconds for x in xs)
        recs = sum(x.records for x in xs)
        tx = sum(x.phase.get("write tx", 0.0) for x in xs)
        summary[s] = {
            "rps": recs / secs,
            "ms_req": secs / len(xs) * 1000,
            "ms_rec": secs / recs * 1000,
            "tx_ms": tx / len(xs) * 1000,
            "tx_share": tx / secs,
            "stmts": mean([x.stmts for x in xs]),
            "tx_stmts": mean([x.tx_stmts for x in xs]),
        }
        m = summary[s]
        rows.append(
            [
                str(s),
                str(len(xs)),
                f"{recs:,}",
                f"{m['rps']:,.0f}",
                f"{m['ms_req']:.2f}",
                f"{m['ms_rec']:.3f}",
                f"{m['tx_ms']:.2f}",
                f"{m['tx_share'] * 100:.1f}%",
                f"{m['stmts']:.1f}",
                f"{m['tx_stmts']:.1f}",
            ]
        )
    print(
        table(
            [
                "batch",
                "requests",
                "records",
                "records/s",
                "ms/request",
                "ms/record",
                "write tx ms/req",
                "in write tx",
                "stmts/req",
                "stmts in tx",
            ],
            rows,
        )
    )
    print()
    base = summary[sizes[0]]
    rrows = []
    for s in sizes:
        m = summary[s]
        rrows.append(
            [
                str(s),
                f"{ratio(m['rps'], base['rps']):.1f}x",
                f"{ratio(m['ms_rec'], base['ms_rec']):.3f}",
                f"{ratio(m['tx_ms'] / s, base['tx_ms']):.3f}",
                f"{m['tx_share'] * 100:.1f}% vs {base['tx_share'] * 100:.1f}%",
            ]
        )
    print(f"ratios against the batch of {sizes[0]} (same run):")
    print(table(["batch", "records/s", "ms/record", "write tx ms/record", "share in write tx"], rrows))
    print()

    # Where the time goes, as a share of the request.
    brows = []
    for s in sizes:
        xs = samples[s]
        secs = sum(x.seconds for x in xs)
        shares = [sum(x.phase.get(p, 0.0) for x in xs) / secs for p in PHASES]
        brows.append(
            [str(s)]
            + [("n/a" if p in MISSING else f"{v * 100:.1f}%") for p, v in zip(PHASES, shares)]
            + [f"{max(0.0, 1 - sum(shares)) * 100:.1f}%"]
        )
    print("share of request time by phase (write tx = reserve -> commit; other = HTTP, JSON in/out, row building):")
    print(table(["batch", *PHASES, "other"], brows))
    print()
    trows = []
    for s in sizes:
        xs = samples[s]
        tx = sum(x.phase.get("write tx", 0.0) for x in xs)
        q = sum(x.tx_sql for x in xs)
        c = sum(x.tx_commit for x in xs)
        n = len(xs)
        trows.append(
            [
                str(s),
                f"{tx / n * 1000:.2f}",
                f"{q / n * 1000:.2f}",
                f"{c / n * 1000:.2f}",
                f"{max(0.0, tx - q - c) / n * 1000:.2f}",
                f"{summary[s]['tx_stmts']:.1f}",
            ]
        )
    print("inside the write transaction, ms per request (python = building rows, hashing the tree, ORM):")
    print(table(["batch", "write tx", "statements", "commit", "python", "stmts"], trows))
    print()
    big = summary[sizes[-1]]
    print(
        f"VERDICT: a batch of {sizes[-1]} pushes {ratio(big['rps'], base['rps']):.1f}x the records/s of a batch of "
        f"{sizes[0]}; the write transaction holds the counter lock {big['tx_ms']:.1f} ms per {sizes[-1]}-record batch "
        f"({big['tx_share'] * 100:.1f}% of its request), {base['tx_ms']:.2f} ms per single record "
        f"({base['tx_share'] * 100:.1f}%)"
    )
    print(f"(bodies signed beforehand in {sign_s:.1f} s, not counted; total {total_s:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
