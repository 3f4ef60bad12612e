"""``reassigned``: ask the hub whether numbers were given to a new subscriber (PROTOCOL.md section 10).

Before acting on an old complaint, a block list or an account's phone
number, ask whether the number still belongs to the same subscriber. The
input holds one number per line (any form: ``0812...``, ``+62812...``;
``#`` starts a comment), or a CSV of ``number[,since]`` with a header
(``number``/``nomor``, ``since``/``sejak``/``tanggal``) or without one
(number first). ``--since`` is the date asked about for rows without their
own: a date alone (``2026-10-01``) is 00:00 Jakarta time that day, or give an
RFC 3339 time.

Answers, as the FCC's Reassigned Numbers Database gives them: ``yes`` (the
number was reassigned at or after that moment; ``reassigned_at`` says when,
the latest time), ``no`` (it was not), ``no_data`` (the hub's lifecycle
records do not go back that far: ask the operator). Questions go 1000 a
request. The answers are printed on stdout as a table, or as CSV
(``--format csv``) or JSON (``--json``), one per input row in input order;
a row that is no valid number (or that the hub refused) is reported by
line on stderr and shown with its problem. Exit 1 when any row could not
be asked.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from keys.timefmt import jakarta_time
from partners.cli.common import EXIT_OK, EXIT_REJECTED, Reporter, doc, make_client
from partners.errors import ConfigError
from partners.fields import BadField, since_value
from partners.inputs import read_questions
from partners.results import ANSWERS, Reassignment

COLUMNS = ("line", "number", "since", "answer", "reassigned_at", "problem")


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "reassigned",
        parents=[common],
        help="ask whether numbers were reassigned to a new subscriber since a date",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="numbers, one per line, or a CSV of number[,since]; - for stdin")
    p.add_argument("--since", metavar="DATE", help="ask about reassignments at or after this date or time")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output on stdout (table)")
    p.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="questions per request, 1 to 1000 (1000)")
    p.set_defaults(run=run)


@dataclass
class Line:
    """One input row and what became of it."""

    line: int
    answer: Reassignment | None = None
    problem: str | None = None
    slug: str | None = None

    def cells(self) -> dict[str, Any]:
        a = self.answer
        return {
            "line": self.line,
            "number": a.number if a else None,
            "since": a.since if a else None,
            "answer": a.answer if a else None,
            "reassigned_at": a.reassigned_at if a else None,
            "problem": f"{self.slug}: {self.problem}" if self.problem else None,
        }


def run(args: argparse.Namespace, out: Reporter) -> int:
    if not 1 <= args.batch_size <= 1000:
        raise ConfigError("--batch-size must be 1 to 1000")
    try:
        default = since_value(args.since, "--since") if args.since else None
    except BadField as exc:
        raise ConfigError(str(exc)) from None
    lines: list[Line] = []
    asked: list[tuple[Line, tuple[str, str]]] = []
    for row in read_questions(args.input, default, out.info):
        if row.value is None:
            lines.append(Line(row.line, problem=str(row.error), slug="bad-row"))
            out.problem(f"line {row.line}: {row.error} (skipped)")
        else:
            lines.append(Line(row.line))
            asked.append((lines[-1], row.value))
    if asked:
        client = make_client(args)
        pending = iter(asked)
        with out.progress(len(asked), "number", "reassigned") as bar:
            for batch in client.reassigned_batches([q for _line, q in asked], batch_size=args.batch_size):
                for answer in batch:
                    line, _q = next(pending)
                    line.answer = answer
                    if answer.error is not None:
                        line.problem, line.slug = answer.error.detail, answer.error.slug
                        out.problem(f"line {line.line}: rejected: {answer.error.slug}: {answer.error.detail}")
                bar.update(len(batch))
    write(lines, args.format)
    out.info(summary(lines))
    return EXIT_REJECTED if any(line.problem for line in lines) else EXIT_OK


def summary(lines: list[Line]) -> str:
    """``3 numbers: 1 yes, 1 no, 1 no_data, 0 not answered``, with the problems by slug."""
    answers = Counter(line.answer.answer for line in lines if line.answer and line.answer.answer)
    problems = Counter(line.slug for line in lines if line.problem)
    total = len(lines)
    text = f"{total:,} number{'' if total == 1 else 's'}: " + ", ".join(f"{answers[a]:,} {a}" for a in ANSWERS)
    text += f", {sum(problems.values()):,} not answered"
    if problems:
        text += " (" + ", ".join(f"{slug} {n:,}" for slug, n in sorted(problems.items())) + ")"
    return text


def write(lines: list[Line], fmt: str) -> None:
    rows = [line.cells() for line in lines]
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
    else:
        sys.stdout.write(table(rows))
    sys.stdout.flush()


def table(rows: list[dict[str, Any]]) -> str:
    """Aligned columns for a terminal; a reassignment time also as Jakarta wall time."""
    shown = [
        [
            str(r["line"]),
            r["number"] or "",
            r["since"] or "",
            r["answer"] or "-",
            f"{r['reassigned_at']} ({jakarta_time(r['reassigned_at'])})" if r["reassigned_at"] else "",
            r["problem"] or "",
        ]
        for r in rows
    ]
    header = ["line", "number", "since", "answer", "reassigned at", "problem"]
    if not any(row[5] for row in shown):
        header, shown = header[:5], [row[:5] for row in shown]
    widths = [max(len(h), *(len(row[i]) for row in shown)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in shown]
    return "\n".join(out) + "\n"
