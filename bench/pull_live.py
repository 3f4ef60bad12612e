"""The pull as an OTT provider, limit 1000, against reading the same rows straight from the database.

Issue 10, row 3: at 100,000 records, at least 20,000 records/s per worker,
and at least 0.3 of reading the same rows straight from the database in the
same run, on SQLite and PostgreSQL.

The hub is filled through the API (``--records``, signed batches of 1000 by
the ministry; ``--fill bulk`` uses the push's own write path instead). Each
record is assigned to every OTT provider. For each worker count
(``--workers``), as many OTT providers as workers, each a partner that has
never pulled, pull their whole history at once from ``after=0`` with
``limit=1000`` until ``has_more`` is false, one keep-alive connection each,
and parse every page (orjson, as a careful client would). That first pass
is what a partner does: it also marks every assignment delivered.

The baseline, right before each pass and for the same partners: the bench
process reads the same pages straight from the database (its own
SQLAlchemy engine, Core statements): the caller's next 1000 assignment
seqs, then those records joined with their log leaves and the caller's
assignments, and decodes each leaf's JSON (what a reader of the tables must
do to hold the records). Every pass is checked: each partner saw every
record exactly once, in seq order.

    .venv/bin/python bench/pull_live.py [--records 100000] [--workers 1,2] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from _common import bench_hub, default_database_url, describe_db, table
from _live import (
    HUB_OVERRIDES,
    Client,
    Numbers,
    Served,
    analyze,
    concurrently,
    fill_api,
    fill_bulk,
    load_note,
    machine,
    register_world,
    serve,
    token,
)

PER_WORKER_TARGET = 20_000
DIRECT_RATIO = 0.3
LIMIT = 1000


def pull_all(served: Served, headers: dict[str, str]) -> tuple[int, list[int]]:
    """Every page from after=0; the records seen and their seqs."""
    c = Client(served)
    after, seqs = 0, []
    while True:
        status, body = c.get(f"/v1/records?after={after}&limit={LIMIT}", headers)
        if status != 200:
            raise RuntimeError(f"pull answered {status}: {body[:300]!r}")
        page = orjson.loads(body)
        seqs += [item["seq"] for item in page["items"]]
        after = page["next_after"]
        if not page["has_more"]:
            break
    c.close()
    return len(seqs), seqs


def read_direct(engine: sa.Engine, partner: str) -> int:
    """The same pages straight from the database; rows read."""
    from hub.ledger.models import LogEntry
    from hub.records.models import Assignment, Record

    page_seqs = (
        sa.select(Assignment.seq)
        .where(Assignment.partner_id == partner, Assignment.seq > sa.bindparam("after"))
        .order_by(Assignment.seq)
        .limit(LIMIT)
    )
    rows_q = (
        sa.select(
            Record.id,
            Record.seq,
            Record.sha256,
            Record.log_index,
            Record.received_at,
            Record.receipt,
            LogEntry.data,
            Assignment.status,
            Assignment.assigned_at,
            Assignment.delivered_at,
            Assignment.acted_at,
        )
        .join(LogEntry, LogEntry.idx == Record.log_index)
        # LEFT JOIN, as the hub's own query: an inner join lets SQLite start from the partner's
        # assignments (ix_assignments_partner_seq) and read all of them for every page
        .outerjoin(Assignment, sa.and_(Assignment.record_id == Record.id, Assignment.partner_id == partner))
        .where(Record.seq.in_(sa.bindparam("seqs", expanding=True)))
        .order_by(Record.seq)
    )
    total, after = 0, 0
    with engine.connect() as conn:
        while True:
            seqs = list(conn.scalars(page_seqs, {"after": after}))
            if not seqs:
                return total
            rows = conn.execute(rows_q, {"seqs": seqs}).all()
            for r in rows:
                orjson.loads(r.data)
            total += len(rows)
            after = seqs[-1]
            conn.rollback()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--fill", choices=("api", "bulk"), default="api")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hub-root", default=None, help="serve another checkout of the hub (before figures)")
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    root = {"root": Path(args.hub_root).resolve()} if args.hub_root else {}
    print(f"machine: {machine()}")
    ok = True
    rows: list[list[Any]] = []
    with bench_hub(args.database_url, **HUB_OVERRIDES) as hub:
        world = register_world(hub, otts=sum(workers))
        numbers = Numbers(args.seed)
        t0 = time.perf_counter()
        if args.fill == "bulk":
            fill_bulk(hub, world, numbers, args.records)
        else:
            with serve(hub, 1, **root) as served:
                fill_api(served, world.ministry, numbers, args.records)
        fill_s = time.perf_counter() - t0
        analyze(hub)
        print(f"database: {describe_db(hub)}; {args.records:,} records ({args.fill} fill, {fill_s:.0f} s)")
        engine = sa.create_engine(hub.url)
        pullers = iter(world.otts)
        for w in workers:
            partners = [next(pullers) for _ in range(w)]
            t0 = time.perf_counter()
            direct = [read_direct(engine, p.id) for p in partners]
            direct_s = time.perf_counter() - t0
            if direct != [args.records] * w:
                raise RuntimeError(f"direct read saw {direct}, expected {args.records} each")
            direct_rate = sum(direct) / direct_s
            with serve(hub, w, **root) as served:
                headers = [token(served, p) for p in partners]
                wall, results = concurrently([lambda h=h: pull_all(served, h) for h in headers])
            for count, seqs in results:
                if count != args.records or seqs != sorted(set(seqs)):
                    raise RuntimeError(f"a partner saw {count} records (expected {args.records}), or out of order")
            rate = sum(count for count, _ in results) / wall
            per_worker = rate / w
            ratio = rate / direct_rate
            good = per_worker >= PER_WORKER_TARGET and ratio >= DIRECT_RATIO
            ok = ok and good
            rows.append(
                [
                    str(w),
                    str(w),
                    f"{direct_rate:,.0f}",
                    f"{rate:,.0f}",
                    f"{per_worker:,.0f}",
                    f"{ratio:.2f}",
                    "ok" if good else f"MISSED (>= {PER_WORKER_TARGET:,}/worker, >= {DIRECT_RATIO})",
                ]
            )
        engine.dispose()
    print()
    print(
        f"{args.records:,} records; each OTT provider pulls all of them with limit={LIMIT} (first pass: marks delivered)"
    )
    print(
        table(
            ["workers", "clients", "direct rec/s", "pull rec/s", "per worker", "pull/direct", "target"],
            rows,
        )
    )
    print(load_note())
    print("VERDICT: " + ("every target holds" if ok else "a target is missed (see the table)"))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
