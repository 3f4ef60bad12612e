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

import json
from pathlib import Path
from typing import Any

import pytest

from keys.jcs import canonicalize
from keys.signing import verify_object
from partners.builders import derived_id, number_event_body
from partners.fields import BadField, event, since_value
from partners.inputs import read_number_events, read_questions


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
