"""``push``: sign and push records from a CSV export or a JSONL file.

CSV columns (a header row; cells separated by commas, semicolons or tabs,
read off the header; names are case-insensitive, unknown columns are
ignored and never sent): ``number`` (also ``msisdn``, ``nomor``; local forms
such as ``0812-3456-7890`` are turned into E.164 with region ID),
``category`` (``kategori``), ``channels`` (``kanal``; ``voice;sms;messaging``),
``reason`` (``alasan``), ``complaints`` (``jumlah_aduan``), ``ref``
(``bukti``), and optionally ``digest``, ``confidence``, ``observed_at``,
``expires_at`` (times without a zone are Jakarta time), ``action`` and
``supersedes`` (for unblocks), ``id``. Categories and channels may also be
written in Indonesian (``penipuan``, ``telepon``, ``pesan``). JSONL lines
hold the same members as JSON, or whole signed records, sent as they are.

Each record's id is a UUIDv5 derived from you and the row's content (not
its line or the signing time), so pushing the same file again sends the
same ids: the hub answers ``duplicate`` with the original receipts and
nothing is stored twice. The receipts file (``<input>.receipts.jsonl``)
keeps every signed record with its receipt; re-runs reuse it.

Rows that cannot become a record are reported by line number and skipped;
the rest go through. ``--rejects FILE`` also writes every skipped or
rejected row, with its line and the reason, as a CSV to fix and push again.
``--dry-run`` has the hub judge every record exactly as a push would
(signature, rules, duplicates) and store nothing: a check of the file and
of your signing set-up that leaves no trace. Exit 1 when any row was
skipped or rejected.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from partners.cli.common import EXIT_OK, EXIT_REJECTED, Reporter, count_rows, doc, make_client
from partners.errors import ConfigError
from partners.fields import BadField, RecordDefaults, category, channels, integer, text, timestamp
from partners.inputs import Row, detect_format, read_records
from partners.journal import Journal
from partners.pushing import PushRun
from partners.rejects import Rejects


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "push",
        parents=[common],
        help="sign and push records from CSV or JSONL",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(p)
    d = p.add_argument_group("values for columns the file lacks")
    d.add_argument("--category", help="e.g. scam")
    d.add_argument("--channels", help="e.g. voice;sms;messaging (the default)")
    d.add_argument("--reason", help="e.g. 'Verified complaints to aduannomor.id'")
    d.add_argument("--confidence", help="0 to 100")
    d.add_argument("--expires-at", help="when the blocks lapse (default: the hub's lifetime for the category)")
    p.set_defaults(run=run)


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="input file, or - for stdin")
    p.add_argument("--format", choices=("csv", "jsonl"), help="default: by extension (.jsonl/.ndjson/.json, else CSV)")
    p.add_argument("--receipts", metavar="FILE", help="receipts journal (default <input>.receipts.jsonl)")
    p.add_argument("--no-receipts", action="store_true", help="keep no receipts file (re-runs then rely on look-ups)")
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="items per request, 1 to 1000 (1000)")
    p.add_argument(
        "--rejects", metavar="FILE", help="write skipped and rejected rows (line, problem, detail, cells) to this CSV"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="the hub judges every item as a push would and stores nothing (answers: valid, duplicate, rejected)",
    )


def journal_for(args: argparse.Namespace) -> Journal:
    if args.no_receipts:
        return Journal(None)
    if args.receipts:
        return Journal(Path(args.receipts))
    if args.input == "-":
        return Journal(None)
    return Journal(Path(args.input + ".receipts.jsonl"))


def defaults_from(args: argparse.Namespace) -> RecordDefaults:
    try:
        return RecordDefaults(
            category=category(args.category) if args.category else None,
            channels=tuple(channels(args.channels)) if args.channels else ("voice", "sms", "messaging"),
            reason=text(args.reason, "--reason", 1000) if args.reason else None,
            confidence=integer(args.confidence, "--confidence", 0, 100) if args.confidence else None,
            expires_at=timestamp(args.expires_at, "--expires-at") if args.expires_at else None,
        )
    except BadField as exc:
        raise ConfigError(str(exc)) from None


def check_batch_size(args: argparse.Namespace) -> None:
    if not 1 <= args.batch_size <= 1000:
        raise ConfigError("--batch-size must be 1 to 1000")


#: ``(format, partner)`` -> the rows of ``args.input`` as unsigned bodies or signed envelopes.
RowReader = Callable[[str, str], Iterator[Row[dict[str, Any]]]]


def push_file(args: argparse.Namespace, out: Reporter, kind: str, read: RowReader, noun: str | None = None) -> int:
    """Sign and push ``args.input`` (``kind`` ``record``, ``ack``, ``number_event``) with a progress bar and a summary."""
    client = make_client(args, need_key=True)
    journal = journal_for(args)
    fmt = detect_format(args.input, args.format)
    rows = read(fmt, client.partner)
    rejects = Rejects(Path(args.rejects) if args.rejects else None)
    push = PushRun(
        client, kind, journal, out.problem, batch_size=args.batch_size, dry_run=args.dry_run, rejects=rejects
    )
    with out.progress(count_rows(args.input, fmt), "row", args.command) as bar:
        summary = push.run(rows, bar.update)
    out.info(summary.line(noun or kind + "s"))
    if journal.path is not None and not args.dry_run:
        out.info(f"receipts: {journal.path}")
    if rejects.count:
        out.info(f"{rejects.count:,} skipped or rejected rows: {rejects.path}")
    return EXIT_REJECTED if summary.rejected_total else EXIT_OK


def run(args: argparse.Namespace, out: Reporter) -> int:
    check_batch_size(args)
    defaults = defaults_from(args)
    return push_file(
        args, out, "record", lambda fmt, partner: read_records(args.input, fmt, partner, defaults, out.info)
    )
