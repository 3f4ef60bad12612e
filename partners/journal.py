"""The receipts file: what a push signed, and what the hub answered, one JSON line per item.

It serves three purposes at once:

* proof: every receipt next to the exact signed object it describes, so
  ``python -m partners verify receipts`` can show years later that the hub
  logged it;
* a report: rejected items with their problem and input line;
* idempotent re-runs: a record's id is derived from its content (see
  :mod:`partners.builders`) but its ``issued_at`` is the signing time, so a
  re-signed row would differ from the stored one and the hub would answer
  ``conflict``. Items whose id the journal already holds as accepted are sent
  again exactly as signed then, and come back ``duplicate`` with their
  original receipt.

Lines are appended and fsynced batch by batch; a crash loses at most the
batch in flight, which the hub then answers as a conflict that the push
resolves by looking the record up (see :mod:`partners.pushing`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from partners.errors import InputError
from partners.results import PushResult


def entry(result: PushResult, line: int | None) -> dict[str, Any]:
    """The journal line of one push result."""
    return {
        "line": line,
        "id": result.id,
        "status": result.status,
        "signed": result.signed,
        "receipt": result.receipt,
        "error": result.error.body if result.error else None,
        **({"note": result.note} if result.note else {}),
    }


class Journal:
    """An append-only JSONL file of push results (or nothing, when no path is given)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def accepted(self, kind: str) -> dict[str, dict[str, Any]]:
        """Signed objects of ``kind`` the hub accepted in earlier runs, by id."""
        found: dict[str, dict[str, Any]] = {}
        if self.path is None or not self.path.exists():
            return found
        for _line, data in read_lines(self.path):
            signed = data.get("signed")
            if data.get("status") in ("accepted", "duplicate") and isinstance(signed, dict) and kind in signed:
                found[str(data.get("id"))] = signed
        return found

    def append(self, entries: list[dict[str, Any]]) -> None:
        """Append lines and make them durable before the next batch is sent."""
        if self.path is None or not entries:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            for item in entries:
                handle.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, object)`` of a JSONL file; a truncated last line (a crash mid-write) is skipped."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                yield number, data
