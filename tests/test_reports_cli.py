"""For the ministry's analysts: report CSVs named by the Jakarta period with period columns, and ``tangkal reports``."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from keys.timefmt import jakarta_period
from tests import test_reports
from tests.support import bearer
from tests.test_partners_support import CliPartner, serve

DAY = "2026-10-10"  # Jakarta; in UTC [2026-10-09T17:00Z, 2026-10-10T17:00Z)


#: tests/test_reports.py's fixture: partners and Jakarta day 2026-10-10 with overdue items and anomalies.
history = test_reports.history


@pytest.fixture
def daily(app: Flask, history: dict[str, Any]) -> dict[str, Any]:
    res = app.test_cli_runner().invoke(args=["report", "run", "--kind", "daily", "--period", DAY, "--json"])
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.output)["report"])


@pytest.fixture
def hub(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_jakarta_period_names():
    start, end = datetime(2026, 10, 9, 17, tzinfo=UTC), datetime(2026, 10, 10, 17, tzinfo=UTC)
    assert jakarta_period("daily", start, end) == "2026-10-10"
    assert jakarta_period("monthly", datetime(2026, 9, 30, 17, tzinfo=UTC), datetime(2026, 10, 31, 17, tzinfo=UTC)) == (
        "2026-10"
    )
    assert jakarta_period("adhoc", start, datetime(2026, 10, 12, 17, tzinfo=UTC)) == "2026-10-10_2026-10-12"


def test_the_csv_is_named_by_the_jakarta_day_and_carries_the_period(
    client: Any,
    daily: dict[str, Any],
    history: dict[str, Any],
    token: Any,
):
    resp = client.get(f"/v1/reports/{daily['id']}.csv", headers=bearer(token(history["kominfo"])))
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f'attachment; filename="tangkal-daily-{DAY}-{daily["id"]}.csv"'
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert rows and all(
        (r["period_start"], r["period_end"]) == ("2026-10-09T17:00:00Z", "2026-10-10T17:00:00Z") for r in rows
    )


def test_reports_list_show_and_csv_for_the_ministry(
    hub: str,
    daily: dict[str, Any],
    history: dict[str, Any],
    tmp_path: Path,
):
    kominfo = CliPartner.of(history["kominfo"], hub, tmp_path)

    listed = kominfo.run("reports", "list", "--kind", "daily", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (line,) = [row for row in listed.stdout.splitlines() if daily["id"] in row]
    assert f"daily    {DAY}" in line and "WIB" in line

    shown = kominfo.run("reports", "show", "latest", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"daily report {DAY} (Jakarta)" in shown.stdout and "verified" in shown.stdout
    assert "MISMATCH" in shown.stdout  # whatsapp's attestation
    assert "anomaly 2026-10-10 21:00 WIB" in shown.stdout

    made = kominfo.run("reports", "csv", "latest", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    hub_csv = tmp_path / f"tangkal-daily-{DAY}-{daily['id']}.csv"
    assert stat.S_IMODE(hub_csv.stat().st_mode) == 0o600
    assert "period_start" in hub_csv.read_text().splitlines()[0]

    overdue = kominfo.run("reports", "csv", daily["id"], "--table", "overdue", "--out", "-", cwd=tmp_path)
    assert overdue.returncode == 0, overdue.stderr
    rows = list(csv.DictReader(io.StringIO(overdue.stdout)))
    assert [(r["partner"], r["number"]) for r in rows] == [("telkomsel", "+6281200000003")]
    assert rows[0]["assigned_at_wib"] == "2026-10-08 17:00 WIB" and rows[0]["period_end"] == "2026-10-10T17:00:00Z"

    kominfo.run("reports", "csv", daily["id"], "--table", "anomalies", cwd=tmp_path)
    anomalies = tmp_path / f"tangkal-daily-{DAY}-{daily['id']}-anomalies.csv"
    kinds = [r["kind"] for r in csv.DictReader(io.StringIO(anomalies.read_text()))]
    assert sorted(kinds) == ["attestation_mismatch", "rereported_after_block"]


def test_reports_need_the_ministrys_scope(hub: str, history: dict[str, Any], tmp_path: Path):
    telkomsel = CliPartner.of(history["telkomsel"], hub, tmp_path)
    res = telkomsel.run("reports", "list", cwd=tmp_path)
    assert res.returncode == 3 and "reports:read" in res.stderr
