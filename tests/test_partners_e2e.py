"""``python -m partners`` end to end, as subprocesses against a real gunicorn hub.

The ministry pushes a complaint export of 10,000 numbers in local form with
a few bad rows (reported by line, the rest accepted) and pulls the log of
records to its archive: the puller is killed with SIGKILL halfway, resumes,
and must end with every accepted record exactly once. An OTT provider acks
some from CSV and attests what it blocks; receipts' inclusion and the log's
consistency between two saved tree heads are verified. (OTT and operator
pulls, with their deliveries, are in tests/test_partners_cli.py: at 10,000
records their cost is the hub's, not the CLI's.)
"""

from __future__ import annotations

import csv
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import LiveHub
from tests.test_partners_support import CliPartner, e164, local_numbers

pytestmark = pytest.mark.slow

ROWS = 10_000
BAD_ROWS = {  # line number in the file -> what is wrong
    103: ("0812345", "scam", "3"),  # too short
    2_500: ("08123456789012345", "scam", "1"),  # too long
    5_001: ("0812-3456-7890", "lottery", "2"),  # unknown category
    7_777: ("not a number", "phishing", "4"),
    9_990: ("0856-1234-5678", "spam", "many"),  # complaints not a number
}


@pytest.fixture
def live_hub(hub_env: dict[str, str], app) -> Iterator[LiveHub]:  # app: the session database, emptied after
    hub = LiveHub(
        {**hub_env, "HUB_URL": "http://hub.test", "RATELIMIT_DEFAULT": "100000 per minute"}, workers=2, threads=4
    )
    yield hub
    hub.stop()


def write_complaints(path: Path, numbers: list[str]) -> dict[int, str]:
    """A ministry export: header, 10,000 good rows and the bad ones at their lines; returns line -> E.164."""
    good = iter(numbers)
    lines: dict[int, str] = {}
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["number", "category", "channels", "reason", "complaints", "ref", "reporter_phone"])
        line = 1
        while len(lines) < len(numbers) or line + 1 in BAD_ROWS:
            line += 1
            if line in BAD_ROWS:
                number, category, complaints = BAD_ROWS[line]
                out.writerow([number, category, "voice;sms", "bad row", complaints, f"ADN-BAD-{line}", "0811000000"])
                continue
            local = next(good)
            lines[line] = e164(local)
            category = ("scam", "phishing", "impersonation", "account_takeover", "spam")[line % 5]
            out.writerow(
                [
                    local,
                    category,
                    "voice;sms;messaging",
                    "Verified complaints to aduannomor.id",
                    line % 40 + 1,
                    f"ADN-2026-{line:06d}",
                    "08111111111",
                ]
            )
    return lines


def jsonl_ids(path: Path) -> list[str]:
    return [json.loads(line)["record"]["id"] for line in path.read_text().splitlines()]


def test_push_pull_killed_and_resumed_ack_attest_verify(live_hub: LiveHub, register, tmp_path: Path) -> None:
    ministry = CliPartner.of(register("kominfo", "ministry"), live_hub.url, tmp_path)
    whatsapp = CliPartner.of(register("whatsapp", "ott"), live_hub.url, tmp_path)

    # -- push: 10,000 good rows accepted, the bad ones reported by line -------
    complaints = tmp_path / "complaints.csv"
    by_line = write_complaints(complaints, local_numbers(ROWS, seed=2026))
    started = time.monotonic()
    pushed = ministry.run("push", "complaints.csv", cwd=tmp_path)
    push_seconds = time.monotonic() - started
    assert pushed.returncode == 1, pushed.stderr  # some rows were skipped
    for line in BAD_ROWS:
        assert f"line {line}: " in pushed.stderr
    assert "ignoring columns reporter_phone" in pushed.stderr
    bad = len(BAD_ROWS)
    assert f"{ROWS + bad:,} records: {ROWS:,} accepted, 0 duplicate, {bad} rejected (bad-row {bad})" in pushed.stderr
    journal = [json.loads(line) for line in (tmp_path / "complaints.csv.receipts.jsonl").read_text().splitlines()]
    accepted = {j["id"]: j for j in journal if j["status"] == "accepted"}
    assert len(accepted) == ROWS
    assert {j["line"]: j["signed"]["record"]["number"] for j in journal} == by_line
    print(f"\nCLI push of {ROWS:,} rows: {push_seconds:.1f} s, {ROWS / push_seconds:,.0f} records/s")

    # -- the first tree head, saved before anything else is logged -------------
    assert whatsapp.run("verify", "head", "--out", "head1.json", cwd=tmp_path).returncode == 0

    # -- pull, SIGKILLed halfway, resumed: every accepted record exactly once --
    puller = ministry.start("pull", "--out", "pulled.jsonl", "--limit", "100", cwd=tmp_path)
    output = tmp_path / "pulled.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if output.exists() and output.stat().st_size > 0 and output.read_bytes().count(b"\n") >= ROWS // 3:
            break
        if puller.poll() is not None:
            break
        time.sleep(0.01)
    puller.send_signal(signal.SIGKILL)
    puller.wait(10)
    assert puller.returncode == -signal.SIGKILL, "the puller finished before it could be killed halfway"
    lines_at_kill = output.read_bytes().count(b"\n")
    assert 0 < lines_at_kill < ROWS
    started = time.monotonic()
    resumed = ministry.run("pull", "--out", "pulled.jsonl", cwd=tmp_path)  # another page size: the cursor is by seq
    pull_seconds = time.monotonic() - started
    assert resumed.returncode == 0, resumed.stderr
    ids = jsonl_ids(output)
    assert len(ids) == len(set(ids)), "a record was written twice"
    assert set(ids) == set(accepted), "a record was lost"
    cursor = json.loads((tmp_path / "pulled.jsonl.cursor").read_text())
    assert cursor["after"] == max(j["receipt"]["receipt"]["seq"] for j in accepted.values())
    print(
        f"pull killed after {lines_at_kill:,} lines; the resumed pull wrote {ROWS - lines_at_kill:,} more "
        f"in {pull_seconds:.1f} s"
    )
    again = ministry.run("pull", "--out", "pulled.jsonl", cwd=tmp_path)
    assert again.returncode == 0 and "0 records pulled" in again.stderr
    assert len(jsonl_ids(output)) == ROWS

    # -- ack from CSV (record_id,outcome,reason) ------------------------------
    chosen = ids[:300]
    with open(tmp_path / "acks.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["record_id", "outcome", "reason"])
        for i, record_id in enumerate(chosen):
            if i % 30 == 29:
                out.writerow([record_id, "not_applicable", "Number already deactivated by the operator"])
            else:
                out.writerow([record_id, "blocked", ""])
    acked = whatsapp.run("ack", "acks.csv", cwd=tmp_path)
    assert acked.returncode == 0, acked.stderr
    assert "300 acks: 300 accepted, 0 duplicate, 0 rejected" in acked.stderr

    # -- attest: the numbers it blocked, in local form, unsorted, one repeated -
    blocked = [accepted[rid]["signed"]["record"]["number"] for i, rid in enumerate(chosen) if i % 30 != 29]
    local = ["0" + n[3:] for n in reversed(blocked)] + ["0" + blocked[0][3:]]
    (tmp_path / "blocked.txt").write_text("# what our platform blocks now\n" + "\n".join(local) + "\n")
    attested = whatsapp.run("attest", "blocked.txt", "--json", cwd=tmp_path)
    assert attested.returncode == 0, attested.stderr
    assert json.loads(attested.stdout)["match"] is True
    assert f"match ({len(blocked)} numbers" in attested.stderr

    # -- verify: receipts' inclusion, consistency between two saved heads -----
    assert whatsapp.run("verify", "head", "--out", "head2.json", cwd=tmp_path).returncode == 0
    consistent = whatsapp.run("verify", "consistency", "head1.json", "head2.json", cwd=tmp_path)
    assert consistent.returncode == 0, consistent.stderr
    assert f"the log at size {ROWS + 300:,}" in consistent.stderr and f"the log at size {ROWS:,}" in consistent.stderr
    included = ministry.run("verify", "receipts", "complaints.csv.receipts.jsonl", "--max", "25", cwd=tmp_path)
    assert included.returncode == 0, included.stderr
    assert "25 receipts verified" in included.stderr
    acks_included = whatsapp.run("verify", "receipts", "acks.csv.receipts.jsonl", "--max", "5", cwd=tmp_path)
    assert acks_included.returncode == 0, acks_included.stderr
