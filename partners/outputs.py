"""Where pulled records go: JSONL (verifiable) or CSV (for a spreadsheet or a switch's loader).

JSONL keeps each item exactly as the hub served it (record, signature,
receipt, assignment), so anyone can verify it again later. CSV flattens
the record for systems that only read tables; it drops the signatures.

Both writers append page by page and make each page durable before the
puller saves its cursor (see :mod:`partners.cursor`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from partners.fields import RECORD_COLUMNS

#: The record's own columns between the pull's sequence number and what the hub added.
CSV_COLUMNS = ("seq", *RECORD_COLUMNS, "received_at", "log_index", "assignment_status")


def csv_row(item: dict[str, Any]) -> list[Any]:
    """One pulled item as a CSV row in :data:`CSV_COLUMNS` order."""
    record = item["record"]
    evidence = record.get("evidence", {})
    receipt = item.get("receipt", {}).get("receipt", {})
    assignment = item.get("assignment") or {}
    values = {
        "seq": item["seq"],
        "id": record["id"],
        "issuer": record["issuer"],
        "number": record["number"],
        "action": record["action"],
        "category": record["category"],
        "channels": ";".join(record.get("channels", [])),
        "reason": record.get("reason", ""),
        "complaints": evidence.get("complaints", ""),
        "ref": evidence.get("ref", ""),
        "digest": evidence.get("digest", ""),
        "confidence": record.get("confidence", ""),
        "observed_at": record.get("observed_at", ""),
        "issued_at": record.get("issued_at", ""),
        "expires_at": record.get("expires_at") or "",
        "supersedes": record.get("supersedes") or "",
        "received_at": receipt.get("received_at", ""),
        "log_index": receipt.get("log_index", ""),
        "assignment_status": assignment.get("status", ""),
    }
    return [values[c] for c in CSV_COLUMNS]


class PullWriter:
    """Appends pulled pages to a file (or stdout) in JSONL or CSV."""

    def __init__(self, target: str, fmt: str) -> None:
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown output format {fmt!r}")
        self.target = target
        self.fmt = fmt
        self.stdout = target == "-"
        self.handle: IO[bytes] = sys.stdout.buffer if self.stdout else open(Path(target), "ab")  # noqa: SIM115
        if fmt == "csv" and (self.stdout or self.handle.tell() == 0):
            self._write_text(self._csv_text([list(CSV_COLUMNS)]))

    def write_page(self, items: list[dict[str, Any]]) -> int:
        """Append ``items``, make them durable, and return the output's new length in bytes."""
        if items:
            if self.fmt == "jsonl":
                text = "".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n" for item in items)
            else:
                text = self._csv_text([csv_row(item) for item in items])
            self._write_text(text)
        self.handle.flush()
        if self.stdout:
            return 0
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        if not self.stdout:
            self.handle.close()
        else:
            self.handle.flush()

    def _write_text(self, text: str) -> None:
        self.handle.write(text.encode("utf-8"))

    @staticmethod
    def _csv_text(rows: list[list[Any]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
