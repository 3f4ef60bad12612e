"""``flask --app wsgi demo``: a world with weeks of history, made once, usable by the partner CLI."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from hub.clock import clock_of
from hub.demo import PROFILES, demo_command
from tests.test_partners_support import CliPartner, serve

pytestmark = pytest.mark.slow


def test_demo_world_once_then_refused_and_usable_by_the_partner_cli(app: Flask, tmp_path: Path) -> None:
    from hub.acks.models import Attestation
    from hub.auth.models import Partner, PartnerKey
    from hub.db import db
    from hub.records.anomalies import Anomaly
    from hub.records.models import Assignment, Record

    app.cli.add_command(demo_command)
    runner = app.test_cli_runner()
    out = tmp_path / "demo"
    made = runner.invoke(args=["demo", "--days", "10", "--out", str(out), "--hub-url", "http://hub.example"])
    assert made.exit_code == 0, made.output
    assert "demo world ready: 8 partners" in made.output

    # the clock runs again: real time, not the last simulated moment
    assert abs(clock_of(app).now() - datetime.now(UTC)) < timedelta(seconds=5)

    with app.app_context():
        partners = {p.id: p for p in db.session.scalars(select(Partner))}
        assert set(partners) == {p.id for p in PROFILES}
        assert partners["xl"].carrier_names == ["AXIS", "XL"]
        assert db.session.scalar(select(func.count()).select_from(PartnerKey)) == 8
        records = db.session.scalars(select(Record)).all()
        ministry = [r for r in records if r.issuer == "kominfo" and r.action == "block"]
        assert len(ministry) >= 100 and any(r.issuer != "kominfo" for r in records)
        assert any(r.action == "unblock" for r in records) and any(r.lifted_by for r in records)
        received = sorted(r.received_at for r in records)
        assert received[-1] - received[0] > timedelta(days=8)  # history, not a burst
        assert any(r.number.startswith(("+60", "+855", "+63")) for r in records)
        now = clock_of(app).now()
        rows = db.session.scalars(select(Assignment)).all()
        acted = [a for a in rows if a.acted_at is not None]
        assert len(acted) > len(rows) * 0.6
        assert any(a.acted_at - a.assigned_at > timedelta(hours=24) for a in acted)  # late
        assert any(a.acted_at is None and now - a.assigned_at > timedelta(hours=24) for a in rows)  # overdue
        assert {a.outcome for a in acted} >= {"blocked", "not_applicable", "rejected", "unblocked"}
        assert all(a.delivered_at is not None and a.delivered_at <= a.acted_at for a in acted)
        assert db.session.scalar(select(func.count()).select_from(Anomaly)) >= 1
        matches = [m for (m,) in db.session.execute(select(Attestation.match))]
        assert matches.count(False) == 1 and matches.count(True) >= 7

        # Operators recycled blocked numbers: the hub lifted the earlier blocks with its own unblocks,
        # which partners pulled and acked, and refused a late complaint about an earlier subscriber.
        from hub.records.lifecycle import NumberEvent

        events = db.session.scalars(select(NumberEvent)).all()
        reassigned = {e.number: e for e in events if e.event == "reassigned"}
        assert len(reassigned) == 3 and {e.event for e in events} == {"disconnected", "reassigned"}
        assert all(e.blocks_lifted >= 1 for e in reassigned.values())
        hub_unblocks = [r for r in records if r.issuer == app.config["HUB_ID"]]
        assert len(hub_unblocks) == sum(e.blocks_lifted for e in reassigned.values())
        assert {r.number for r in hub_unblocks} == set(reassigned)
        by_id = {r.id: r for r in records}
        assert all(by_id[r.supersedes].lifted_by == r.id for r in hub_unblocks)
        hub_ids = {r.id for r in hub_unblocks}
        assert any(a.record_id in hub_ids and a.outcome == "unblocked" for a in acted)
    import re

    stale = re.search(
        r"3 numbers reassigned \(([0-9]+) blocks? lifted by the hub, ([0-9]+) stale complaints? refused\)", made.output
    )
    assert stale is not None and int(stale.group(1)) >= 3 and int(stale.group(2)) >= 1, made.output

    for profile in PROFILES:
        env = (out / f"{profile.id}.env").read_text()
        assert f"TANGKAL_PARTNER={profile.id}\n" in env and "TANGKAL_CLIENT_SECRET=" in env
        for suffix in (".env", ".key"):
            assert stat.S_IMODE((out / f"{profile.id}{suffix}").stat().st_mode) == 0o600

    again = runner.invoke(args=["demo", "--out", str(out)])
    assert again.exit_code == 0 and "already exists" in again.output and "nothing done" in again.output

    # A demo partner, with the credentials the demo wrote, through the partner CLI.
    values = dict(line.split("=", 1) for line in (out / "telkomsel.env").read_text().splitlines())
    with serve(app) as url:
        from keys.keyfiles import read_private_key
        from tests.support import PartnerCreds

        creds = PartnerCreds(
            "telkomsel",
            "operator",
            values["TANGKAL_CLIENT_ID"],
            values["TANGKAL_CLIENT_SECRET"],
            values["TANGKAL_KID"],
            read_private_key(values["TANGKAL_KEY"]),
        )
        telkomsel = CliPartner(creds, url, Path(values["TANGKAL_KEY"]))
        pulled = telkomsel.run("pull", "--out", "tsel.jsonl", cwd=tmp_path)
        assert pulled.returncode == 0, pulled.stderr
        items = [json.loads(line) for line in (tmp_path / "tsel.jsonl").read_text().splitlines()]
        assert items and all(i["assignment"] is None or i["assignment"]["status"] != "pending" for i in items)
        verified = telkomsel.run("verify", "receipts", "tsel.jsonl", "--max", "5", cwd=tmp_path)
        assert verified.returncode == 0, verified.stderr


def test_demo_env_files_follow_the_serving_address_and_its_hints_work_as_printed(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make demo PORT=...``: every .env names the hub where it serves, and the printed commands run as they are."""
    import os
    import re
    import subprocess

    from tests.support import ROOT

    app.config["HUB_URL"] = None  # as `flask demo` runs: no HUB_URL, the address make run serves on
    app.cli.add_command(demo_command)
    with serve(app) as url:
        port = url.rsplit(":", 1)[1]
        monkeypatch.setenv("PORT", port)
        monkeypatch.setenv("HOST", "0.0.0.0")  # serving on every address: the loopback reaches it
        monkeypatch.chdir(ROOT)
        made = app.test_cli_runner().invoke(args=["demo", "--days", "3", "--out", str(tmp_path / "demo")])
        assert made.exit_code == 0, made.output
        for profile in PROFILES:
            assert f"TANGKAL_HUB_URL=http://127.0.0.1:{port}\n" in (tmp_path / "demo" / f"{profile.id}.env").read_text()
        hints = [line.strip() for line in made.output.splitlines() if line.startswith("  (set -a;")]
        assert len(hints) == 3, made.output  # pull, a report, and the recycled numbers' reassignment
        assert all(re.search(r"; (tangkal|\S*python\S* -m partners) ", h) for h in hints), hints
        assert not any(h.split("set +a; ")[1].startswith("python ") for h in hints)  # a bare python lacks the packages
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TANGKAL_", "PYTHONPATH"))}
        pulled = subprocess.run(
            ["bash", "-c", hints[0].replace("--out telkomsel.jsonl", f"--out {tmp_path / 'tsel.jsonl'}")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert pulled.returncode == 0, pulled.stderr
        assert "records pulled" in pulled.stderr
        shown = subprocess.run(["bash", "-c", hints[1]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
        assert "daily report" in shown.stdout and "verified" in shown.stdout
        asked = subprocess.run(["bash", "-c", hints[2]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert asked.returncode == 0, asked.stderr
        answers = [line.split() for line in asked.stdout.splitlines()[1:]]
        assert len(answers) == 3 and all(a[3] == "yes" for a in answers), asked.stdout
        assert "3 numbers: 3 yes, 0 no, 0 no_data, 0 not answered" in asked.stderr
