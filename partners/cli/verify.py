"""``verify``: check the hub's promises yourself.

``verify head --out FILE``
    fetch the log's signed tree head, check its signature, save it. Keep
    heads over time: each is the hub's signed word on the whole log.
``verify consistency OLD.json [NEW.json]``
    prove the log at NEW (default: the current head) extends the log at
    OLD: nothing that was in it was dropped or rewritten. Fetches the
    RFC 9162 consistency proof from the hub.
``verify receipts FILE``
    for each receipt in FILE (a push or ack receipts file, or a pull JSONL),
    check the receipt's signature and hash against the object, that the
    log's entry at its index is that very object, and its inclusion proof
    under the current signed head. ``--id`` picks items, ``--max`` caps
    how many (each costs two requests).

Exit 0 when everything verifies, 4 when anything does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from keys.keyfiles import write_atomically
from partners.cli.common import EXIT_OK, EXIT_VERIFY, Reporter, doc, make_client
from partners.client import HubClient
from partners.errors import InputError, VerificationFailed
from partners.journal import read_lines


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "verify",
        help="verify tree heads, log consistency and receipts' inclusion",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    checks = p.add_subparsers(dest="check", required=True, metavar="{head,consistency,receipts}")
    head = checks.add_parser("head", parents=[common], help="fetch, verify and save the signed tree head")
    head.add_argument("--out", metavar="FILE", help="save it here (default: print on stdout)")
    head.set_defaults(run=run_head)
    cons = checks.add_parser("consistency", parents=[common], help="prove a later head extends an earlier one")
    cons.add_argument("first", help="the earlier saved head")
    cons.add_argument("second", nargs="?", help="the later saved head (default: fetch the current one)")
    cons.add_argument("--save", metavar="FILE", help="save the fetched current head here")
    cons.set_defaults(run=run_consistency)
    rec = checks.add_parser(
        "receipts", aliases=["receipt"], parents=[common], help="prove receipted objects are in the log"
    )
    rec.add_argument("file", help="receipts file (push/ack) or pulled JSONL")
    rec.add_argument("--id", action="append", default=[], metavar="ID", help="only this object (repeatable)")
    rec.add_argument("--max", type=int, metavar="N", help="check at most N items")
    rec.set_defaults(run=run_receipts)


def _read_head(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or "tree_head" not in data:
        raise InputError(f"{path} is not a signed tree head (save one with: python -m partners verify head --out FILE)")
    return data


def _save_head(path: str, envelope: dict[str, Any]) -> None:
    write_atomically(Path(path), (json.dumps(envelope, indent=2) + "\n").encode("utf-8"))


def run_head(args: argparse.Namespace, out: Reporter) -> int:
    client = make_client(args)
    envelope = client.log_head()
    body = envelope["tree_head"]
    if args.out:
        _save_head(args.out, envelope)
        out.info(
            f"tree head verified: size {body['size']:,}, root {body['root_hash'][:16]}..., "
            f"signed {body['timestamp']} by {envelope['signature']['kid']}; saved to {args.out}"
        )
    else:
        sys.stdout.write(json.dumps(envelope, indent=2) + "\n")
    return EXIT_OK


def run_consistency(args: argparse.Namespace, out: Reporter) -> int:
    client = make_client(args)
    first = _read_head(args.first)
    second = _read_head(args.second) if args.second else client.log_head()
    if args.save and not args.second:
        _save_head(args.save, second)
    a, b = client.verify_consistency(first, second)
    out.info(
        f"consistent: the log at size {b['size']:,} (root {b['root_hash'][:16]}...) extends "
        f"the log at size {a['size']:,} (root {a['root_hash'][:16]}...)"
    )
    return EXIT_OK


def _pairs(path: str) -> list[tuple[int, str, dict[str, Any] | None, dict[str, Any]]]:
    """``(line, object id, signed object or None, receipt)`` from a receipts file or a pull JSONL.

    A receipts file holds one line per run for the same item (``duplicate``
    answers carry the original receipt again); each distinct pair of object
    and receipt is checked once.
    """
    found = []
    seen: set[str] = set()
    for line, data in read_lines(Path(path)):
        receipt = data.get("receipt")
        if not isinstance(receipt, dict) or "receipt" not in receipt:
            if "receipt" in data and "signature" in data and isinstance(data.get("receipt"), dict):
                receipt = data  # a bare signed receipt
            else:
                continue
        if "signed" in data:
            signed = data["signed"] if isinstance(data["signed"], dict) else None
        elif "record" in data and "signature" in data:
            signed = {"record": data["record"], "signature": data["signature"]}
        else:
            signed = None
        object_id = str(receipt["receipt"].get("object_id", "")) if isinstance(receipt.get("receipt"), dict) else ""
        key = json.dumps([signed, receipt], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        found.append((line, object_id, signed, receipt))
    return found


def _verify_one(
    client: HubClient, signed: dict[str, Any] | None, receipt: dict[str, Any], head: dict[str, Any]
) -> dict[str, Any]:
    if signed is None:
        body = client.trust.receipt(receipt)
        signed = client.log_entry(body["log_index"])
    return client.verify_inclusion(signed, receipt, head)


def run_receipts(args: argparse.Namespace, out: Reporter) -> int:
    pairs = _pairs(args.file)
    if args.id:
        wanted = set(args.id)
        pairs = [p for p in pairs if p[1] in wanted]
        missing = wanted - {p[1] for p in pairs}
        if missing:
            raise InputError(f"no receipt in {args.file} for {', '.join(sorted(missing))}")
    if args.max is not None:
        pairs = pairs[: args.max]
    if not pairs:
        raise InputError(f"no receipts in {args.file}")
    client = make_client(args)
    head = client.log_head()
    failed = 0
    with out.progress(len(pairs), "receipt", "verify") as bar:
        for line, object_id, signed, receipt in pairs:
            try:
                _verify_one(client, signed, receipt, head)
            except VerificationFailed as exc:
                failed += 1
                out.problem(f"line {line}: {object_id}: {exc}")
            bar.update(1)
    size = head["tree_head"]["size"]
    if failed:
        out.problem(f"{failed:,} of {len(pairs):,} receipts did NOT verify against the log of size {size:,}")
        return EXIT_VERIFY
    out.info(
        f"{len(pairs):,} receipts verified: signed by the hub, matching their objects, "
        f"included in the log of size {size:,}"
    )
    return EXIT_OK
