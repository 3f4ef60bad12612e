"""``pull``: fetch the records you must act on (and your own), resumable.

Appends every record visible to you to ``--out`` (JSONL as served, with
signatures and receipts, or CSV for a table) and keeps the cursor in
``--cursor`` (default ``<out>.cursor``). Each page is written and fsynced
before the cursor moves, and the cursor is replaced atomically; a puller
killed at any moment resumes with the next run exactly where it stopped:
no record lost, none repeated (a partly written page is cut off and pulled
again). Every record's receipt and issuer signature are verified before it
is written. ``--follow`` keeps polling for new records.

With ``--out -`` (stdout) the cursor moves once a page is handed to the
pipe: what the reader does with it is beyond the puller's sight, so use a
file where every record must be processed exactly once.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from partners import cursor as cursors
from partners.cli.common import EXIT_OK, Reporter, doc, make_client
from partners.errors import ConfigError
from partners.outputs import PullWriter


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "pull",
        parents=[common],
        help="pull records to JSONL or CSV, resumable via a cursor file",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, metavar="FILE", help="output file (appended), or - for stdout")
    p.add_argument("--format", choices=("jsonl", "csv"), help="default: csv for *.csv, else jsonl")
    p.add_argument("--cursor", metavar="FILE", help="cursor file (default <out>.cursor; tangkal.cursor for stdout)")
    p.add_argument("--limit", type=int, default=1000, metavar="N", help="records per request, 1 to 1000 (1000)")
    p.add_argument("--follow", action="store_true", help="keep polling for new records until interrupted")
    p.add_argument(
        "--interval", type=float, default=30.0, metavar="SECONDS", help="polling interval with --follow (30)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Reporter) -> int:
    if not 1 <= args.limit <= 1000:
        raise ConfigError("--limit must be 1 to 1000")
    fmt = args.format or ("csv" if args.out.lower().endswith(".csv") else "jsonl")
    cursor_path = Path(args.cursor or ("tangkal.cursor" if args.out == "-" else args.out + ".cursor"))
    client = make_client(args)
    hub = client.transport.base_url
    cursor = cursors.load(cursor_path, hub, client.partner)
    cursors.repair_output(cursor)
    writer = PullWriter(args.out, fmt)
    pulled = 0
    first_after = cursor.after
    try:
        if cursor.output != args.out:
            cursor.output, cursor.offset = args.out, writer.write_page([])
            cursors.save(cursor_path, cursor)
        with out.progress(None, "record", "pull") as bar:
            while True:
                for page in client.pull_all(cursor.after, args.limit):
                    cursor.offset = writer.write_page(page.items)
                    cursor.after = page.next_after
                    cursors.save(cursor_path, cursor)
                    pulled += len(page.items)
                    bar.update(len(page.items))
                if not args.follow:
                    break
                time.sleep(args.interval)
    finally:
        writer.close()
        out.info(
            f"{pulled:,} record{'' if pulled == 1 else 's'} pulled (after {first_after} -> {cursor.after}); cursor {cursor_path}"
        )
    return EXIT_OK
