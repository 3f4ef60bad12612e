"""Pushes of 1000 records against in-process Ed25519 verification, across workers, and into a full hub.

Issue 10, rows 1, 2 and 6, on SQLite and PostgreSQL:

1. push, batches of 1000, one client per worker, at least 0.4 per worker of
   in-process Ed25519 verification of the same records in the same run;
2. 2 workers with 2 concurrent clients against 1 worker with 2 clients: at
   least 1.3 (the clients share the 2 cores with the hub);
6. push into a hub holding ``--big`` (1,000,000) records against the same
   push into the (nearly) empty hub: at least 0.8.

Records are signed by the ministry before any clock starts (signing is the
partner's work); every number is new, so no cache of the hub helps. The
baseline is ``keys.signing.verify_bytes`` (cryptography's Ed25519) over each
record's JCS bytes, computed beforehand: the one thing a push must do per
record that no engineering removes. It is measured right before and after
each push phase, and the phase is compared with their mean.

Phases, in this order on one database: 1 worker, 1 client (empty hub); 1
worker, 2 clients; 2 workers, 2 clients; then the hub is filled to
``--big`` records through the push's own write path in bulk
(``_live.fill_bulk``) and the first phase runs again. Every item of every
push must come back ``accepted``.

    .venv/bin/python bench/push_live.py [--batches 8] [--big 1000000] [--database-url postgresql://...]

Row 6 is measured by bench/lookup_live.py by default, at the million-record
state it builds anyway (a fill takes minutes); ``--big`` measures it here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from _common import bench_hub, default_database_url, describe_db, table
from _live import (
    HUB_OVERRIDES,
    Client,
    Numbers,
    Served,
    analyze,
    check_fill,
    concurrently,
    fill_bulk,
    load_note,
    machine,
    push_batch,
    register_world,
    serve,
    signed_batches,
    token,
)

from keys.b64 import b64u_decode
from keys.jcs import canonicalize
from keys.signing import verify_bytes

PER_WORKER_RATIO = 0.4
SCALING = 1.3
FULL_RATIO = 0.8
BATCH = 1000


def verify_rate(bodies: list[bytes], key: Any, limit: int = 3000) -> float:
    """Records verified per second in this process (JCS bytes computed beforehand)."""
    work = []
    for body in bodies:
        for env in orjson.loads(body)["records"]:
            work.append((canonicalize(env["record"]), b64u_decode(env["signature"]["value"])))
            if len(work) >= limit:
                break
        if len(work) >= limit:
            break
    t0 = time.perf_counter()
    for message, sig in work:
        verify_bytes(key, message, sig)
    return len(work) / (time.perf_counter() - t0)


def push_phase(served: Served, headers: dict[str, str], per_client: list[list[bytes]]) -> float:
    """Each client pushes its bodies back to back, all clients at once; records per second."""

    def client(bodies: list[bytes]) -> int:
        c = Client(served)
        n = sum(push_batch(c, headers, b) for b in bodies)
        c.close()
        return n

    wall, counts = concurrently([lambda b=b: client(b) for b in per_client])
    return sum(counts) / wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=8, help="batches of 1000 per client and phase")
    parser.add_argument(
        "--big", type=int, default=0, help="records in the full hub for row 6 (default 0: lookup_live.py measures it)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hub-root", default=None, help="serve another checkout of the hub (before figures)")
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    root = {"root": Path(args.hub_root).resolve()} if args.hub_root else {}
    print(f"machine: {machine()}")
    size, n = args.batch_size, args.batches
    with bench_hub(args.database_url, **HUB_OVERRIDES) as hub:
        world = register_world(hub, otts=2)
        me = world.ministry
        numbers = Numbers(args.seed)
        # every phase's bodies, signed up front; record numbers never repeat across phases
        plan = {"one": 1, "two_on_one": 2, "two_on_two": 2, "full": 1}
        bodies: dict[str, list[list[bytes]]] = {}
        start = 10**7  # far from the bulk fill's numbering
        for phase, clients in plan.items():
            bodies[phase] = []
            for _ in range(clients):
                bodies[phase].append(signed_batches(me, numbers, n * size, size, start))
                start += n * size
        key = me.private_key.public_key()
        warm = signed_batches(me, numbers, size, size, start)
        print(f"database: {describe_db(hub)}; batches of {size}, {n} per client and phase")

        def measured(served: Served, phase: str) -> tuple[float, float]:
            headers = token(served, me)
            before = verify_rate(bodies[phase][0], key)
            rate = push_phase(served, headers, bodies[phase])
            after = verify_rate(bodies[phase][0], key)
            return rate, (before + after) / 2

        results: dict[str, tuple[float, float]] = {}
        with serve(hub, 1, **root) as served:
            c = Client(served)
            push_batch(c, token(served, me), warm[0])  # first request: imports, caches, connections
            c.close()
            results["one"] = measured(served, "one")
            results["two_on_one"] = measured(served, "two_on_one")
        with serve(hub, 2, **root) as served:
            results["two_on_two"] = measured(served, "two_on_two")
        pushed = size * (1 + n * 5)
        fill_s = 0.0
        if args.big:
            t0 = time.perf_counter()
            fill_bulk(hub, world, Numbers(args.seed + 1), max(0, args.big - pushed))
            fill_s = time.perf_counter() - t0
            analyze(hub)
            with serve(hub, 1, **root) as served:
                check_fill(served, world, pushed + max(0, args.big - pushed))
                results["full"] = measured(served, "full")

    rows = []
    one, v1 = results["one"]
    r1 = one / v1
    rows.append(
        [
            "1 worker, 1 client (empty hub)",
            f"{one:,.0f}",
            f"{v1:,.0f}",
            f"{r1:.2f}",
            _t(r1 >= PER_WORKER_RATIO, f">= {PER_WORKER_RATIO} of verify"),
        ]
    )
    two1, v21 = results["two_on_one"]
    rows.append(["1 worker, 2 clients", f"{two1:,.0f}", f"{v21:,.0f}", f"{two1 / v21:.2f}", ""])
    two2, v22 = results["two_on_two"]
    per_worker = two2 / 2 / v22
    rows.append(
        [
            "2 workers, 2 clients",
            f"{two2:,.0f}",
            f"{v22:,.0f}",
            f"{two2 / v22:.2f}",
            _t(per_worker >= PER_WORKER_RATIO, f"{per_worker:.2f} per worker, >= {PER_WORKER_RATIO}"),
        ]
    )
    scaling = two2 / two1
    ok = r1 >= PER_WORKER_RATIO and per_worker >= PER_WORKER_RATIO and scaling >= SCALING
    full_line = ""
    if "full" in results:
        full, vf = results["full"]
        full_ratio = (full / vf) / r1  # against the empty hub, each against its own verify baseline
        ok = ok and full_ratio >= FULL_RATIO
        rows.append(
            [
                f"1 worker, 1 client ({args.big:,} records)",
                f"{full:,.0f}",
                f"{vf:,.0f}",
                f"{full / vf:.2f}",
                _t(full_ratio >= FULL_RATIO, f"{full_ratio:.2f} of the empty hub, >= {FULL_RATIO}"),
            ]
        )
        full_line = f"; bulk fill to {args.big:,} records took {fill_s:.0f} s"
    print()
    print(f"push, batches of {size}, records/s against in-process Ed25519 verification of the same records{full_line}")
    print(table(["phase", "push rec/s", "verify/s", "ratio", "target"], rows))
    print(f"2 workers, 2 clients / 1 worker, 2 clients: {scaling:.2f} ({_t(scaling >= SCALING, f'>= {SCALING}')})")
    print(load_note())
    print("VERDICT: " + ("every target holds" if ok else "a target is missed (see the table)"))
    return 0 if ok else 2


def _t(good: bool, what: str) -> str:
    return ("ok " if good else "MISSED ") + f"({what})"


if __name__ == "__main__":
    sys.exit(main())
