"""Where a request's time goes: pyinstrument over the hub's own code, in process.

The live benchmarks (``*_live.py``) say how far a figure is from its
target; this says why. It builds a throwaway hub (``_common.bench_hub``),
fills it in bulk (``_live.fill_bulk``), then runs ``--count`` requests of one
kind through the Flask test client under pyinstrument and prints the call
tree (``--html FILE`` writes the interactive page too).

    .venv/bin/python bench/profile_requests.py lookup|range|pull|push|healthz [--records 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import sys

import orjson
from _common import bench_hub, default_database_url
from _live import Numbers, fill_bulk, register_world, signed_batches
from pyinstrument import Profiler

from tests.support import basic_auth, bearer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("lookup", "range", "pull", "push", "healthz", "whoami"))
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--html", default=None)
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--flat", action="store_true", help="functions by their own time")
    parser.add_argument("--database-url", default=default_database_url())
    args = parser.parse_args(argv)
    with bench_hub(args.database_url, RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="100000000 per minute") as hub:
        world = register_world(hub, otts=2)
        numbers = Numbers(1)
        fill_bulk(hub, world, numbers, args.records)
        replay = Numbers(1)
        reported = [replay.next(i) for i in range(args.records)]
        client = hub.app.test_client()
        caller = world.ministry if args.kind == "push" else world.otts[0]
        resp = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(caller))
        headers = bearer(resp.get_json()["access_token"])
        bodies = signed_batches(world.ministry, Numbers(2), 1000 * max(1, args.count // 100), 1000, 10**7)
        paths = {
            "lookup": [f"/v1/numbers/{reported[i * 7 % len(reported)]}" for i in range(args.count)],
            "range": [
                f"/v1/numbers/hash-range/{hashlib.sha256(reported[i * 7 % len(reported)].encode()).hexdigest()[:5]}"
                for i in range(args.count)
            ],
            "healthz": ["/healthz"] * args.count,
            "whoami": ["/v1/whoami"] * args.count,
        }
        profiler = Profiler(interval=0.0005)
        if args.kind == "pull":
            profiler.start()
            after, pages = 0, 0
            while pages < args.count:
                r = client.get(f"/v1/records?after={after}&limit=1000", headers=headers)
                doc = orjson.loads(r.data)
                after, pages = doc["next_after"], pages + 1
                if not doc["has_more"]:
                    break
            profiler.stop()
        elif args.kind == "push":
            profiler.start()
            for body in bodies:
                r = client.post("/v1/records", data=body, headers=headers, content_type="application/json")
                if r.status_code != 200:
                    raise RuntimeError(r.data[:300])
            profiler.stop()
        else:
            for p in paths[args.kind][:20]:
                client.get(p, headers=headers)
            profiler.start()
            for p in paths[args.kind]:
                r = client.get(p, headers=headers)
                if r.status_code != 200:
                    raise RuntimeError(f"{p}: {r.status_code} {r.data[:300]!r}")
            profiler.stop()
        if args.flat:
            from pyinstrument.renderers import ConsoleRenderer

            print(profiler.output(ConsoleRenderer(unicode=False, color=False, flat=True, show_all=True))[:6000])
        else:
            print(profiler.output_text(unicode=False, color=False, show_all=args.all))
        if args.html:
            with open(args.html, "w") as f:
                f.write(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
