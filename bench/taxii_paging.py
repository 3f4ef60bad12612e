"""TAXII paging: the hub's feed against the OASIS reference server medallion, side by side.

PROTOCOL.md section 11 serves the records a partner may pull as a TAXII 2.1
collection, paged on the pull's gap-free cursor. This benchmark fills a
throwaway hub with 20,000 signed blocks (``--records``), serves it under
gunicorn, and pages the 20,000 indicators back through TAXII
(``match[type]=indicator``, ``match[spec_version]=2.1``, ``--page-size`` objects
a page). It then loads
exactly those indicators (the JSON the hub served) into medallion's memory
backend, serves that under gunicorn too, and pages it back the same way.
Both sides are one gunicorn worker (medallion keeps its ``next`` state in
the worker's memory) and are read by the same loop: ``requests``, JSON
parsed, every id checked, nothing lost and nothing twice.

Figures, per server: the time of the first page (request to parsed JSON)
and objects per second for paging all of them back. The hub's first pass is
cold (a fresh worker: every object built on the way by stix2, in
hub/taxii/stix.py); a second, warm pass reuses the worker's memo of
serialized versions (``stix.ObjectCache``). Every page is also written to the audit trail (one row
and one commit per page), as PROTOCOL 1.1 section 9 requires. Before timing,
each server answers one discovery request (medallion's readiness probe; the
same for the hub), so "cold" means no object has been built, not a worker
that has never connected to its database.

medallion's memory backend sorts each answer against the manifest in
O(n^2) Python (``BasicFilter.sort_and_paginate`` scans the objects once per
manifest entry), so its first page grows with the square of the collection:
45 s at 4,000 objects on a quiet machine, 21 minutes at 20,000 (all 200 pages: 28).
``--medallion-budget`` (seconds, default 3600) bounds the wait: past it the
benchmark stops medallion and reports its rate as at most
records/budget, which makes the ratio a lower bound (printed as ">").

Targets (VERDICT): the hub pages at least 100x medallion's objects per
second, and its cold first page answers in under 100 ms at 20,000 objects:
the median over ``--first-page-runs`` fresh workers (5) and the cold pass's
own first page, since one request's time on a busy machine is mostly the
scheduler's.
Exit 0 when both hold, 2 when one is missed, 1 when the benchmark failed
(an error, or an object lost or seen twice).

    .venv/bin/python bench/taxii_paging.py [--records 20000] [--page-size 100]
        [--medallion-budget 3600] [--database-url postgresql://...]

The machine's load average is printed at the start and the end: figures
taken under load are slower on both sides, so read the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench._common import bench_hub, default_database_url, describe_db, table  # noqa: E402
from tests.support import LiveHub, basic_auth, bearer, free_port, record_body, register_partner  # noqa: E402

TAXII = "application/taxii+json;version=2.1"
BATCH = 1000
COLLECTION = "ef3d5533-f082-4dc4-9c23-330d766def3f"  # hub.taxii.routes.COLLECTION_ID (medallion serves it too)


@dataclass
class Run:
    server: str
    objects: int = 0
    pages: int = 0
    first_page_s: float = float("nan")
    total_s: float = float("nan")
    complete: bool = False
    ids: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.objects / self.total_s if self.complete and self.total_s > 0 else float("nan")


def page_all(name: str, url: str, session: requests.Session, page_size: int, budget: float | None = None) -> Run:
    """Page ``url`` with limit/next until more is false; the first page and the whole, timed."""
    run = Run(name)
    query = {
        "match[type]": "indicator",
        "match[spec_version]": "2.1",
    }  # the spec filter spares medallion an O(n^2) pass
    params: dict[str, Any] = {"limit": page_size, **query}
    start = time.perf_counter()
    while True:
        timeout = None if budget is None else max(1.0, budget - (time.perf_counter() - start))
        try:
            resp = session.get(url, params=params, headers={"Accept": TAXII}, timeout=timeout)
        except requests.Timeout:
            run.note = f"no answer within the {budget:.0f} s budget after {run.pages} pages"
            run.total_s = time.perf_counter() - start
            return run
        if resp.status_code != 200:
            raise RuntimeError(f"{name} answered {resp.status_code}: {resp.text[:300]}")
        body = resp.json()
        if run.pages == 0:
            run.first_page_s = time.perf_counter() - start
        run.pages += 1
        got = body.get("objects", [])
        run.ids += [o["id"] for o in got]
        run.objects += len(got)
        if not body.get("more"):
            break
        params = {"limit": page_size, **query, "next": body["next"]}
    run.total_s = time.perf_counter() - start
    run.complete = True
    print(
        f"  {name}: {run.objects:,} objects in {run.pages} pages, first page {run.first_page_s * 1000:,.1f} ms, "
        f"{run.total_s:,.2f} s (load {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    return run


def cold_first_page(env: dict[str, str], kominfo: Any, page_size: int) -> float:
    """A fresh hub worker's first page, seconds: started, warmed with one discovery request, asked once."""
    live = LiveHub(env, workers=1, threads=4)
    try:
        session = requests.Session()
        session.headers.update(bearer(live.token(kominfo)))
        session.get(f"{live.url}/taxii2/", headers={"Accept": TAXII}, timeout=60).raise_for_status()
        params = {"limit": page_size, "match[type]": "indicator", "match[spec_version]": "2.1"}
        start = time.perf_counter()
        resp = session.get(
            f"{live.url}/taxii2/api/collections/{COLLECTION}/objects/", params=params, headers={"Accept": TAXII}
        )
        resp.raise_for_status()
        if len(resp.json()["objects"]) != min(page_size, 1000):
            raise RuntimeError("the first page is short")
        return time.perf_counter() - start
    finally:
        live.stop()


def fill(app: Any, records: int) -> tuple[set[str], Any]:
    """``records`` signed blocks from the ministry, pushed through the real app in batches of 1000."""
    kominfo = register_partner(app, "kominfo", "ministry")
    register_partner(app, "whatsapp", "ott")
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(kominfo))
    headers = bearer(token.get_json()["access_token"])
    ids: set[str] = set()
    for start in range(0, records, BATCH):
        batch = []
        for n in range(start, min(records, start + BATCH)):
            number = f"+62812{n:08d}"  # Telkomsel, all distinct
            batch.append(kominfo.sign("record", record_body("kominfo", number)))
        resp = client.post("/v1/records", json={"records": batch}, headers=headers)
        results = resp.get_json()["results"]
        if resp.status_code != 200 or any(r["status"] != "accepted" for r in results):
            raise RuntimeError(f"push failed: {resp.status_code} {str(results)[:300]}")
        ids.update(e["record"]["id"] for e in batch)
    return ids, kominfo


def start_medallion(tmp: Path, objects: list[dict[str, Any]], page_size: int, budget: float) -> tuple[Any, str]:
    """medallion's memory backend, under gunicorn (one worker), serving ``objects`` in one collection."""
    manifest = [
        {
            "id": o["id"],
            "date_added": o["modified"],
            "version": o["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for o in objects
    ]
    port = free_port()
    data = {
        "/discovery": {"title": "medallion", "default": f"http://127.0.0.1:{port}/api1/", "api_roots": ["api1"]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 104857600},
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "blocks",
                    "can_read": True,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }
    (tmp / "medallion-data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp / "medallion-data.json"),
            "session_timeout": int(budget) + 3600,
        },
        "users": {"bench": "bench"},
        "taxii": {"max_page_size": max(page_size, 100)},
    }
    (tmp / "medallion.json").write_text(json.dumps(config))
    log = open(tmp / "medallion.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            str(int(budget) + 3600),
            f'medallion:load_app("{tmp / "medallion.json"}")',
        ],
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() ends the worker too, however busy
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"medallion exited with {proc.returncode}; see {log.name}")
        try:
            if requests.get(url + "/taxii2/", auth=("bench", "bench"), headers={"Accept": TAXII}, timeout=5).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("medallion did not start")


def stop(proc: subprocess.Popen[Any]) -> None:
    """End medallion's master and worker: a worker deep in its first answer ignores a graceful stop."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
            time.sleep(0.5)  # the worker may outlive its master by a moment
        except subprocess.TimeoutExpired:
            continue


def check(run: Run, expected: set[str]) -> str | None:
    """None when ``run`` saw each expected indicator exactly once (medallion: when it finished)."""
    if not run.complete:
        return None
    if len(run.ids) != len(set(run.ids)):
        return f"{run.server}: {len(run.ids) - len(set(run.ids))} objects seen twice"
    if set(run.ids) != expected:
        return f"{run.server}: {len(expected - set(run.ids))} lost, {len(set(run.ids) - expected)} unexpected"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--medallion-budget", type=float, default=3600.0)
    parser.add_argument(
        "--first-page-runs", type=int, default=5, help="fresh workers whose first page is timed, besides the cold pass"
    )
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    wall = time.perf_counter()
    # the fill talks to the app in process (Host: localhost); the served hub takes its URL from its bind address
    with bench_hub(args.database_url, HUB_URL="http://localhost") as hub:
        from hub.taxii.stix import indicator_id

        t = time.perf_counter()
        ids, kominfo = fill(hub.app, args.records)
        expected = {indicator_id(i) for i in ids}
        fill_s = time.perf_counter() - t
        env = {
            "DATABASE_URL": hub.url,
            "HUB_KEYS_DIR": str(hub.tmp / "hub-keys"),
            "TANGKAL_INSTANCE": str(hub.tmp / "instance"),
            "LOG_LEVEL": "WARNING",
            "RATELIMIT_DEFAULT": "1000000 per minute",
        }
        # the first page of a fresh worker, on as many fresh workers (one number on a busy machine is noise)
        firsts = [cold_first_page(env, kominfo, args.page_size) for _ in range(args.first_page_runs)]
        try:
            live = LiveHub(env, workers=1, threads=4)
        except RuntimeError:
            for log in (hub.tmp / "instance").glob("hub-*.log"):
                print(log.read_text()[-3000:], file=sys.stderr)
            raise
        try:
            session = requests.Session()
            session.headers.update(bearer(live.token(kominfo)))
            url = f"{live.url}/taxii2/api/collections/{COLLECTION}/objects/"
            # the same warm-up medallion gets from its readiness probe: a discovery request (it builds no object)
            session.get(f"{live.url}/taxii2/", headers={"Accept": TAXII}, timeout=60).raise_for_status()
            cold = page_all("hub (cold worker)", url, session, args.page_size)
            warm = page_all("hub (warm)", url, session, args.page_size)
            # the very objects the hub served, for medallion
            objects: list[dict[str, Any]] = []
            params: dict[str, Any] = {"limit": 1000, "match[type]": "indicator"}
            while True:
                body = session.get(url, params=params, headers={"Accept": TAXII}, timeout=60).json()
                objects += body.get("objects", [])
                if not body["more"]:
                    break
                params["next"] = body["next"]
        finally:
            live.stop()
        proc, murl = start_medallion(hub.tmp, objects, args.page_size, args.medallion_budget)
        try:
            msession = requests.Session()
            msession.auth = ("bench", "bench")
            med = page_all(
                "medallion 3.0.0 (memory)",
                f"{murl}/api1/collections/{COLLECTION}/objects/",
                msession,
                args.page_size,
                args.medallion_budget,
            )
        finally:
            stop(proc)
        dbname = describe_db(hub)
    load_end = os.getloadavg()

    failures = [f for f in (check(cold, expected), check(warm, expected), check(med, expected)) if f]
    rows = []
    for run in (cold, warm, med):
        rate = f"{run.rate:,.0f}" if run.complete else f"< {args.records / run.total_s:,.1f}"
        first = f"{run.first_page_s * 1000:,.1f}" if run.first_page_s == run.first_page_s else "-"
        rows.append([run.server, f"{run.objects:,}", run.pages, first, f"{run.total_s:,.2f}", rate, run.note or "ok"])
    print(f"TAXII paging: {args.records:,} indicators, {args.page_size} a page, match[type]=indicator; hub on {dbname}")
    print(f"load average at start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} (1/5/15 min), 2 cores")
    print(table(["server", "objects", "pages", "first page ms", "total s", "objects/s", "note"], rows))
    print(f"load average at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}; fill {fill_s:.1f} s")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    med_rate = med.rate if med.complete else args.records / med.total_s
    speedup = cold.rate / med_rate
    bound = "" if med.complete else ">"
    firsts.append(cold.first_page_s)
    first_median = statistics.median(firsts)
    print(
        f"cold first page over {len(firsts)} fresh workers: median {first_median * 1000:.1f} ms "
        f"(min {min(firsts) * 1000:.1f}, max {max(firsts) * 1000:.1f}); warm pages: mean "
        f"{warm.total_s / max(warm.pages, 1) * 1000:.1f} ms"
    )
    first_ok = first_median < 0.100
    rate_ok = speedup >= 100
    print(
        f"VERDICT: the hub pages {bound}{speedup:,.0f}x medallion's objects/s cold ({warm.rate / med_rate:,.0f}x warm) "
        f"[target >= 100x: {'met' if rate_ok else 'MISSED'}]; its cold first page answered in "
        f"{first_median * 1000:.1f} ms (median of {len(firsts)} fresh workers) at {args.records:,} objects "
        "[target < 100 ms: "
        f"{'met' if first_ok else 'MISSED'}]; every indicator seen exactly once by the hub"
        + (" and medallion" if med.complete else "")
        + f" (total {time.perf_counter() - wall:.0f} s)"
    )
    return 0 if first_ok and rate_ok else 2


if __name__ == "__main__":
    sys.exit(main())
