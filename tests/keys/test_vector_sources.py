"""tests/vectors/SOURCES matches the files beside it.

Every vector file is listed with its upstream repository, commit, path and
licence, and with its git blob SHA-1 and size: each listed file must be there
unchanged, and no file may be there unlisted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
COLUMNS = ["file", "repository", "commit", "path", "licence", "git_blob_sha1", "bytes"]


def sources() -> list[dict[str, str]]:
    text = (VECTORS / "SOURCES").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0].split("\t") == COLUMNS
    rows = []
    for line in lines[1:]:
        fields = line.split("\t")
        assert len(fields) == len(COLUMNS) and all(fields), line
        rows.append(dict(zip(COLUMNS, fields)))
    return rows


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_every_listed_file_is_present_and_unchanged() -> None:
    rows = sources()
    assert rows
    for row in rows:
        data = (VECTORS / row["file"]).read_bytes()
        assert len(data) == int(row["bytes"]), row["file"]
        assert git_blob_sha1(data) == row["git_blob_sha1"], row["file"]
        assert len(row["commit"]) == 40, row["file"]
        assert row["licence"] == "Apache-2.0", row["file"]


def test_every_file_is_listed() -> None:
    present = {p.name for p in VECTORS.iterdir() if p.name != "SOURCES"}
    assert present == {row["file"] for row in sources()}
