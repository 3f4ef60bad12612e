"""``events push``: sign and push an operator's number lifecycle events (PROTOCOL.md section 10).

The input is the monthly export of the numbers whose subscription ended
(``disconnected``: the number rests in quarantine) and of those given to a
new subscriber (``reassigned``). A ``reassigned`` event makes the hub lift
every block on the number issued before the event took effect, and refuse
later complaints about the earlier subscriber; only the number's home
operator may send it (scope ``numbers:write``).

CSV columns (a header row; cells separated by commas, semicolons or tabs,
read off the header; names are case-insensitive, unknown columns are
ignored and never sent): ``number`` (also ``msisdn``, ``nomor``; local forms
such as ``0812-3456-7890`` are turned into E.164 with region ID before
signing), ``event`` (also ``peristiwa``, ``kejadian``: ``disconnected`` or
``reassigned``, also ``putus``, ``diputus``, ``nonaktif``, ``didaur ulang``,
``pelanggan baru``), ``effective_at`` (also ``berlaku_sejak``, ``tanggal``:
a date alone, ``2026-12-01``, is 00:00 Jakarta time that day; or an RFC 3339
time; a time without zone is Jakarta time), and optionally ``id`` and
``operator`` (you). JSONL lines hold the same members, or whole signed
events, sent as they are.

Each event's id is a UUIDv5 over you and the whole event, and Ed25519 signs
the same bytes the same way: pushing the same export again sends the very
same events, and the hub answers ``duplicate`` with the original receipts.
Rows that cannot become an event are reported by line number and skipped;
``--rejects FILE`` also writes them, with the hub's rejections, as a CSV to
fix and push again. ``--dry-run`` has the hub judge every event as a push
would and store nothing (no block is lifted). Exit 1 when any row was
skipped or rejected.
"""

from __future__ import annotations

import argparse

from partners.cli.common import Reporter, doc
from partners.cli.push import add_input_arguments, check_batch_size, push_file
from partners.inputs import read_number_events


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "events",
        help="operators: push number lifecycle events (disconnected, reassigned) from CSV",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="{push}")
    push = actions.add_parser(
        "push",
        parents=[common],
        help="sign and push number events from CSV (number,event,effective_at) or JSONL",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(push)
    push.set_defaults(run=run_push)


def run_push(args: argparse.Namespace, out: Reporter) -> int:
    check_batch_size(args)
    return push_file(
        args,
        out,
        "number_event",
        lambda fmt, operator: read_number_events(args.input, fmt, operator, out.info),
        noun="number events",
    )
