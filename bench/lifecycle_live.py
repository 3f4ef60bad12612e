"""Reassignment questions at 1,000,000 stored number events, against healthz, on a hub under gunicorn.

Issue 13: ``GET /v1/numbers/<e164>/reassigned?since=`` at least 0.6 of
``GET /healthz`` requests per second (the same server, no token, no
database), and ``POST /v1/numbers/reassigned`` with 1000 questions a
request at least 20,000 numbers per second per worker.

The hub is filled with ``--events`` number events (default 1,000,000)
through the events push's own write path in bulk: candidates built as
``hub.numbers.ingest`` builds them (checked against it for a sample), stored
by ``NumberEventJudge.store``, the function a push calls inside its write
transaction, 5,000 at a time, so the rows, receipts, log leaves and Merkle
nodes are the service's own. The events are what operators' monthly exports
hold: numbers of Telkomsel and Indosat (each event sent by its home
operator), each disconnected over the past two years and reassigned 60 to
120 days later; one number in three goes through that twice (about one
distinct number per three events). Then, for each worker count
(``--workers``), gunicorn serves the hub and as many client threads as
workers ask, in ``--rounds`` interleaved rounds: healthz, single questions
(numbers with events, half of them reassigned after the question's date;
numbers never reported; a few dates before the hub's records begin), and
batches of 1000 such questions. Every answer is checked against what the
fill stored (``yes`` with the right ``reassigned_at``, ``no``, ``no_data``).

    .venv/bin/python bench/lifecycle_live.py [--events 1000000] [--workers 1] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from _common import bench_hub, default_database_url, describe_db, table
from _live import (
    HUB_OVERRIDES,
    Client,
    Latencies,
    Served,
    analyze,
    concurrently,
    fast_canonical,
    iso,
    load_note,
    machine,
    register_world,
    serve,
    token,
)

from keys.b64 import b64u_encode
from keys.jcs import canonicalize
from tests.support import PartnerCreds

SINGLE_RATIO = 0.6
BATCH_PER_WORKER = 20_000
BATCH = 1000
#: Mobile prefixes by home operator (every 8-digit tail after them is a valid number of that network).
HOME = {"telkomsel": ("+62812", "+62813", "+62821"), "indosat": ("+62815", "+62857")}


# --- what is stored -----------------------------------------------------------------------------


class Plan:
    """The events of the fill, deterministic from the seed, and the answers they imply.

    Event ``2k`` disconnects number ``k``, event ``2k+1`` reassigns it 60 to
    120 days later. One number in three is drawn again later (a number
    recycled twice), so its latest reassignment is the later one.
    """

    def __init__(self, seed: int, events: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.count = events
        self.numbers: list[str] = []
        self.latest: dict[str, datetime] = {}  # number -> latest reassignment
        self.earliest: datetime | None = None

    def number(self, k: int) -> str:
        while len(self.numbers) <= k:
            if self.numbers and self.rng.random() < 1 / 3:
                self.numbers.append(self.rng.choice(self.numbers))
            else:
                operator = self.rng.choice(("telkomsel", "telkomsel", "indosat"))
                self.numbers.append(self.rng.choice(HOME[operator]) + f"{self.rng.randrange(10**8):08d}")
        return self.numbers[k]

    def event(self, i: int) -> tuple[str, str, datetime]:
        """``(number, event, effective_at)`` of event ``i`` (called in order, once each)."""
        k = i // 2
        number = self.number(k)
        rng = random.Random(k * 7919 + 17)
        disconnected = self.now - timedelta(days=730) + timedelta(seconds=rng.randrange(86400 * 600))
        disconnected = disconnected.replace(microsecond=0)
        if i % 2 == 0:
            at, kind = disconnected, "disconnected"
        else:
            at, kind = disconnected + timedelta(days=rng.randint(60, 120)), "reassigned"
            if number not in self.latest or at > self.latest[number]:
                self.latest[number] = at
        self.earliest = at if self.earliest is None or at < self.earliest else self.earliest
        return number, kind, at

    def expected(self, number: str, since: datetime) -> tuple[str, str | None]:
        if self.earliest is None or since < self.earliest:
            return "no_data", None
        at = self.latest.get(number)
        if at is not None and at >= since:
            return "yes", iso(at)
        return "no", None


def operator_of(number: str) -> str:
    return next(op for op, prefixes in HOME.items() if number.startswith(prefixes))


def fill_events(hub: Any, operators: dict[str, PartnerCreds], plan: Plan, chunk: int = 5000) -> float:
    """``plan.count`` events stored by the events push's write path (``NumberEventJudge.store``); seconds taken."""
    from hub.auth.protect import Caller
    from hub.db import db
    from hub.numbers import ingest
    from hub.records.numbers import NumberInfo, check_e164

    rng = random.Random(plan.count)
    info_cache: dict[str, NumberInfo] = {}
    with hub.app.app_context():
        judges = {
            op: ingest.NumberEventJudge(
                Caller(op, "operator", creds.client_id, frozenset({"numbers:write"}), "bench", 0)
            )
            for op, creds in operators.items()
        }
        t0 = time.perf_counter()
        for base in range(0, plan.count, chunk):
            batch: list[Any] = []
            for i in range(base, min(plan.count, base + chunk)):
                number, kind, at = plan.event(i)
                creds = operators[operator_of(number)]
                body = {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "operator": creds.id,
                    "number": number,
                    "event": kind,
                    "effective_at": iso(at),
                }
                message = fast_canonical(body)
                signature = {"alg": "Ed25519", "kid": creds.kid, "value": b64u_encode(creds.private_key.sign(message))}
                envelope = {"number_event": body, "signature": signature}
                leaf = b'{"number_event":' + message + b',"signature":' + fast_canonical(signature) + b"}"
                base_info = info_cache.get(number[:6])
                if base_info is None:
                    base_info = info_cache[number[:6]] = check_e164(number)
                info = NumberInfo(e164=number, region=base_info.region, carrier=base_info.carrier)
                batch.append(ingest.EventCandidate(len(batch), envelope, body, creds.kid, info, message, leaf, at))
            if base == 0:
                _check_candidates(batch[:20], judges, check_e164)
            next(iter(judges.values())).store(batch)
            db.session.commit()
        return time.perf_counter() - t0


def _check_candidates(batch: list[Any], judges: dict[str, Any], check_e164: Any) -> None:
    """The bulk candidates equal what the push's own first stage makes of the same envelopes."""
    for c in batch:
        if fast_canonical(c.body) != canonicalize(c.body) or c.leaf != canonicalize(c.envelope):
            raise RuntimeError("the benchmark's canonical form differs from RFC 8785")
        ref = judges[c.body["operator"]].alone(c.index, c.envelope)
        for name in ("kid", "event_bytes", "leaf", "effective_at", "info"):
            if getattr(ref, name) != getattr(c, name):
                raise RuntimeError(f"bulk candidate differs from the push's in {name}")
        if check_e164(c.info.e164) != c.info:
            raise RuntimeError(f"bulk number info differs for {c.info.e164}")


# --- what is asked -------------------------------------------------------------------------------


@dataclass
class Question:
    number: str
    since: datetime
    expected: tuple[str, str | None]


def questions(plan: Plan, count: int, seed: int) -> list[Question]:
    """Numbers with events and numbers never reported, asked since the start of one of the last 24 months.

    Whoever asks, asks about the time since they last knew the subscriber
    (a monthly check, an account opened that month): dates repeat. One
    question in twenty asks about a date before the hub's records begin.
    """
    rng = random.Random(seed)
    jakarta = timezone(timedelta(hours=7))
    today = plan.now.astimezone(jakarta)
    months = []
    year, month = today.year, today.month
    for _ in range(24):
        months.append(datetime(year, month, 1, tzinfo=jakarta))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    too_early = datetime(2020, 1, 1, tzinfo=jakarta)
    out: list[Question] = []
    seen: set[tuple[str, datetime]] = set()  # a request may not repeat a question
    stored = len(plan.numbers)
    while len(out) < count:
        roll = rng.random()
        if roll < 0.8 and stored:
            number, since = plan.numbers[rng.randrange(stored)], rng.choice(months)
        elif roll < 0.95 or not stored:
            operator = rng.choice(tuple(HOME))
            number, since = rng.choice(HOME[operator]) + f"{rng.randrange(10**8):08d}", rng.choice(months)
        else:
            number, since = plan.numbers[rng.randrange(stored)], too_early
        since = since.astimezone(UTC)
        if (number, since) in seen:
            continue
        seen.add((number, since))
        out.append(Question(number, since, plan.expected(number, since)))
    return out


def _check(q: Question, got: dict[str, Any]) -> None:
    if got.get("number") != q.number or (got.get("answer"), got.get("reassigned_at")) != q.expected:
        raise RuntimeError(f"wrong answer for {q.number} since {iso(q.since)}: {got}, expected {q.expected}")


def _single(served: Served, qs: list[Question], headers: dict[str, str], clients: int) -> Latencies:
    conns = [Client(served) for _ in range(clients)]
    for c in conns:
        c.get("/healthz")
    shares = [qs[i::clients] for i in range(clients)]

    def worker(c: Client, share: list[Question]) -> list[float]:
        out = []
        for q in share:
            path = f"/v1/numbers/{q.number}/reassigned?since={iso(q.since)}"
            t0 = time.perf_counter()
            status, body = c.get(path, headers)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
            _check(q, orjson.loads(body))
        return out

    wall, results = concurrently([lambda c=c, s=s: worker(c, s) for c, s in zip(conns, shares, strict=True)])
    for c in conns:
        c.close()
    return Latencies([x for r in results for x in r], wall)


def _health(served: Served, count: int, clients: int) -> Latencies:
    conns = [Client(served) for _ in range(clients)]
    for c in conns:
        c.get("/healthz")

    def worker(c: Client, n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            status, _body = c.get("/healthz")
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"healthz answered {status}")
        return out

    shares = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    wall, results = concurrently([lambda c=c, n=n: worker(c, n) for c, n in zip(conns, shares, strict=True)])
    for c in conns:
        c.close()
    return Latencies([x for r in results for x in r], wall)


def _batches(served: Served, batches: list[list[Question]], headers: dict[str, str], clients: int) -> Latencies:
    """Batches of questions over ``clients`` connections; latencies are per request."""
    bodies = [
        orjson.dumps({"queries": [{"number": q.number, "since": iso(q.since)} for q in batch]}) for batch in batches
    ]
    conns = [Client(served) for _ in range(clients)]
    for c in conns:
        c.get("/healthz")
    shares = [list(range(i, len(batches), clients)) for i in range(clients)]

    def worker(c: Client, share: list[int]) -> list[float]:
        out = []
        for k in share:
            t0 = time.perf_counter()
            status, body = c.post_json("/v1/numbers/reassigned", bodies[k], headers)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"batch answered {status}: {body[:300]!r}")
            answers = orjson.loads(body)["answers"]
            if len(answers) != len(batches[k]):
                raise RuntimeError(f"{len(answers)} answers for {len(batches[k])} questions")
            for q, got in zip(batches[k], answers, strict=True):
                _check(q, got)
        return out

    wall, results = concurrently([lambda c=c, s=s: worker(c, s) for c, s in zip(conns, shares, strict=True)])
    for c in conns:
        c.close()
    return Latencies([x for r in results for x in r], wall)


def _merge(parts: list[Latencies]) -> Latencies:
    return Latencies([x for p in parts for x in p.seconds], sum(p.wall for p in parts))


def check_log(served: Served, creds: PartnerCreds, expected_size: int) -> None:
    """The signed log head counts every stored event (they were logged like any push's)."""
    c = Client(served)
    status, data = c.get("/v1/log/head", token(served, creds))
    c.close()
    size = orjson.loads(data)["tree_head"]["size"] if status == 200 else None
    if size != expected_size:
        raise RuntimeError(f"log head {status} {data[:200]!r}, expected size {expected_size}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="number events stored before measuring")
    parser.add_argument("--workers", default="1", help="gunicorn worker counts, e.g. 1,2")
    parser.add_argument(
        "--questions", type=int, default=2000, help="single questions per worker count (as many healthz)"
    )
    parser.add_argument("--batches", type=int, default=40, help="batch requests of 1000 questions per worker count")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hub-root", default=None, help="serve another checkout of the hub (before figures)")
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    root = {"root": Path(args.hub_root).resolve()} if args.hub_root else {}
    print(f"machine: {machine()}")
    verdict_ok = True
    rows: list[list[str]] = []
    with bench_hub(args.database_url, **HUB_OVERRIDES) as hub:
        world = register_world(hub, otts=1)
        plan = Plan(args.seed, args.events, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10))
        fill_s = fill_events(hub, {"telkomsel": world.telkomsel, "indosat": world.indosat}, plan)
        analyze(hub)
        print(
            f"database: {describe_db(hub)}; {args.events:,} number events over {len(set(plan.numbers)):,} numbers "
            f"(bulk fill through NumberEventJudge.store, {fill_s:.0f} s, {args.events / max(fill_s, 1e-9):,.0f}/s)"
        )
        asked = questions(plan, args.questions, args.seed + 1)
        batched = questions(plan, args.batches * BATCH, args.seed + 2)
        answers = {a: sum(q.expected[0] == a for q in asked + batched) for a in ("yes", "no", "no_data")}
        for w in workers:
            with serve(hub, w, **root) as served:
                if w == workers[0]:
                    check_log(served, world.ministry, args.events)
                headers = token(served, world.otts[0])
                per_round = max(1, args.questions // args.rounds)
                batch_rounds = max(1, args.batches // args.rounds)
                health, single, batch = [], [], []
                for r in range(args.rounds):
                    share = asked[r * per_round : (r + 1) * per_round] or asked[:per_round]
                    health.append(_health(served, len(share), w))
                    single.append(_single(served, share, headers, w))
                    chunk = batched[r * batch_rounds * BATCH : (r + 1) * batch_rounds * BATCH] or batched[:BATCH]
                    batch.append(
                        _batches(served, [chunk[i : i + BATCH] for i in range(0, len(chunk), BATCH)], headers, w)
                    )
                h, s, b = _merge(health), _merge(single), _merge(batch)
                ratio = s.rate / h.rate
                per_worker = b.rate * BATCH / w
                ok_s, ok_b = ratio >= SINGLE_RATIO, per_worker >= BATCH_PER_WORKER
                verdict_ok = verdict_ok and ok_s and ok_b
                rows.append(
                    [
                        str(w),
                        "GET /healthz (baseline)",
                        f"{h.rate:,.0f} req/s",
                        f"{h.p50_ms:.2f}",
                        f"{h.p99_ms:.2f}",
                        "1.00",
                        "",
                    ]
                )
                rows.append(
                    [
                        str(w),
                        "GET /v1/numbers/<n>/reassigned",
                        f"{s.rate:,.0f} req/s",
                        f"{s.p50_ms:.2f}",
                        f"{s.p99_ms:.2f}",
                        f"{ratio:.2f}",
                        "ok" if ok_s else f"MISSED (>= {SINGLE_RATIO} of healthz)",
                    ]
                )
                rows.append(
                    [
                        str(w),
                        f"POST /v1/numbers/reassigned ({BATCH} a request)",
                        f"{b.rate * BATCH:,.0f} numbers/s ({per_worker:,.0f} per worker)",
                        f"{b.p50_ms:.2f}",
                        f"{b.p99_ms:.2f}",
                        f"{b.rate * BATCH / h.rate:.2f}",
                        "ok" if ok_b else f"MISSED (>= {BATCH_PER_WORKER:,} numbers/s per worker)",
                    ]
                )
    print()
    print(
        f"{args.events:,} number events; caller an OTT provider; per worker count {args.questions:,} single "
        f"questions, as many healthz, {args.batches} batches of {BATCH}; {args.rounds} interleaved rounds; "
        f"as many client threads as workers; answers checked: " + ", ".join(f"{n:,} {a}" for a, n in answers.items())
    )
    print(table(["workers", "request", "rate", "p50 ms", "p99 ms", "ratio", "target"], rows, "llrrrrl"))
    print(load_note())
    print("VERDICT: " + ("every target holds" if verdict_ok else "a target is missed (see the table)"))
    return 0 if verdict_ok else 2


if __name__ == "__main__":
    sys.exit(main())
