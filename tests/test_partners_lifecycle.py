"""Number lifecycle in the partner SDK and CLI (PROTOCOL.md section 10, issue 13).

Reading an operator's export (any delimiter, Indonesian headers and words,
local numbers, dates as Jakarta midnight, bad rows by line), the events as
signed, and then, against a real hub: ``HubClient.number_events`` and the
``events push`` command (receipts verified, re-runs duplicate, dry runs
store nothing, a block lifted by the hub's own unblock that a pull
verifies), and the reassignment questions single, in batch and from
``tangkal reassigned``.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from keys.jcs import canonicalize
from keys.signing import verify_object
from keys.timefmt import format_ts
from partners import Forbidden, HubClient, RetryPolicy
from partners.builders import ack_body, derived_id, number_event_body, record_body
from partners.fields import BadField, event, since_value
from partners.inputs import read_number_events, read_questions
from partners.numbers import BadNumber
from tests.support import PartnerCreds
from tests.test_partners_support import CliPartner, e164, local_numbers, serve


def _events(text: str, folder: Path, name: str = "export.csv") -> list[Any]:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return list(read_number_events(str(path), "jsonl" if name.endswith(".jsonl") else "csv", "telkomsel", print))


def _questions(text: str, folder: Path, since: str | None = "2026-10-01") -> list[Any]:
    path = folder / "numbers.txt"
    path.write_text(text, encoding="utf-8")
    return list(read_questions(str(path), since, print))


# -- reading exports (no hub) ---------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_an_export_with_indonesian_headers_and_words_becomes_events(sep: str, tmp_path: Path) -> None:
    text = sep.join(["Nomor", "Peristiwa", "Berlaku Sejak"]) + "\n"
    text += sep.join(["0812-3456-7890", "didaur ulang", "2026-12-01"]) + "\n"
    text += sep.join(["0813 1111 2222", "Putus", "2026-11-03T10:15:00Z"]) + "\n"
    first, second = _events(text, tmp_path)
    assert first.error is None and second.error is None, (first.error, second.error)
    assert first.value == {
        "id": first.value["id"],
        "operator": "telkomsel",
        "number": "+6281234567890",
        "event": "reassigned",
        "effective_at": "2026-11-30T17:00:00Z",  # 00:00 in Jakarta on 1 December
    }
    assert (second.value["number"], second.value["event"], second.value["effective_at"]) == (
        "+6281311112222",
        "disconnected",
        "2026-11-03T10:15:00Z",
    )
    assert first.raw is not None and first.raw["Nomor"] == "0812-3456-7890"


def test_other_indonesian_column_names_are_understood(tmp_path: Path) -> None:
    (row,) = _events("msisdn;kejadian;tanggal\n6281234567890;nonaktif;2026-11-02 08:30\n", tmp_path)
    assert row.value["event"] == "disconnected"
    assert row.value["effective_at"] == "2026-11-02T01:30:00Z"  # a time without zone is Jakarta time


def test_bad_rows_are_reported_by_line_and_the_rest_go_through(tmp_path: Path) -> None:
    text = (
        "number,event,effective_at\n"
        "0812-3456-7890,reassigned,2026-12-01\n"
        "0812-34,reassigned,2026-12-01\n"  # too short
        "0813 1111 2222,ported,2026-12-01\n"  # no such event
        "0813 1111 3333,disconnected,1 Desember\n"  # no date
        "0813 1111 4444,disconnected,\n"  # no date at all
        "0813 1111 5555,,2026-12-01\n"
        '"0813 1111 6666",reassigned,2026-12-01,extra\n'
        "0813 1111 7777,reassigned,2026-02-30\n"  # no such day
    )
    rows = _events(text, tmp_path)
    assert [r.line for r in rows] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert rows[0].error is None
    errors = [r.error for r in rows[1:]]
    assert all(errors), errors
    assert "too few digits" in errors[0]
    assert "'ported' is not one of disconnected, reassigned" in errors[1]
    assert "effective_at '1 Desember'" in errors[2]
    assert "no effective_at" in errors[3]
    assert "no event" in errors[4]
    assert "4 cells but the header has 3 columns" in errors[5]
    assert "2026-02-30" in errors[6]


def test_an_export_without_a_number_column_stops_before_anything_is_sent(tmp_path: Path) -> None:
    from partners.errors import InputError

    with pytest.raises(InputError, match="no number column.*semicolons"):
        _events("telepon;peristiwa;tanggal\n0812;putus;2026-12-01\n", tmp_path)


def test_an_event_of_another_operator_is_a_bad_row(tmp_path: Path) -> None:
    (row,) = _events("operator,number,event,effective_at\nindosat,0856 1234 5678,putus,2026-12-01\n", tmp_path)
    assert row.error is not None and "operator 'indosat' is not you ('telkomsel')" in row.error


def test_jsonl_lines_and_signed_events_are_read(tmp_path: Path) -> None:
    signed = {"number_event": {"id": "x"}, "signature": {"alg": "Ed25519"}}
    text = (
        json.dumps({"nomor": "0812-3456-7890", "peristiwa": "reassigned", "berlaku_sejak": "2026-12-01"})
        + "\n"
        + json.dumps(signed)
        + "\nnot json\n"
    )
    plain, passed, bad = _events(text, tmp_path, "export.jsonl")
    assert plain.value["number"] == "+6281234567890" and plain.value["event"] == "reassigned"
    assert passed.value == signed
    assert bad.error is not None and "not JSON" in bad.error


def test_event_ids_are_derived_from_the_whole_event() -> None:
    """The same export line gives the same id (and, signed, the same bytes); any other fact another id."""
    a = number_event_body("telkomsel", "+6281234567890", "reassigned", "2026-11-30T17:00:00Z")
    b = number_event_body("telkomsel", "+6281234567890", "reassigned", "2026-11-30T17:00:00Z")
    c = number_event_body("telkomsel", "+6281234567890", "disconnected", "2026-11-30T17:00:00Z")
    assert a == b and a["id"] != c["id"]
    facts = {k: v for k, v in a.items() if k != "id"}
    assert a["id"] == derived_id("number_event", "telkomsel", facts)
    assert set(a) == {"id", "operator", "number", "event", "effective_at"}
    with pytest.raises(ValueError, match="not one of"):
        number_event_body("telkomsel", "+6281234567890", "ported", "2026-11-30T17:00:00Z")


def test_the_signature_covers_the_jcs_bytes_of_the_event_alone() -> None:
    from keys.keyfiles import generate_private_key
    from partners.builders import sign

    key = generate_private_key()
    body = number_event_body("telkomsel", "+6281234567890", "reassigned", "2026-11-30T17:00:00Z")
    envelope = sign("number_event", body, key, "telkomsel-1")
    assert set(envelope) == {"number_event", "signature"}
    assert envelope["signature"]["alg"] == "Ed25519" and envelope["signature"]["kid"] == "telkomsel-1"
    assert verify_object(envelope, "number_event", key.public_key()) == canonicalize(body)
    assert sign("number_event", body, key, "telkomsel-1") == envelope  # Ed25519 is deterministic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("putus", "disconnected"),
        ("Diputus", "disconnected"),
        ("NONAKTIF", "disconnected"),
        ("didaur-ulang", "reassigned"),
        ("Pelanggan Baru", "reassigned"),
        ("reassigned", "reassigned"),
    ],
)
def test_event_words(text: str, expected: str) -> None:
    assert event(text) == expected


def test_since_keeps_a_date_a_date_and_makes_a_time_the_protocols() -> None:
    assert since_value("2026-10-01") == "2026-10-01"
    assert since_value("2026-10-01T07:00:00+07:00") == "2026-10-01T00:00:00Z"
    assert since_value(" 2026-10-01 08:00 ") == "2026-10-01T01:00:00Z"
    for bad in ("2026-13-01", "kemarin", ""):
        with pytest.raises(BadField):
            since_value(bad)


# -- reading question files (no hub) --------------------------------------------


def test_questions_one_number_per_line(tmp_path: Path) -> None:
    rows = _questions("nomor\n0812-3456-7890  # Budi\n\n+62 813 1111 2222\n0812-34\n", tmp_path)
    assert [(r.line, r.value) for r in rows[:2]] == [
        (2, ("+6281234567890", "2026-10-01")),
        (4, ("+6281311112222", "2026-10-01")),
    ]
    assert rows[2].line == 5 and rows[2].error is not None and "too few digits" in rows[2].error


def test_questions_as_csv_with_a_header_each_with_its_own_since(tmp_path: Path) -> None:
    rows = _questions("Nomor;Sejak\n0812-3456-7890;2026-06-01\n0813 1111 2222;\n", tmp_path)
    assert [r.value for r in rows] == [("+6281234567890", "2026-06-01"), ("+6281311112222", "2026-10-01")]


def test_questions_as_csv_without_a_header(tmp_path: Path) -> None:
    rows = _questions("0812-3456-7890,2026-06-01T00:00:00Z\n0813 1111 2222\n0813 1111 3333,2026-06-01,x\n", tmp_path)
    assert rows[0].value == ("+6281234567890", "2026-06-01T00:00:00Z")
    assert rows[1].value == ("+6281311112222", "2026-10-01")
    assert rows[2].error is not None and "number[,since]" in rows[2].error


def test_a_question_without_any_since_is_a_bad_row(tmp_path: Path) -> None:
    (row,) = _questions("number,since\n0812-3456-7890,\n", tmp_path, since=None)
    assert row.error is not None and "no since" in row.error


# -- against a hub: the SDK ------------------------------------------------------


NUMBER = "+6281234567890"
LOCAL = "0812-3456-7890"


@pytest.fixture
def hub(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


def client_for(url: str, creds: PartnerCreds) -> HubClient:
    return HubClient(
        url,
        creds.client_id,
        client_secret=creds.client_secret,
        private_key=creds.private_key,
        kid=creds.kid,
        partner=creds.id,
        retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.05, max_total_wait=5),
    )


def ago(**delta: float) -> str:
    return format_ts(datetime.now(UTC) - timedelta(**delta))


def block(client: HubClient, number: str = NUMBER, observed: str | None = None, issued: str | None = None) -> dict:
    body = record_body(
        client.partner,
        number,
        category="scam",
        channels=["voice", "messaging"],
        reason="Poses as bank customer service",
        complaints=5,
        observed_at=observed or ago(days=3),
        issued_at=issued or ago(minutes=1),
    )
    return client.sign("record", body)


def test_an_operator_reassigns_a_number_the_block_is_lifted_and_every_answer_verifies(app, hub, register) -> None:
    ministry = client_for(hub, register("kominfo", "ministry"))
    operator = client_for(hub, register("telkomsel", "operator", ["Telkomsel"]))
    ott = client_for(hub, register("whatsapp", "ott"))
    (blocked,) = ministry.push_records([block(ministry)])
    assert blocked.status == "accepted"

    reassigned_at = ago(seconds=1)
    results = operator.number_events(
        [
            {"number": LOCAL, "event": "disconnected", "effective_at": "2026-09-01"},
            {"number": LOCAL, "event": "reassigned", "effective_at": reassigned_at},
        ]
    )
    assert [r.status for r in results] == ["accepted", "accepted"]
    disconnected, reassigned = (r.signed["number_event"] for r in results)
    assert disconnected["effective_at"] == "2026-08-31T17:00:00Z"  # 00:00 in Jakarta
    assert reassigned == {
        "id": reassigned["id"],
        "operator": "telkomsel",
        "number": NUMBER,
        "event": "reassigned",
        "effective_at": reassigned_at,
    }
    for r in results:  # each receipt was verified by the SDK; it names the event
        assert r.receipt_body is not None and r.receipt_body["kind"] == "number_event"
        assert r.receipt_body["object_id"] == r.id
    head = operator.verify_inclusion(results[1].signed, results[1].receipt or {})
    assert head["size"] >= 3

    again = operator.number_events([{"number": NUMBER, "event": "reassigned", "effective_at": reassigned_at}])
    assert again[0].status == "duplicate" and again[0].receipt == results[1].receipt

    # The OTT pulls the hub's own unblock (issuer the hub, signed with its key) and verifies it.
    items = ott.pull(0, 100).items
    hub_id = app.config["HUB_ID"]
    (unblock,) = [i for i in items if i["record"]["action"] == "unblock"]
    assert unblock["record"]["issuer"] == hub_id and unblock["record"]["supersedes"] == blocked.id
    assert unblock["record"]["reason"] == f"number reassigned (event {reassigned['id']})"
    (acked,) = ott.push_acks([ott.sign("ack", ack_body("whatsapp", unblock["record"]["id"], "unblocked"))])
    assert acked.status == "accepted"
    view = ott.number(LOCAL)
    assert view["blocked"] is False and view["reassigned_at"] == reassigned_at
    assert not ott.is_blocked(LOCAL)

    # The Reassigned Numbers Database's three answers, single and in batch.
    yes = ott.reassigned(LOCAL, "2026-10-01")
    assert (yes.answer, yes.reassigned_at, yes.number, yes.reassigned) == ("yes", reassigned_at, NUMBER, True)
    assert ott.reassigned(NUMBER, datetime.now(UTC) + timedelta(minutes=1)).answer == "no"
    assert ott.reassigned("0813-1111-2222", "2026-10-01").answer == "no"
    assert ott.reassigned(NUMBER, date(2026, 1, 1)).answer == "no_data"  # before the hub's records begin
    answers = ott.reassigned_batch(
        [LOCAL, ("0813 1111 2222", "2026-10-01"), {"number": NUMBER, "since": "2025-01-01"}, "0812-34"],
        since="2026-10-01",
    )
    assert [a.answer for a in answers] == ["yes", "no", "no_data", None]
    assert answers[0].since == "2026-09-30T17:00:00Z"
    assert answers[3].error is not None and answers[3].error.slug == "invalid-number"
    twice = ott.reassigned_batch([LOCAL, NUMBER, (NUMBER, "2026-10-01")], since="2026-10-01")  # asked once
    assert [a.answer for a in twice] == ["yes"] * 3
    with pytest.raises(BadNumber):
        ott.reassigned("0812-34", "2026-10-01")

    # A complaint about the earlier subscriber is refused; one about the new subscriber is taken.
    observed = ago(days=1)
    (stale,) = ministry.push_records([block(ministry, observed=observed, issued=ago(seconds=0))])
    assert stale.status == "rejected" and stale.error is not None and stale.error.slug == "number-reassigned"
    fresh_at = format_ts(datetime.now(UTC))
    (fresh,) = ministry.push_records([block(ministry, observed=fresh_at, issued=fresh_at)])
    assert fresh.status == "accepted"


def test_more_than_a_thousand_events_and_questions_go_in_batches_answered_in_order(hub, register) -> None:
    operator = client_for(hub, register("telkomsel", "operator", ["Telkomsel"]))
    ott = client_for(hub, register("whatsapp", "ott"))
    numbers = [e164(n) for n in local_numbers(1500, seed=3, carriers=("Telkomsel",))]
    sent: list[int] = []
    push = operator.push_number_events
    operator.push_number_events = lambda signed, dry_run=False: sent.append(len(signed)) or push(signed, dry_run)  # type: ignore[method-assign]
    events = [{"number": n, "event": "reassigned", "effective_at": "2026-11-01"} for n in numbers[:1200]]
    results = operator.number_events(events)
    assert sent == [1000, 200] and [r.status for r in results] == ["accepted"] * 1200
    assert [r.signed["number_event"]["number"] for r in results] == numbers[:1200]

    dry = operator.number_events(
        [{"number": numbers[1300], "event": "reassigned", "effective_at": "2026-11-02"}], dry_run=True
    )
    assert dry[0].status == "valid" and dry[0].receipt is None

    answers = ott.reassigned_batch(numbers, since="2026-11-01")  # when the hub's records begin
    assert [a.number for a in answers] == numbers
    assert [a.answer for a in answers] == ["yes"] * 1200 + ["no"] * 300  # the dry run stored nothing
    assert {a.reassigned_at for a in answers[:1200]} == {"2026-10-31T17:00:00Z"}


def test_who_may_report_a_numbers_lifecycle(hub, register) -> None:
    operator = client_for(hub, register("telkomsel", "operator", ["Telkomsel"]))
    register("indosat", "operator", ["Indosat Ooredoo Hutchison"])
    ott = client_for(hub, register("whatsapp", "ott"))
    with pytest.raises(Forbidden):
        ott.number_events([{"number": LOCAL, "event": "disconnected", "effective_at": "2026-11-01"}])
    (other,) = operator.number_events(
        [{"number": "0856 1234 5678", "event": "reassigned", "effective_at": "2026-11-01"}]
    )
    assert other.status == "rejected" and other.error is not None and other.error.slug == "not-home-operator"
    ahead = format_ts(datetime.now(UTC) + timedelta(hours=1))
    (future,) = operator.number_events([{"number": LOCAL, "event": "reassigned", "effective_at": ahead}])
    assert future.status == "rejected" and future.error is not None and future.error.slug == "invalid-record"
    with pytest.raises(ValueError, match="operator 'indosat' is not"):
        operator.number_events(
            [{"operator": "indosat", "number": LOCAL, "event": "reassigned", "effective_at": "2026-11-01"}]
        )
    with pytest.raises(BadNumber):
        operator.number_events([{"number": "0812-34", "event": "reassigned", "effective_at": "2026-11-01"}])


# -- against a hub: the CLI ------------------------------------------------------


def test_events_push_from_an_operators_export_then_again_then_a_dry_run(app, hub, register, tmp_path: Path) -> None:
    ministry = client_for(hub, register("kominfo", "ministry"))
    telkomsel = CliPartner.of(register("telkomsel", "operator", ["Telkomsel"]), hub, tmp_path)
    (blocked,) = ministry.push_records([block(ministry)])
    reassigned_at = ago(seconds=1)
    (tmp_path / "export.csv").write_text(
        "Nomor;Peristiwa;Berlaku Sejak;Keterangan\n"
        "0812-3456-7890;putus;2026-09-01;kontrak habis\n"
        f"0812-3456-7890;didaur ulang;{reassigned_at};pelanggan baru\n"
        "0812-34;putus;2026-09-01;salah ketik\n"
        "0856 1234 5678;putus;2026-09-01;\n",
        encoding="utf-8",
    )
    first = telkomsel.run("events", "push", "export.csv", "--rejects", "rejects.csv", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert "ignoring columns Keterangan (never sent to the hub)" in first.stderr
    assert "line 4: number: '0812-34' has too few digits" in first.stderr and "(skipped)" in first.stderr
    assert "line 5: rejected: not-home-operator:" in first.stderr
    assert "4 number events: 2 accepted, 0 duplicate, 2 rejected (bad-row 1, not-home-operator 1)" in first.stderr
    journal = [json.loads(line) for line in (tmp_path / "export.csv.receipts.jsonl").read_text().splitlines()]
    accepted = [j for j in journal if j["status"] == "accepted"]
    assert [j["line"] for j in accepted] == [2, 3]
    assert all(j["receipt"]["receipt"]["kind"] == "number_event" for j in accepted)
    with open(tmp_path / "rejects.csv", newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["line"], r["problem"], r["Nomor"]) for r in rejects] == [
        ("4", "bad-row", "0812-34"),
        ("5", "not-home-operator", "0856 1234 5678"),
    ]
    view = ministry.number(NUMBER)
    assert view["blocked"] is False and view["reassigned_at"] == reassigned_at
    assert [i["record"]["supersedes"] for i in view["records"] if i["record"]["action"] == "unblock"] == [blocked.id]

    again = telkomsel.run("events", "push", "export.csv", cwd=tmp_path)
    assert "4 number events: 0 accepted, 2 duplicate, 2 rejected" in again.stderr, again.stderr
    verified = telkomsel.run("verify", "receipts", "export.csv.receipts.jsonl", cwd=tmp_path)
    assert verified.returncode == 0 and "2 receipts verified" in verified.stderr, verified.stderr

    (tmp_path / "next.csv").write_text("number,event,effective_at\n0813 1111 2222,reassigned,2026-11-02\n")
    dry = telkomsel.run("events", "push", "next.csv", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "1 number event: 1 valid, 0 duplicate, 0 rejected; dry run" in dry.stderr
    assert not (tmp_path / "next.csv.receipts.jsonl").exists()


def test_reassigned_answers_a_file_of_numbers_as_a_table_csv_json_and_from_stdin(hub, register, tmp_path) -> None:
    operator = client_for(hub, register("telkomsel", "operator", ["Telkomsel"]))
    ott = CliPartner.of(register("whatsapp", "ott"), hub, tmp_path)
    operator.number_events(
        [
            {"number": LOCAL, "event": "disconnected", "effective_at": "2026-09-01"},
            {"number": LOCAL, "event": "reassigned", "effective_at": "2026-11-15T03:00:00Z"},
        ]
    )
    (tmp_path / "numbers.txt").write_text("nomor\n0812-3456-7890\n0813 1111 2222  # Budi\n0812-34\n")
    table = ott.run("reassigned", "numbers.txt", "--since", "2026-10-01", cwd=tmp_path)
    assert table.returncode == 1, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["line", "number", "since", "answer", "reassigned", "at", "problem"]
    assert lines[1].split()[:6] == ["2", NUMBER, "2026-09-30T17:00:00Z", "yes", "2026-11-15T03:00:00Z", "(2026-11-15"]
    assert lines[2].split()[:4] == ["3", "+6281311112222", "2026-09-30T17:00:00Z", "no"]
    assert lines[3].split()[:3] == ["4", "-", "bad-row:"]
    assert "line 4: '0812-34' has too few digits" in table.stderr
    assert "3 numbers: 1 yes, 1 no, 0 no_data, 1 not answered (bad-row 1)" in table.stderr

    as_json = ott.run("reassigned", "numbers.txt", "--since", "2025-01-01", "--json", cwd=tmp_path)
    answers = json.loads(as_json.stdout)
    assert [(a["line"], a["answer"]) for a in answers] == [(2, "no_data"), (3, "no_data"), (4, None)]
    assert answers[2]["problem"].startswith("bad-row: ")

    (tmp_path / "questions.csv").write_text("number;since\n0812-3456-7890;2026-12-01\n0812-3456-7890;2026-11-01\n")
    as_csv = ott.run("reassigned", "questions.csv", "--format", "csv", cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["line"], r["answer"], r["reassigned_at"]) for r in rows] == [
        ("2", "no", ""),
        ("3", "yes", "2026-11-15T03:00:00Z"),
    ]

    piped = subprocess.run(
        [sys.executable, "-m", "partners", "reassigned", "-", "--since", "2026-10-01", "--json"],
        input="0812 3456 7890\n",
        cwd=tmp_path,
        env=ott.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)[0]["answer"] == "yes"

    no_since = ott.run("reassigned", "numbers.txt", cwd=tmp_path)
    assert no_since.returncode == 1 and no_since.stderr.count("no since") == 2
