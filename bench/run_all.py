"""Run every benchmark, each in its own process: ``make bench``.

    .venv/bin/python bench/run_all.py [--quick] [--database-url postgresql://...]

Each benchmark prints its own table and verdict. The exit status is the
worst of theirs: 0 every target holds, 2 a complexity or throughput target
does not, 1 a benchmark failed (an error, a proof that did not verify, a
report figure or an attestation answer that is wrong).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHES = [
    ("merkle_proofs.py", [], ["--leaves", "10000", "--proofs", "50"]),
    ("push_throughput.py", [], ["--rounds", "1", "--requests", "20,2,1"]),
    ("report_daily.py", [], ["--assignments", "50000", "--small", "10000", "--runs", "1"]),
    ("attestation_memory.py", [], ["--mid", "10000", "--big", "20000", "--runs", "1"]),
    ("push_live.py", [], ["--batches", "1", "--batch-size", "100"]),
    ("pull_live.py", [], ["--records", "2000"]),
    ("lookup_live.py", [], ["--records", "5000", "--lookups", "200", "--push-batches", "1"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every Tangkal benchmark.")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run of a few seconds, ratios not meaningful"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL for every benchmark (default: env BENCH_DATABASE_URL, else SQLite)",
    )
    args = parser.parse_args(argv)
    summary = []
    for script, normal, quick in BENCHES:
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else normal)]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        print(f"=== {script} {' '.join(cmd[2:])}".rstrip(), flush=True)
        t0 = time.perf_counter()
        code = subprocess.call(cmd, cwd=HERE.parent, env=os.environ.copy())
        took = time.perf_counter() - t0
        summary.append((script, code, took))
        print(flush=True)
    print("=== summary")
    for script, code, took in summary:
        status = {0: "ok", 2: "TARGET MISSED (see VERDICT)"}.get(code, f"FAILED (exit {code})")
        print(f"{script:<22} {status:<30} {took:6.1f} s")
    codes = {code for _, code, _ in summary}
    if codes - {0, 2}:
        return 1
    return 2 if 2 in codes else 0


if __name__ == "__main__":
    sys.exit(main())
