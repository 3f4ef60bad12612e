"""CSV pushes as exports arrive: any delimiter, Indonesian headers, a rejects file, plain words, a dry run."""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from partners.inputs import detect_delimiter, read_records
from partners.numbers import BadNumber, to_e164
from tests.test_partners_support import CliPartner, serve

GOOD = ["0812-3456-7890", "0813 1111 2222", "+62 856 1234 5678"]


@pytest.fixture
def hub(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


def _rows(text: str, folder: Path) -> list[Any]:
    from partners.fields import RecordDefaults

    path = folder / "export.csv"
    path.write_text(text, encoding="utf-8")
    return list(read_records(str(path), "csv", "kominfo", RecordDefaults(), lambda _m: None))


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_the_delimiter_is_read_off_the_header_and_indonesian_headers_are_understood(sep: str, tmp_path: Path):
    header = sep.join(["Nomor", "Kategori", "Kanal", "Alasan", "Bukti", "Jumlah Aduan"])
    line = sep.join(["0812-3456-7890", "penipuan", '"telepon;sms"' if sep != ";" else "telepon|sms", "Mengaku CS bank"])
    text = f"{header}\n{line}{sep}ADN-1{sep}4\n"
    (row,) = _rows(text, tmp_path)
    assert row.error is None, row.error
    body = row.value
    assert body["number"] == "+6281234567890"
    assert (body["category"], body["channels"], body["reason"]) == ("scam", ["voice", "sms"], "Mengaku CS bank")
    assert body["evidence"] == {"complaints": 4, "ref": "ADN-1"}
    assert row.raw is not None and row.raw["Nomor"] == "0812-3456-7890"


def test_a_quoted_comma_does_not_fool_the_delimiter():
    assert detect_delimiter('"number";"reason, long";"category"\n') == ";"
    assert detect_delimiter("number\n") == ","


def test_a_file_without_a_number_column_says_so_and_names_the_delimiter(tmp_path: Path):
    from partners.errors import InputError

    with pytest.raises(InputError, match="no number column.*semicolons"):
        _rows("telefon;kategori\n0812;scam\n", tmp_path)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("abc", "is not a phone number"),
        ("0812", "too few digits"),
        ("0812345678901234567", "too many digits"),
        ("+999123456", "no country code"),
        ("08001234", "not a valid number in ID"),
    ],
)
def test_number_errors_are_plain_words_not_the_parsers_text(raw: str, words: str):
    with pytest.raises(BadNumber) as caught:
        to_e164(raw)
    message = str(caught.value)
    assert words in message and "(1)" not in message and "did not seem" not in message


def test_the_hub_says_the_same_plain_words(client: Any, register: Any, token: Any):
    from keys.signing import sign_object
    from tests.support import bearer, record_body

    kominfo = register("kominfo", "ministry")
    env = sign_object("record", record_body("kominfo", "+62abc"), kominfo.private_key, kominfo.kid)
    resp = client.post("/v1/records", json={"records": [env]}, headers=bearer(token(kominfo)))
    detail = resp.get_json()["results"][0]["error"]["detail"]
    assert "is not a phone number" in detail and "did not seem" not in detail


def test_push_writes_rejects_and_dry_run_stores_nothing(hub: str, app: Flask, register: Any, tmp_path: Path):
    from hub.db import db
    from hub.ledger import log
    from hub.records.models import Record

    creds = register("kominfo", "ministry")
    kominfo = CliPartner.of(creds, hub, tmp_path)
    export = tmp_path / "aduan.csv"
    export.write_text(
        "nomor;kategori;kanal;alasan;jumlah_aduan\n"
        f"{GOOD[0]};penipuan;telepon;Mengaku CS bank;3\n"
        "0812;penipuan;sms;Nomor terlalu pendek;1\n"
        f"{GOOD[1]};bukan-kategori;sms;Kategori salah;1\n"
        f"{GOOD[2]};phishing;pesan;Tautan palsu;2\n",
        encoding="utf-8",
    )

    def stored() -> tuple[int, int]:
        with app.app_context():
            out = (db.session.scalar(select(func.count()).select_from(Record)) or 0, log.size())
            db.session.remove()
        return out

    dry = kominfo.run("push", "aduan.csv", "--dry-run", "--rejects", "dry-rejects.csv", cwd=tmp_path)
    assert dry.returncode == 1, dry.stderr
    assert "2 valid, 0 duplicate, 2 rejected" in dry.stderr and "stored nothing" in dry.stderr
    assert stored() == (0, 0)
    assert not (tmp_path / "aduan.csv.receipts.jsonl").exists()

    real = kominfo.run("push", "aduan.csv", "--rejects", "rejects.csv", cwd=tmp_path)
    assert real.returncode == 1, real.stderr
    assert "2 accepted, 0 duplicate, 2 rejected" in real.stderr
    assert stored() == (2, 2)
    rejects = tmp_path / "rejects.csv"
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert [(r["line"], r["problem"]) for r in rows] == [("3", "bad-row"), ("4", "bad-row")]
    assert "too few digits" in rows[0]["detail"] and rows[0]["nomor"] == "0812"
    assert "bukan-kategori" in rows[1]["detail"] and rows[1]["alasan"] == "Kategori salah"
    assert (tmp_path / "dry-rejects.csv").read_text(encoding="utf-8") == rejects.read_text(encoding="utf-8")

    again = kominfo.run("push", "aduan.csv", "--dry-run", cwd=tmp_path)
    assert "0 valid, 2 duplicate, 2 rejected" in again.stderr, again.stderr
    assert stored() == (2, 2)


def test_a_rejected_item_names_its_place_in_the_batch(hub: str, register: Any, tmp_path: Path):
    """A JSONL of signed records, one malformed: the hub's pointer is into the request, the CLI names the line."""
    import json

    from keys.signing import sign_object
    from tests.support import record_body

    creds = register("kominfo", "ministry")
    kominfo = CliPartner.of(creds, hub, tmp_path)
    good = sign_object("record", record_body("kominfo", "+6281234567890"), creds.private_key, creds.kid)
    bad = sign_object("record", record_body("kominfo", "+6281234567891", confidence=101), creds.private_key, creds.kid)
    (tmp_path / "signed.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    res = kominfo.run("push", "signed.jsonl", "--rejects", "r.csv", cwd=tmp_path)
    assert res.returncode == 1
    assert "line 2: rejected: invalid-record: /records/1/record/confidence:" in res.stderr
    (row,) = csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text()))
    assert row["line"] == "2" and json.loads(row["input"]) == bad
