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

from partners.cli.common import Reporter, doc
from partners.cli.push import add_input_arguments, check_batch_size, push_file
from partners.inputs import read_acks


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
    check_batch_size(args)
    return push_file(args, out, "ack", lambda fmt, partner: read_acks(args.input, fmt, partner, out.info))
