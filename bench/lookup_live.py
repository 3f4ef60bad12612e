"""Number look-ups and hash-range queries against healthz, on a hub under gunicorn.

Issue 10, rows 4 and 5: ``GET /v1/numbers/<n>`` as an OTT partner at least
0.6 of ``GET /healthz`` with p99 under 10 ms, and ``GET
/v1/numbers/hash-range/<prefix>`` at least 0.6 of healthz, at 1,000,000
records, on SQLite and PostgreSQL.

The hub is filled (``--records``, through the push's own write path in bulk,
or ``--fill api`` through the API) with records of the protocol's shape:
nearly every number reported once, and one hot number in every 1000 records
(1,000 reports at 1,000,000). Each record goes to both OTT providers and to
its home operator, so the OTT caller has about ``--records`` assignments: the
look-up must not grow with them. Then, for each worker count (``--workers``),
gunicorn serves the hub and as many client threads as workers ask, in
``--rounds`` interleaved rounds: healthz (the baseline: the same server, no
token, no database), look-ups of random reported numbers, hash-range
queries for their prefixes, and look-ups of the hot number (printed, not
judged). Every look-up answer is checked (200, the number, blocked).

Row 6 (push into a hub holding 1,000,000 records against an empty hub, at
least 0.8) is measured here too, so the million-record state is built once
per database: before the fill, ``--push-batches`` batches of 1000 go into
the empty hub (1 worker, 1 client); after the look-ups, as many again into
the full one; each is compared with in-process Ed25519 verification of its
records measured around it (as bench/push_live.py does, which measures rows
1 and 2 and, with ``--big``, row 6 on its own).

    .venv/bin/python bench/lookup_live.py [--records 1000000] [--workers 1,2] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from typing import Any

import orjson
from _common import bench_hub, default_database_url, describe_db, table
from _live import (
    HUB_OVERRIDES,
    Client,
    Latencies,
    Numbers,
    Served,
    analyze,
    check_fill,
    concurrently,
    fill_api,
    fill_bulk,
    load_note,
    machine,
    register_world,
    serve,
    signed_batches,
    token,
)
from push_live import FULL_RATIO, push_phase, verify_rate

LOOKUP_RATIO = 0.6
LOOKUP_P99_MS = 10.0
RANGE_RATIO = 0.6


def _measure(
    served: Served, paths: list[str], headers: dict[str, str] | None, clients: int, check: Any = None
) -> Latencies:
    """``paths`` split over ``clients`` concurrent keep-alive connections; every latency and the wall time."""
    conns = [Client(served) for _ in range(clients)]
    for c in conns:
        c.get(paths[0], headers)  # connect and warm
    shares = [paths[i::clients] for i in range(clients)]

    def worker(c: Client, share: list[str]) -> list[float]:
        out = []
        for p in share:
            t0 = time.perf_counter()
            status, body = c.get(p, headers)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"GET {p} answered {status}: {body[:200]!r}")
            if check is not None:
                check(p, body)
        return out

    wall, results = concurrently([lambda c=c, s=s: worker(c, s) for c, s in zip(conns, shares)])
    for c in conns:
        c.close()
    return Latencies([x for r in results for x in r], wall)


def _merge(parts: list[Latencies]) -> Latencies:
    return Latencies([x for p in parts for x in p.seconds], sum(p.wall for p in parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--fill", choices=("bulk", "api"), default="bulk")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--lookups", type=int, default=2000, help="look-ups per worker count (and as many healthz)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--push-batches", type=int, default=5, help="row 6: batches of 1000 into the empty and the full hub (0: skip)"
    )
    parser.add_argument("--hub-root", default=None, help="serve another checkout of the hub (before figures)")
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    from pathlib import Path

    root = Path(args.hub_root).resolve() if args.hub_root else None
    print(f"machine: {machine()}")
    verdict_ok = True
    with bench_hub(args.database_url, **HUB_OVERRIDES) as hub:
        world = register_world(hub, otts=2)
        numbers = Numbers(args.seed)
        pushes = _push_bodies(world, args.push_batches, args.seed)
        pushed = {}
        if args.push_batches:
            with serve(hub, 1, **({"root": root} if root else {})) as served:
                pushed["empty"] = _push(served, world, pushes[0])
        t0 = time.perf_counter()
        if args.fill == "bulk":
            fill_bulk(hub, world, numbers, args.records)
        else:
            with serve(hub, 1) as served:
                fill_api(served, world.ministry, numbers, args.records)
        fill_s = time.perf_counter() - t0
        analyze(hub)
        print(f"database: {describe_db(hub)}; {args.records:,} records ({args.fill} fill, {fill_s:.0f} s)")
        replay = Numbers(args.seed)
        reported = [replay.next(i) for i in range(args.records)]
        rng = random.Random(args.seed + 1)
        normal = [n for n in rng.sample(reported, min(len(reported), args.lookups * 2)) if n != replay.hot]
        hot = replay.hot
        rows = []
        for w in workers:
            with serve(hub, w, **({"root": root} if root else {})) as served:
                if w == workers[0]:
                    check_fill(served, world, args.records + 1000 * args.push_batches)
                headers = token(served, world.otts[0])
                per_round = max(1, args.lookups // args.rounds)
                health, look, rng_q, hot_q = [], [], [], []
                for r in range(args.rounds):
                    sample = [normal[(r * per_round + i) % len(normal)] for i in range(per_round)]
                    health.append(_measure(served, ["/healthz"] * per_round, None, w))
                    look.append(_measure(served, [f"/v1/numbers/{n}" for n in sample], headers, w, _check_number))
                    prefixes = [hashlib.sha256(n.encode()).hexdigest()[:5] for n in sample]
                    rng_q.append(_measure(served, [f"/v1/numbers/hash-range/{p}" for p in prefixes], headers, w))
                    if args.records >= 1000:
                        hot_q.append(_measure(served, [f"/v1/numbers/{hot}"] * max(1, per_round // 10), headers, w))
                h, lk, hr = _merge(health), _merge(look), _merge(rng_q)
                hq = _merge(hot_q) if hot_q else None
                lr, rr = lk.rate / h.rate, hr.rate / h.rate
                ok_l = lr >= LOOKUP_RATIO and lk.p99_ms < LOOKUP_P99_MS
                ok_r = rr >= RANGE_RATIO
                verdict_ok = verdict_ok and ok_l and ok_r
                rows.append(
                    [
                        f"{w}",
                        "GET /healthz (baseline)",
                        f"{h.rate:,.0f}",
                        f"{h.p50_ms:.2f}",
                        f"{h.p99_ms:.2f}",
                        "1.00",
                        "",
                    ]
                )
                rows.append(
                    [
                        f"{w}",
                        "GET /v1/numbers/<n>",
                        f"{lk.rate:,.0f}",
                        f"{lk.p50_ms:.2f}",
                        f"{lk.p99_ms:.2f}",
                        f"{lr:.2f}",
                        "ok" if ok_l else f"MISSED (>= {LOOKUP_RATIO}, p99 < {LOOKUP_P99_MS:g} ms)",
                    ]
                )
                rows.append(
                    [
                        f"{w}",
                        "GET /v1/numbers/hash-range/<p>",
                        f"{hr.rate:,.0f}",
                        f"{hr.p50_ms:.2f}",
                        f"{hr.p99_ms:.2f}",
                        f"{rr:.2f}",
                        "ok" if ok_r else f"MISSED (>= {RANGE_RATIO})",
                    ]
                )
                if hq is not None:
                    rows.append(
                        [
                            f"{w}",
                            f"GET /v1/numbers/<hot: {args.records // 1000:,} reports>",
                            f"{hq.rate:,.0f}",
                            f"{hq.p50_ms:.2f}",
                            f"{hq.p99_ms:.2f}",
                            f"{hq.rate / h.rate:.2f}",
                            "(informational)",
                        ]
                    )
        if args.push_batches:
            with serve(hub, 1, **({"root": root} if root else {})) as served:
                pushed["full"] = _push(served, world, pushes[1])
    push_line = ""
    if pushed:
        (e, ve), (f, vf) = pushed["empty"], pushed["full"]
        full_ratio = (f / vf) / (e / ve)
        ok_f = full_ratio >= FULL_RATIO
        verdict_ok = verdict_ok and ok_f
        push_line = (
            f"push, batches of 1000, 1 worker: empty hub {e:,.0f} rec/s ({e / ve:.2f} of verify {ve:,.0f}/s), "
            f"{args.records:,} records {f:,.0f} rec/s ({f / vf:.2f} of verify {vf:,.0f}/s): "
            f"{full_ratio:.2f} of the empty hub " + ("ok" if ok_f else f"MISSED (>= {FULL_RATIO})")
        )
    print()
    print(
        f"{args.records:,} records, caller an OTT provider, {args.lookups:,} requests per row, "
        f"{args.rounds} interleaved rounds, as many client threads as workers"
    )
    print(table(["workers", "request", "req/s", "p50 ms", "p99 ms", "ratio", "target"], rows))
    if push_line:
        print(push_line)
    print(load_note())
    print("VERDICT: " + ("every target holds" if verdict_ok else "a target is missed (see the table)"))
    return 0 if verdict_ok else 2


def _push_bodies(world: Any, batches: int, seed: int) -> list[list[bytes]]:
    numbers = Numbers(seed + 7)
    return [signed_batches(world.ministry, numbers, 1000 * batches, 1000, 10**7 * (k + 1)) for k in range(2)]


def _push(served: Served, world: Any, bodies: list[bytes]) -> tuple[float, float]:
    """Records/s of pushing ``bodies`` back to back, and in-process verification's rate around it."""
    key = world.ministry.private_key.public_key()
    headers = token(served, world.ministry)
    before = verify_rate(bodies, key)
    rate = push_phase(served, headers, [bodies])
    return rate, (before + verify_rate(bodies, key)) / 2


def _check_number(path: str, body: bytes) -> None:
    doc = orjson.loads(body)
    if doc["number"] != path.rsplit("/", 1)[-1] or doc["blocked"] is not True or not doc["records"]:
        raise RuntimeError(f"unexpected look-up answer for {path}: {body[:300]!r}")


if __name__ == "__main__":
    sys.exit(main())
