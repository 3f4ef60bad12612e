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
import itertools
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
NUMBER_ALIASES = ("number", "msisdn", "nomor", "phone", "e164", "nomor_telepon", "no_hp")
#: Column names as Indonesian exports write them (Komdigi's complaint portal, operators' sheets).
COLUMN_ALIASES: dict[str, str] = {
    **{alias: "number" for alias in NUMBER_ALIASES},
    "kategori": "category",
    "kanal": "channels",
    "saluran": "channels",
    "alasan": "reason",
    "keterangan": "reason",
    "bukti": "ref",
    "jumlah_aduan": "complaints",
    "aduan": "complaints",
    "keyakinan": "confidence",
    "diamati_pada": "observed_at",
    "berlaku_sampai": "expires_at",
    "hasil": "outcome",
}
#: What a spreadsheet writes between cells: a comma, or a semicolon where the
#: decimal separator is a comma (an Indonesian locale), or a tab.
DELIMITERS = (",", ";", "\t")
ACK_COLUMNS = frozenset({"record_id", "outcome", "reason", "acted_at", "id"})


@dataclass
class Row(Generic[T]):
    """One input row: its first line in the file, its value or why it has none, and the cells as read."""

    line: int
    value: T | None = None
    error: str | None = None
    raw: dict[str, str] | None = None


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


def detect_delimiter(header_line: str) -> str:
    """The delimiter of a CSV, from its header line: the one of ``DELIMITERS`` it holds most, outside quotes."""
    unquoted = "".join(part for i, part in enumerate(header_line.split('"')) if i % 2 == 0)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def column_name(header: str) -> str:
    """A header cell as the protocol's column name: lowercased, spaces as ``_``, Indonesian names translated."""
    name = "_".join(header.strip().lower().replace("-", " ").split())
    return COLUMN_ALIASES.get(name, name)


def csv_rows(
    path: str, known: frozenset[str], warn: Callable[[str], None]
) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """``(first line, row, raw)`` of a CSV with a header.

    The delimiter (comma, semicolon or tab) is read off the header line;
    column names are lowercased and Indonesian ones translated
    (:data:`COLUMN_ALIASES`); ``raw`` is the row's cells under the file's own
    header, for the rejects file.
    """
    handle = _open(path)
    with handle:
        first_line = handle.readline()
        if not first_line.strip():
            return
        delimiter = detect_delimiter(first_line)
        reader = csv.reader(itertools.chain([first_line], handle), delimiter=delimiter)  # stdin cannot seek
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{path}: line 1: {exc}") from None
        names = [column_name(h) for h in header]
        if "number" in known and "number" not in names:
            raise InputError(
                f"{path}: no number column in the header ({', '.join(h.strip() for h in header) or 'empty'}); "
                f"name it number, msisdn or nomor (cells separated by {_DELIMITER_NAMES[delimiter]})"
            )
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
            raw = {h: c for h, c in zip(header, cells, strict=False)}
            if len(cells) > len(names):
                yield first, {"__error__": f"{len(cells)} cells but the header has {len(names)} columns"}, raw
                continue
            yield first, {n: c for n, c in zip(names, cells, strict=False) if n in known}, raw  # short rows: blanks


_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}


def jsonl_rows(path: str) -> Iterator[tuple[int, Any, dict[str, str]]]:
    """``(line, value, raw)`` of a JSON Lines file; a line that is not JSON yields an error row."""
    handle = _open(path)
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            raw = {"input": line.rstrip("\r\n")}
            try:
                yield number, json.loads(line), raw
            except ValueError as exc:
                yield number, {"__error__": f"not JSON ({exc})"}, raw


def read_records(
    path: str, fmt: str, issuer: str, defaults: RecordDefaults, warn: Callable[[str], None]
) -> Iterator[Row[dict[str, Any]]]:
    """Rows as unsigned record bodies, or (JSONL) already signed envelopes passed through as they are."""
    rows = csv_rows(path, frozenset(RECORD_COLUMNS), warn) if fmt == "csv" else jsonl_rows(path)
    for line, value, cells in rows:
        if not isinstance(value, dict):
            yield Row(line, error="a record line must be a JSON object", raw=cells)
            continue
        if "__error__" in value:
            yield Row(line, error=str(value["__error__"]), raw=cells)
            continue
        if "record" in value and "signature" in value:
            yield Row(line, value=value, raw=cells)
            continue
        if fmt == "jsonl":
            value = {column_name(k): v for k, v in value.items()}
        try:
            yield Row(line, value=record_from_fields(value, issuer, defaults), raw=cells)
        except BadField as exc:
            yield Row(line, error=str(exc), raw=cells)


def read_acks(path: str, fmt: str, partner: str, warn: Callable[[str], None]) -> Iterator[Row[dict[str, Any]]]:
    """Rows of ``record_id,outcome,reason[,acted_at][,id]`` as unsigned ack bodies."""
    rows = csv_rows(path, ACK_COLUMNS, warn) if fmt == "csv" else jsonl_rows(path)
    for line, value, cells in rows:
        if not isinstance(value, dict):
            yield Row(line, error="an ack line must be a JSON object", raw=cells)
        elif "__error__" in value:
            yield Row(line, error=str(value["__error__"]), raw=cells)
        elif "ack" in value and "signature" in value:
            yield Row(line, value=value, raw=cells)
        else:
            try:
                yield Row(line, value=ack_from_fields(value, partner), raw=cells)
            except BadField as exc:
                yield Row(line, error=str(exc), raw=cells)


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
