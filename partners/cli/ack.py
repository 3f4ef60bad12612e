"""``ack``: sign and push acknowledgements from a CSV of ``record_id,outcome,reason``.

Optional columns ``acted_at`` (when you acted; default now; a time without
zone is Jakarta time) and ``id``. Outcomes: ``blocked``, ``rejected``,
``not_applicable`` for a block; ``unblocked``, ``rejected``,
``not_applicable`` for an unblock; ``rejected`` and ``not_applicable`` need a
reason. Ack ids are UUIDv5 over you, the record, the outcome and the
reason, so a re-run answers ``duplicate`` (with the receipts file, which
keeps the acks as first signed). Bad rows are reported by line and
skipped; exit 1 when any row was skipped or rejected.
"""

from __future__ import annotations

import argparse

from partners.cli.common import EXIT_OK, EXIT_REJECTED, Reporter, count_rows, doc, make_client
from partners.cli.push import add_input_arguments, journal_for
from partners.errors import ConfigError
from partners.inputs import detect_format, read_acks
from partners.pushing import PushRun


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "ack",
        parents=[common],
        help="sign and push acks from CSV (record_id,outcome,reason)",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Reporter) -> int:
    if not 1 <= args.batch_size <= 1000:
        raise ConfigError("--batch-size must be 1 to 1000")
    client = make_client(args, need_key=True)
    journal = journal_for(args)
    fmt = detect_format(args.input, args.format)
    rows = read_acks(args.input, fmt, client.partner, out.info)
    push = PushRun(client, "ack", journal, out.problem, batch_size=args.batch_size)
    with out.progress(count_rows(args.input, fmt), "row", "ack") as bar:
        summary = push.run(rows, bar.update)
    out.info(summary.line("acks"))
    if journal.path is not None:
        out.info(f"receipts: {journal.path}")
    return EXIT_REJECTED if summary.rejected_total else EXIT_OK
