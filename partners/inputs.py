"""Reading input files row by row, each row with its line number.

A ministry export of 10,000 complaints will hold a few bad rows (a number
typed wrong, a category nobody knows). They must not stop the other 9,990,
and whoever fixes them needs the line: so readers yield every row as a
:class:`Row` with either its value or its error, never raising for one row.
Only a file that cannot be read at all raises :class:`InputError`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from partners.errors import InputError
from partners.fields import RECORD_COLUMNS, BadField, RecordDefaults, ack_from_fields, record_from_fields
from partners.numbers import BadNumber, to_e164

T = TypeVar("T")

#: Other names complaint exports use for the number column.
NUMBER_ALIASES = ("number", "msisdn", "nomor", "phone", "e164")
ACK_COLUMNS = frozenset({"record_id", "outcome", "reason", "acted_at", "id"})


@dataclass
class Row(Generic[T]):
    """One input row: its first line in the file, and its value or why it has none."""

    line: int
    value: T | None = None
    error: str | None = None


def detect_format(path: str, given: str | None) -> str:
    """``csv`` or ``jsonl``: as given, else by the file's extension (``-`` is stdin, CSV unless told)."""
    if given:
        return given
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def _open(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def csv_rows(path: str, known: frozenset[str], warn: Callable[[str], None]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(first line, row)`` of a CSV with a header; column names lowercased, aliases for number."""
    handle = _open(path)
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{path}: line 1: {exc}") from None
        names = [h.strip().lower() for h in header]
        names = ["number" if n in NUMBER_ALIASES else n for n in names]
        ignored = sorted({n for n in names if n and n not in known})
        if ignored:
            warn(f"{path}: ignoring columns {', '.join(ignored)} (never sent to the hub)")
        last = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"{path}: line {last + 1}: {exc}") from None
            first, last = last + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(names):
                yield first, {"__error__": f"{len(cells)} cells but the header has {len(names)} columns"}
                continue
            yield first, {n: c for n, c in zip(names, cells, strict=False) if n in known}  # short rows: blanks


def jsonl_rows(path: str) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` of a JSON Lines file; a line that is not JSON yields an error row."""
    handle = _open(path)
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                yield number, {"__error__": f"not JSON ({exc})"}


def read_records(
    path: str, fmt: str, issuer: str, defaults: RecordDefaults, warn: Callable[[str], None]
) -> Iterator[Row[dict[str, Any]]]:
    """Rows as unsigned record bodies, or (JSONL) already signed envelopes passed through as they are."""
    rows = csv_rows(path, frozenset(RECORD_COLUMNS), warn) if fmt == "csv" else jsonl_rows(path)
    for line, raw in rows:
        if not isinstance(raw, dict):
            yield Row(line, error="a record line must be a JSON object")
            continue
        if "__error__" in raw:
            yield Row(line, error=str(raw["__error__"]))
            continue
        if "record" in raw and "signature" in raw:
            yield Row(line, value=raw)
            continue
        if fmt == "jsonl":
            raw = {("number" if k in NUMBER_ALIASES else k): v for k, v in raw.items()}
        try:
            yield Row(line, value=record_from_fields(raw, issuer, defaults))
        except BadField as exc:
            yield Row(line, error=str(exc))


def read_acks(path: str, fmt: str, partner: str, warn: Callable[[str], None]) -> Iterator[Row[dict[str, Any]]]:
    """Rows of ``record_id,outcome,reason[,acted_at][,id]`` as unsigned ack bodies."""
    rows = csv_rows(path, ACK_COLUMNS, warn) if fmt == "csv" else jsonl_rows(path)
    for line, raw in rows:
        if not isinstance(raw, dict):
            yield Row(line, error="an ack line must be a JSON object")
        elif "__error__" in raw:
            yield Row(line, error=str(raw["__error__"]))
        elif "ack" in raw and "signature" in raw:
            yield Row(line, value=raw)
        else:
            try:
                yield Row(line, value=ack_from_fields(raw, partner))
            except BadField as exc:
                yield Row(line, error=str(exc))


def read_numbers(path: str) -> Iterator[Row[str]]:
    """One number per line (any form phonenumbers reads with region ID); ``#`` starts a comment."""
    handle = _open(path)
    with handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            if line_number == 1 and text.lower() in NUMBER_ALIASES:
                continue  # a one-column CSV's header
            try:
                yield Row(line_number, value=to_e164(text))
            except BadNumber as exc:
                yield Row(line_number, error=str(exc))
