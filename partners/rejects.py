"""``--rejects FILE``: the rows a push skipped or the hub rejected, as a CSV to fix and push again.

Each row carries its line in the input, the problem (the hub's slug, or
``bad-row`` for a row that never became a record) and the reason in words,
then the row's own cells under the input's header. Delete the first three
columns, fix the cells, and the file is an input again (``push`` ignores
unknown columns, so even that step is optional). The file holds phone
numbers, so it is written mode 0600, like everything secret or personal the
CLI writes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO

from partners.errors import InputError

LEAD = ("line", "problem", "detail")


class Rejects:
    """A rejects CSV, created at the first rejected row (no rejects, no file)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._handle: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None

    def add(self, line: int, problem: str, detail: str, raw: dict[str, str] | None) -> None:
        if self.path is None:
            return
        cells = {k: v for k, v in (raw or {}).items() if k not in LEAD}
        writer = self._writer or self._open(self.path, list(cells))
        writer.writerow({**cells, "line": str(line), "problem": problem, "detail": detail})
        self.count += 1

    def _open(self, path: Path, columns: list[str]) -> csv.DictWriter[str]:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that existed
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror}") from None
        self._handle = open(fd, "w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=[*LEAD, *columns], restval="", extrasaction="ignore")
        self._writer.writeheader()
        return self._writer

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
