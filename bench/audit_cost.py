"""What the audit trail costs a pull: throughput with auditing on against off, in the same run.

Issue 11: writing the audit row never slows a pull by more than 10%.

One throwaway hub (SQLite file, or PostgreSQL with ``--database-url``) is
filled through the API with ``--records`` records, each assigned to every
OTT provider, and every OTT provider pulls its whole history once (that
first pass marks assignments delivered, a write that is not what is
measured here). Then gunicorn serves the same database with
``AUDIT_ENABLED=1`` and with ``AUDIT_ENABLED=0``, alternately, ``--rounds``
times each (alternating spreads the machine's drift over both). In each
round ``--clients`` OTT providers pull their whole history from after=0 with
``--limit`` until has_more is false, ``--passes`` times, each on its own
keep-alive connection, all at once. Every pull with auditing on is
therefore a read plus one audit row and one ``audit_numbers`` row per
record: the steady state of a partner that pulls, the worst case for the
audit (no other write in the request to share it with).

Printed: records/s with and without the audit (median of the rounds), the
ratio on/off (target at least 0.90), the same per CPU second the gunicorn
workers spent (less disturbed by other load on a shared machine: on a busy
machine the wall-clock ratio is mostly noise), and the audit rows written,
checked against the pulls made.

    .venv/bin/python bench/audit_cost.py [--records 5000] [--limit 1000] [--clients 2] [--workers 2] \\
        [--passes 3] [--rounds 3] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
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
    load_note,
    machine,
    register_world,
    serve,
    token,
)

TARGET = 0.90


def pull_history(served: Served, headers: dict[str, str], limit: int, passes: int) -> tuple[int, int]:
    """Records seen and requests made pulling everything from after=0, ``passes`` times."""
    c = Client(served)
    seen = requests = 0
    for _ in range(passes):
        after = 0
        while True:
            status, body = c.get(f"/v1/records?after={after}&limit={limit}", headers)
            requests += 1
            if status != 200:
                raise RuntimeError(f"pull answered {status}: {body[:300]!r}")
            page = orjson.loads(body)
            seen += len(page["items"])
            after = page["next_after"]
            if not page["has_more"]:
                break
    c.close()
    return seen, requests


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of the gunicorn master's workers (its children) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces: split after the last ')'
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def audit_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM audit")).scalar_one())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    rates: dict[bool, list[float]] = {True: [], False: []}
    cpu_rates: dict[bool, list[float]] = {True: [], False: []}
    expected_rows = 0
    with bench_hub(args.database_url, **HUB_OVERRIDES) as hub:
        world = register_world(hub, otts=args.clients)
        with serve(hub, 1) as served:
            fill_api(served, world.ministry, Numbers(args.seed), args.records)
            for ott in world.otts:  # the first pass marks every assignment delivered
                pull_history(served, token(served, ott), args.limit, 1)
        analyze(hub)
        engine = sa.create_engine(hub.url)
        base_rows = audit_rows(engine)
        print(f"database: {describe_db(hub)}; {args.records:,} records, each assigned to {args.clients} OTT providers")
        for _ in range(args.rounds):
            for audited in (True, False):
                os.environ["AUDIT_ENABLED"] = "1" if audited else "0"
                with serve(hub, args.workers) as served:
                    headers = [token(served, ott) for ott in world.otts]
                    warm = Client(served)
                    for h in headers:  # warm the workers' caches and connections
                        warm.get("/v1/records?after=0&limit=1", h)
                    warm.close()
                    cpu0 = cpu_seconds(served.proc.pid)
                    wall, results = concurrently(
                        [lambda h=h: pull_history(served, h, args.limit, args.passes) for h in headers]
                    )
                    cpu = cpu_seconds(served.proc.pid) - cpu0
                for seen, requests in results:
                    if seen != args.records * args.passes:
                        raise RuntimeError(f"a client saw {seen} records, expected {args.records * args.passes}")
                    if audited:
                        expected_rows += requests
                expected_rows += len(headers) if audited else 0  # the warm-up pulls
                rates[audited].append(sum(seen for seen, _ in results) / wall)
                cpu_rates[audited].append(sum(seen for seen, _ in results) / cpu)
        os.environ.pop("AUDIT_ENABLED", None)
        written = audit_rows(engine) - base_rows
        engine.dispose()
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    cpu_on, cpu_off = statistics.median(cpu_rates[True]), statistics.median(cpu_rates[False])
    ratio, cpu_ratio = on / off, cpu_on / cpu_off
    rows: list[list[Any]] = [
        ["audit on", f"{on:,.0f}", " ".join(f"{r:,.0f}" for r in rates[True]), f"{cpu_on:,.0f}"],
        ["audit off", f"{off:,.0f}", " ".join(f"{r:,.0f}" for r in rates[False]), f"{cpu_off:,.0f}"],
    ]
    print()
    print(
        f"{args.clients} clients x {args.passes} passes of limit={args.limit} pulls, "
        f"{args.workers} gunicorn workers, {args.rounds} rounds each way"
    )
    print(table(["", "median rec/s", "each round (rec/s)", "rec per worker CPU s"], rows))
    print(f"audit rows written with auditing on: {written:,} (pulls made: {expected_rows:,})")
    if written != expected_rows:
        print("WARNING: the audit rows do not match the pulls made")
    print(load_note())
    good = ratio >= TARGET and written == expected_rows
    print(f"ratio on/off: {ratio:.3f} (target >= {TARGET}); per CPU second of the workers: {cpu_ratio:.3f}")
    print("VERDICT: " + ("the audit costs a pull at most 10%" if good else "MISSED: see the figures"))
    return 0 if good else 2


if __name__ == "__main__":
    sys.exit(main())
