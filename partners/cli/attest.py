"""``attest``: sign what you actually block and let the hub compare it with your acks.

The input holds the numbers your switch or platform blocks now, one per
line, in any form (``0812...``, ``+62812...``); they are turned into
E.164, deduplicated and sorted, and SHA-256 is taken over them joined by
``\\n`` (PROTOCOL.md section 6). The hub answers whether that matches the
set it expects: the numbers you acked ``blocked`` whose block is still in
force. A line that is no valid number stops the run before anything is
signed (an attestation over a wrong set would only mislead). Exit 0 on a
match, 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import json
import sys

from partners.cli.common import EXIT_OK, EXIT_REJECTED, Reporter, doc, make_client
from partners.errors import InputError
from partners.fields import BadField, timestamp
from partners.inputs import read_numbers


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "attest",
        parents=[common],
        help="attest the numbers you block (one per line)",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="file of blocked numbers, one per line, or - for stdin")
    p.add_argument("--as-of", help="the moment the list describes (default now)")
    p.add_argument("--json", action="store_true", help="print the hub's answer as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Reporter) -> int:
    numbers: list[str] = []
    bad = 0
    for row in read_numbers(args.input):
        if row.error is not None or row.value is None:
            out.problem(f"line {row.line}: {row.error}")
            bad += 1
        else:
            numbers.append(row.value)
    if bad:
        raise InputError(f"{bad} line(s) of {args.input} are not valid numbers; nothing attested")
    try:
        as_of = timestamp(args.as_of, "--as-of") if args.as_of else None
    except BadField as exc:
        raise InputError(str(exc)) from None
    client = make_client(args, need_key=True)
    result = client.attest(numbers, as_of=as_of)
    if args.json:
        sys.stdout.write(
            json.dumps(
                {
                    "id": result.id,
                    "match": result.match,
                    "expected_count": result.expected_count,
                    "attested_count": result.attested_count,
                }
            )
            + "\n"
        )
    if result.match:
        out.info(f"attestation {result.id}: match ({result.attested_count:,} numbers, as the hub expects)")
        return EXIT_OK
    out.problem(
        f"attestation {result.id}: MISMATCH: you attest {result.attested_count:,} numbers, "
        f"the hub expects {result.expected_count:,} (the numbers you acked blocked whose block is in force)"
    )
    return EXIT_REJECTED
