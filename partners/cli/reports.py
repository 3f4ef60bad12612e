"""``reports``: the ministry's reconciliation reports, in Jakarta dates (scope reports:read).

  reports list [--kind daily|monthly|adhoc] [--since YYYY-MM-DD]
  reports show REPORT                        (REPORT: an id, or latest)
  reports csv REPORT [--table partners|overdue|anomalies] [--out FILE]

Periods are named by their Jakarta dates (a daily report of 27 November
covers 2026-11-26T17:00Z to 2026-11-27T17:00Z) and times are shown in WIB.
Every report is checked against the hub's signature before it is shown.
``csv --table partners`` is the hub's own CSV (one row per partner, with
the period's start and end); ``overdue`` and ``anomalies`` are written here
from the signed report, with Jakarta times beside the UTC ones. Both lists
stop at 1,000 rows: the command says so when a list was cut. Files are
written mode 0600 (they hold phone numbers), named as the hub names them
(``tangkal-daily-2026-11-27-<id>.csv``, in ``--dir`` or here) unless
``--out`` is given; ``--out -`` writes to stdout.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from keys.keyfiles import write_atomically
from keys.timefmt import JAKARTA, format_ts, jakarta_period, jakarta_time, parse_ts
from partners.cli.common import EXIT_OK, Reporter, doc, make_client
from partners.client import HubClient
from partners.errors import ConfigError, NotFound

OVERDUE_COLUMNS = (
    "record_id",
    "partner",
    "number",
    "action",
    "assigned_at",
    "assigned_at_wib",
    "due_at",
    "due_at_wib",
    "status_at_end",
)
ANOMALY_COLUMNS = (
    "kind",
    "at",
    "at_wib",
    "partner",
    "number",
    "record_id",
    "related_record_id",
    "attestation_id",
    "as_of",
    "blocked_count",
    "expected_count",
    "detail",
)


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "reports",
        parents=[common],
        help="the ministry's reports: list, show, csv (Jakarta dates)",
        description=doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=("list", "show", "csv"))
    p.add_argument("report", nargs="?", help="a report id, or latest (show, csv)")
    p.add_argument("--kind", choices=("daily", "monthly", "adhoc"), help="list: only this kind; latest: of this kind")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="list: periods starting on or after this Jakarta date")
    p.add_argument("--table", choices=("partners", "overdue", "anomalies"), default="partners", help="csv: which table")
    p.add_argument("--out", metavar="FILE", help="csv: where to write (default: the hub's file name; - for stdout)")
    p.add_argument("--dir", metavar="DIR", help="csv: the folder for the default file name (default: here)")
    p.add_argument("--json", action="store_true", help="list, show: JSON (show: the signed report as served)")
    p.set_defaults(run=run)


def _since(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since is a Jakarta date like 2026-11-27, not {text!r}") from None
    return format_ts(datetime.combine(day, time(0), JAKARTA))


def label(item: dict[str, Any]) -> str:
    """A report's period as Jakarta dates."""
    period = item["period"]
    return jakarta_period(str(item["kind"]), parse_ts(period["start"]), parse_ts(period["end"]))


def _resolve(client: HubClient, args: argparse.Namespace) -> str:
    if not args.report:
        raise ConfigError(f"reports {args.action} needs a report id (or latest)")
    if args.report != "latest":
        return str(args.report)
    newest = None
    for item in client.reports(kind=args.kind or "daily"):
        newest = item
    if newest is None:
        raise NotFound("not-found", 404, f"the hub has no {args.kind or 'daily'} report yet")
    return str(newest["id"])


def run(args: argparse.Namespace, out: Reporter) -> int:
    client = make_client(args)
    if args.action == "list":
        return _list(client, args, out)
    report_id = _resolve(client, args)
    if args.action == "show":
        return _show(client, report_id, args)
    return _csv(client, report_id, args, out)


def _list(client: HubClient, args: argparse.Namespace, out: Reporter) -> int:
    items = list(client.reports(kind=args.kind, since=_since(args.since)))
    if args.json:
        sys.stdout.write(json.dumps([{**i, "jakarta_period": label(i)} for i in items], indent=2) + "\n")
        return EXIT_OK
    sys.stdout.write(f"{'id':36}  {'kind':7}  {'period (Jakarta)':21}  generated\n")
    for item in items:
        sys.stdout.write(f"{item['id']:36}  {item['kind']:7}  {label(item):21}  {jakarta_time(item['generated_at'])}\n")
    out.info(f"{len(items):,} reports")
    return EXIT_OK


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _show(client: HubClient, report_id: str, args: argparse.Namespace) -> int:
    envelope = client.report(report_id)
    if args.json:
        sys.stdout.write(json.dumps(envelope, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    r = envelope["report"]
    t = r["totals"]
    acted = t["acted"]
    overdue = r["overdue"]
    anomalies = r["anomalies"]
    lines = [
        f"{r['kind']} report {label(r)} (Jakarta): {r['period']['start']} to {r['period']['end']}",
        f"id {r['id']}, generated {jakarta_time(r['generated_at'])}, signed by the hub "
        f"({envelope['signature']['kid']}): verified",
        f"SLA {r['sla_hours']} h; issued {t['issued']}, assigned {t['assigned']}, delivered {t['delivered']}, "
        f"acted {sum(acted.values())} (blocked {acted['blocked']}, unblocked {acted['unblocked']}, "
        f"rejected {acted['rejected']}, not applicable {acted['not_applicable']}), pending {t['pending']}, "
        f"overdue {overdue['count']}, anomalies {r.get('anomaly_count', len(anomalies))}",
        "",
        f"{'partner':16} {'kind':8} {'assigned':>8} {'acted':>6} {'pending':>7} {'overdue':>7} "
        f"{'in SLA':>6} {'median h':>8} {'p95 h':>7}  attestation",
    ]
    for p in r["partners"]:
        att = p["attestation"]
        attested = "-" if not att else f"{'match' if att['match'] else 'MISMATCH'} ({jakarta_time(att['as_of'])})"
        share = p["within_sla_share"]
        lines.append(
            f"{p['partner']:16} {p['kind']:8} {p['assigned']:>8} {sum(p['acted'].values()):>6} {p['pending']:>7} "
            f"{p['overdue']:>7} {'-' if share is None else f'{share:.0%}':>6} "
            f"{_cell(p['median_hours_to_act']):>8} {_cell(p['p95_hours_to_act']):>7}  {attested}"
        )
    for a in anomalies[:10]:
        lines.append(f"anomaly {jakarta_time(a['at'])}: {a['detail']}")
    if len(anomalies) > 10:
        lines.append(f"... and {len(anomalies) - 10} more anomalies (reports csv {r['id']} --table anomalies)")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _rows(report: dict[str, Any], table: str) -> tuple[tuple[str, ...], list[dict[str, Any]], int]:
    """A table of the signed report: its columns, rows (Jakarta times added), and how many there are in all."""
    if table == "overdue":
        rows = [
            {**i, "assigned_at_wib": jakarta_time(i["assigned_at"]), "due_at_wib": jakarta_time(i["due_at"])}
            for i in report["overdue"]["items"]
        ]
        return OVERDUE_COLUMNS, rows, int(report["overdue"]["count"])
    rows = [{**a, "at_wib": jakarta_time(a["at"])} for a in report["anomalies"]]
    return ANOMALY_COLUMNS, rows, int(report.get("anomaly_count", len(rows)))


def report_table_csv(report: dict[str, Any], table: str) -> tuple[str, int, int]:
    """The overdue items or anomalies of a report as CSV text, each row with the period; (text, rows, total)."""
    columns, rows, total = _rows(report, table)
    text = io.StringIO()
    writer = csv.DictWriter(
        text,
        fieldnames=[*columns, "period_start", "period_end"],
        restval="",
        extrasaction="ignore",
        lineterminator="\r\n",
    )
    writer.writeheader()
    period = {"period_start": report["period"]["start"], "period_end": report["period"]["end"]}
    for row in rows:
        writer.writerow({**{k: "" if v is None else v for k, v in row.items()}, **period})
    return text.getvalue(), len(rows), total


def _csv(client: HubClient, report_id: str, args: argparse.Namespace, out: Reporter) -> int:
    if args.table == "partners":
        name, text = client.report_csv(report_id)
        count = max(0, text.count("\n") - 1)
    else:
        report = client.report(report_id)["report"]
        text, count, total = report_table_csv(report, args.table)
        name = f"tangkal-{report['kind']}-{label(report)}-{report['id']}-{args.table}.csv"
        if total > count:
            out.problem(f"warning: the report lists {count:,} of {total:,} {args.table} rows (the first, oldest)")
    if args.out == "-":
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.out) if args.out else Path(args.dir or ".") / name
    write_atomically(path, text.encode("utf-8"), mode=0o600, exact_mode=True)
    out.info(f"wrote {path} ({count:,} rows)")
    return EXIT_OK
