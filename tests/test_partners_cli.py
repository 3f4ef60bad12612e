"""``python -m partners`` as a subprocess: keys, exit codes, one-line errors, bad rows
by line number, idempotent re-runs, the cursor's crash repair, and a secret that
never appears in any output.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from keys.keyfiles import read_private_key
from tests.support import ROOT
from tests.test_partners_support import CliPartner, e164, local_numbers, run_cli, serve


@pytest.fixture
def hub(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANGKAL_")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(rows)


# -- keygen -------------------------------------------------------------------


def test_keygen_writes_a_0600_key_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    env = clean_env(TANGKAL_PARTNER="telkomsel")
    made = run_cli(["keygen", "--out", "telkomsel.key", "--kid", "telkomsel-2026-01"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    key = tmp_path / "telkomsel.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    jwk = json.loads((tmp_path / "telkomsel.pub.jwk").read_text())
    assert (jwk["kid"], jwk["alg"], jwk["crv"]) == ("telkomsel-2026-01", "Ed25519", "Ed25519") and "d" not in jwk
    assert (tmp_path / "telkomsel.pub.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "partner add-key telkomsel --kid telkomsel-2026-01" in made.stderr
    before = key.read_bytes()
    again = run_cli(["keygen", "--out", "telkomsel.key", "--kid", "telkomsel-2026-02"], env, tmp_path)
    assert again.returncode == 2
    assert "refusing to overwrite" in one_line_error(again.stderr)
    assert key.read_bytes() == before
    read_private_key(key)


# -- configuration and the hub's refusals --------------------------------------


def test_missing_configuration_is_exit_2_with_one_line(tmp_path: Path) -> None:
    res = run_cli(["token"], clean_env(), tmp_path)
    assert res.returncode == 2 and "no hub URL" in one_line_error(res.stderr)
    res = run_cli(
        ["push", "x.csv"],
        clean_env(TANGKAL_HUB_URL="http://127.0.0.1:9", TANGKAL_CLIENT_ID="c", TANGKAL_CLIENT_SECRET="s"),
        tmp_path,
    )
    assert res.returncode == 2 and "TANGKAL_KEY" in one_line_error(res.stderr)
    res = run_cli(["pull"], clean_env(), tmp_path)
    assert res.returncode == 2  # argparse: --out is required


def test_unreachable_hub_is_exit_3(tmp_path: Path) -> None:
    env = clean_env(TANGKAL_HUB_URL="http://127.0.0.1:9", TANGKAL_CLIENT_ID="c", TANGKAL_CLIENT_SECRET="s")
    res = run_cli(["token", "--retries", "2"], env, tmp_path)
    assert res.returncode == 3
    assert "cannot reach http://127.0.0.1:9" in one_line_error(res.stderr)


def test_refused_credentials_are_exit_3_and_the_secret_is_never_printed(hub: str, register, tmp_path: Path) -> None:
    op = CliPartner.of(register("telkomsel", "operator", ["Telkomsel"]), hub, tmp_path)
    secret = op.creds.client_secret
    bad = op.run("token", cwd=tmp_path, TANGKAL_CLIENT_SECRET="wrong-secret")
    assert bad.returncode == 3
    assert "authentication refused: invalid_client" in one_line_error(bad.stderr)
    outputs = [op.run("token", "--json", "-v", cwd=tmp_path), op.run("pull", "--out", "p.jsonl", "-v", cwd=tmp_path)]
    (tmp_path / "secret.txt").write_text(secret)
    outputs.append(op.run("token", "--client-secret-file", "secret.txt", cwd=tmp_path, TANGKAL_CLIENT_SECRET=""))
    for res in outputs:
        assert res.returncode == 0, res.stderr
        assert secret not in res.stdout and secret not in res.stderr
    assert json.loads(outputs[0].stdout)["whoami"]["partner"] == "telkomsel"
    forbidden = op.run("token", "--scope", "reports:read", cwd=tmp_path)
    assert forbidden.returncode == 3 and "invalid_scope" in forbidden.stderr

    pair = tmp_path / "telkomsel.json"  # what the hub's operators hand over: partner add --json
    pair.write_text(json.dumps({"client_id": op.creds.client_id, "client_secret": secret}))
    pair.chmod(0o644)
    loose = op.run("token", "--credentials", "telkomsel.json", cwd=tmp_path)
    assert loose.returncode == 2 and "chmod 600" in one_line_error(loose.stderr)
    pair.chmod(0o600)
    by_file = op.run(
        "token", cwd=tmp_path, TANGKAL_CREDENTIALS=str(pair), TANGKAL_CLIENT_ID="", TANGKAL_CLIENT_SECRET=""
    )
    assert by_file.returncode == 0, by_file.stderr


def test_private_key_jwt_from_the_cli(hub: str, register, tmp_path: Path) -> None:
    ott = CliPartner.of(register("whatsapp", "ott"), hub, tmp_path)
    res = ott.run("token", "--auth", "key", "--json", cwd=tmp_path, TANGKAL_CLIENT_SECRET="")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["whoami"]["partner"] == "whatsapp"


# -- push: bad rows by line, idempotent re-runs ----------------------------------


def test_push_reports_bad_rows_by_line_and_reruns_are_duplicates(hub: str, register, tmp_path: Path) -> None:
    ministry = CliPartner.of(register("kominfo", "ministry"), hub, tmp_path)
    good = local_numbers(6, seed=7)
    rows: list[list[object]] = [
        [good[0], "scam", "voice;sms", "Impersonates BRI", 17, "ADN-1"],
        [good[1], "Phishing", "sms", "Fake parcel links", 9, "ADN-2"],
        ["0812345", "scam", "voice", "Too short", 3, "ADN-3"],  # line 4
        [good[2], "lottery", "voice", "Unknown category", 4, "ADN-4"],  # line 5
        [good[3], "scam", "fax", "Unknown channel", 4, "ADN-5"],  # line 6
        [good[4], "scam", "voice", "", 4, "ADN-6"],  # line 7: no reason and no --reason
        [good[5], "spam", "voice", "Bulk SMS", -1, "ADN-7"],  # line 8: negative complaints
        [good[0], "scam", "voice;sms", "Impersonates BRI", 17, "ADN-1"],  # line 9 repeats line 2
    ]
    write_csv(tmp_path / "complaints.csv", ["number", "category", "channels", "reason", "complaints", "ref"], rows)
    first = ministry.run("push", "complaints.csv", cwd=tmp_path)
    assert first.returncode == 1
    for line in (4, 5, 6, 7, 8):
        assert f"line {line}: " in first.stderr
    assert "line 9: the same record as line 2" in first.stderr
    assert "8 records: 2 accepted, 1 duplicate, 5 rejected (bad-row 5)" in first.stderr
    journal = [json.loads(x) for x in (tmp_path / "complaints.csv.receipts.jsonl").read_text().splitlines()]
    assert [j["signed"]["record"]["number"] for j in journal] == [e164(good[0]), e164(good[1])]
    assert journal[1]["signed"]["record"]["category"] == "phishing"

    again = ministry.run("push", "complaints.csv", cwd=tmp_path)
    assert "8 records: 0 accepted, 3 duplicate, 5 rejected" in again.stderr
    (tmp_path / "complaints.csv.receipts.jsonl").unlink()  # the journal is lost: the hub is asked instead
    lost = ministry.run("push", "complaints.csv", cwd=tmp_path)
    assert "8 records: 0 accepted, 3 duplicate, 5 rejected" in lost.stderr, lost.stderr
    relisted = [json.loads(x) for x in (tmp_path / "complaints.csv.receipts.jsonl").read_text().splitlines()]
    assert [j["receipt"] for j in relisted] == [j["receipt"] for j in journal]


def test_push_jsonl_with_defaults_and_a_presigned_record(hub: str, register, tmp_path: Path) -> None:
    ministry = CliPartner.of(register("kominfo", "ministry"), hub, tmp_path)
    numbers = local_numbers(3, seed=8)
    presigned = ministry.creds.sign(
        "record",
        {
            "id": "0b8a3f3e-2c5d-4e7f-9a1b-3c5d7e9f1a2b",
            "issuer": "kominfo",
            "number": e164(numbers[2]),
            "action": "block",
            "category": "spam",
            "channels": ["sms"],
            "reason": "Bulk SMS",
            "evidence": {"complaints": 2},
            "observed_at": "2026-01-02T03:04:05Z",
            "issued_at": "2026-01-02T03:04:05Z",
            "expires_at": None,
            "supersedes": None,
        },
    )
    lines = [
        {"msisdn": numbers[0], "complaints": 5, "observed_at": "2026-01-01 08:00"},
        {"number": numbers[1], "category": "phishing", "evidence": {"complaints": 3, "ref": "ADN-9"}},
        presigned,
        {"number": numbers[1], "issuer": "someone-else"},
    ]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + "{not json\n")
    res = ministry.run("push", "in.jsonl", "--category", "scam", "--reason", "Verified complaints", cwd=tmp_path)
    assert res.returncode == 1
    assert "line 4: issuer 'someone-else' is not you" in res.stderr and "line 5: not JSON" in res.stderr
    assert "5 records: 3 accepted" in res.stderr
    journal = [json.loads(x) for x in (tmp_path / "in.jsonl.receipts.jsonl").read_text().splitlines()]
    first = journal[0]["signed"]["record"]
    assert first["observed_at"] == "2026-01-01T01:00:00Z"  # Jakarta time, written in UTC
    assert (first["category"], first["reason"]) == ("scam", "Verified complaints")
    assert first["channels"] == ["voice", "sms", "messaging"]
    assert journal[1]["signed"]["record"]["evidence"] == {"complaints": 3, "ref": "ADN-9"}
    assert journal[2]["signed"] == presigned


# -- ack and attest ---------------------------------------------------------------


def test_ack_rows_by_line_and_attest_refuses_bad_numbers(hub: str, register, tmp_path: Path) -> None:
    ministry = CliPartner.of(register("kominfo", "ministry"), hub, tmp_path)
    op = CliPartner.of(register("telkomsel", "operator", ["Telkomsel"]), hub, tmp_path)
    numbers = local_numbers(3, seed=9, carriers=("Telkomsel",))
    write_csv(tmp_path / "c.csv", ["number", "category", "reason"], [[n, "scam", "r"] for n in numbers])
    assert ministry.run("push", "c.csv", cwd=tmp_path).returncode == 0
    assert op.run("pull", "--out", "mine.csv", cwd=tmp_path).returncode == 0
    with open(tmp_path / "mine.csv", newline="") as handle:
        pulled = list(csv.DictReader(handle))
    assert [r["number"] for r in pulled] == [e164(n) for n in numbers] and pulled[0]["assignment_status"] == "delivered"
    ids = [r["id"] for r in pulled]
    write_csv(
        tmp_path / "acks.csv",
        ["record_id", "outcome", "reason"],
        [
            [ids[0], "blocked", ""],
            [ids[1], "rejected", ""],  # line 3: a rejection needs a reason
            [ids[1], "unblocked", ""],  # line 4: not an outcome for a block (the hub says invalid-transition)
            ["8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10", "blocked", ""],  # line 5: not assigned to us
            [ids[2], "not_applicable", "Number already deactivated"],
        ],
    )
    res = op.run("ack", "acks.csv", cwd=tmp_path)
    assert res.returncode == 1
    assert "line 3: an outcome of rejected needs a reason" in res.stderr
    assert "line 4: rejected: invalid-transition" in res.stderr
    assert "line 5: rejected: not-assigned" in res.stderr
    assert "5 acks: 2 accepted, 0 duplicate, 3 rejected (bad-row 1, invalid-transition 1, not-assigned 1)" in res.stderr
    again = op.run("ack", "acks.csv", cwd=tmp_path)
    assert "5 acks: 0 accepted, 2 duplicate, 3 rejected" in again.stderr

    (tmp_path / "blocked.txt").write_text(numbers[0] + "\nnot-a-number\n")
    bad = op.run("attest", "blocked.txt", cwd=tmp_path)
    assert bad.returncode == 2 and "line 2:" in bad.stderr and "nothing attested" in bad.stderr
    (tmp_path / "blocked.txt").write_text(f"number\n{numbers[0]}\n{e164(numbers[0])}\n")
    ok = op.run("attest", "blocked.txt", cwd=tmp_path)
    assert ok.returncode == 0 and "match (1 numbers" in ok.stderr
    (tmp_path / "more.txt").write_text(f"{numbers[0]}\n{numbers[2]}\n")  # acked not_applicable: not blocked
    mismatch = op.run("attest", "more.txt", "--json", cwd=tmp_path)
    assert mismatch.returncode == 1 and "MISMATCH: you attest 2 numbers, the hub expects 1" in mismatch.stderr
    assert json.loads(mismatch.stdout)["match"] is False

    journal = (tmp_path / "acks.csv.receipts.jsonl").read_text().splitlines()
    assert op.run("verify", "receipts", "acks.csv.receipts.jsonl", cwd=tmp_path).returncode == 0
    tampered = json.loads(journal[0])
    tampered["signed"]["ack"]["outcome"] = "not_applicable"
    (tmp_path / "tampered.jsonl").write_text(json.dumps(tampered) + "\n")
    refused = op.run("verify", "receipts", "tampered.jsonl", cwd=tmp_path)
    assert refused.returncode == 4 and "did NOT verify" in refused.stderr and "content differs" in refused.stderr


# -- pull: the cursor ------------------------------------------------------------


def test_a_crash_between_output_and_cursor_is_repaired_on_resume(hub: str, register, tmp_path: Path) -> None:
    ministry = CliPartner.of(register("kominfo", "ministry"), hub, tmp_path)
    ott = CliPartner.of(register("whatsapp", "ott"), hub, tmp_path)
    numbers = local_numbers(12, seed=10)
    write_csv(tmp_path / "c.csv", ["number", "category", "reason"], [[n, "spam", "r"] for n in numbers])
    assert ministry.run("push", "c.csv", cwd=tmp_path).returncode == 0
    assert ott.run("pull", "--out", "p.jsonl", "--limit", "5", cwd=tmp_path).returncode == 0
    out = tmp_path / "p.jsonl"
    lines = out.read_bytes().splitlines(keepends=True)
    assert len(lines) == 12
    # The state a SIGKILL leaves after page 2 was written but before its cursor was saved:
    # the cursor still at page 1, the file holding page 2 and half a line of page 3.
    seq5 = json.loads(lines[4])["seq"]
    cursor = json.loads((tmp_path / "p.jsonl.cursor").read_text())
    cursor.update(after=seq5, offset=sum(len(x) for x in lines[:5]))
    (tmp_path / "p.jsonl.cursor").write_text(json.dumps(cursor))
    out.write_bytes(b"".join(lines[:10]) + lines[10][:40])
    resumed = ott.run("pull", "--out", "p.jsonl", "--limit", "5", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes().splitlines(keepends=True) == lines

    other = CliPartner.of(register("telegram", "ott"), hub, tmp_path)
    refused = other.run("pull", "--out", "p.jsonl", cwd=tmp_path)
    assert refused.returncode == 2 and "belongs to partner 'whatsapp'" in one_line_error(refused.stderr)
