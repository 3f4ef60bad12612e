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
from partners.fields import (
    EVENT_COLUMNS,
    RECORD_COLUMNS,
    BadField,
    RecordDefaults,
    ack_from_fields,
    number_event_from_fields,
    record_from_fields,
    since_value,
)
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
#: Column names of operators' disconnection and reassignment exports (``events push``), Indonesian ones
#: translated as for records; ``tanggal`` (date) is the event's date only in such an export.
EVENT_COLUMN_ALIASES: dict[str, str] = {
    **COLUMN_ALIASES,
    "peristiwa": "event",
    "kejadian": "event",
    "jenis": "event",
    "status": "event",
    "berlaku_sejak": "effective_at",
    "berlaku_mulai": "effective_at",
    "tanggal": "effective_at",
    "tanggal_berlaku": "effective_at",
    "tanggal_efektif": "effective_at",
    "effective_date": "effective_at",
    "date": "effective_at",
    "operator": "operator",
}
#: Columns of a reassignment question file (``reassigned``): ``number[,since]``.
QUESTION_COLUMN_ALIASES: dict[str, str] = {**COLUMN_ALIASES, "sejak": "since", "tanggal": "since", "date": "since"}
QUESTION_COLUMNS = frozenset({"number", "since"})
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


def column_name(header: str, aliases: dict[str, str] = COLUMN_ALIASES) -> str:
    """A header cell as the protocol's column name: lowercased, spaces as ``_``, Indonesian names translated."""
    name = "_".join(header.strip().lower().replace("-", " ").split())
    return aliases.get(name, name)


def csv_rows(
    path: str,
    known: frozenset[str],
    warn: Callable[[str], None],
    aliases: dict[str, str] = COLUMN_ALIASES,
    handle: IO[str] | None = None,
) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """``(first line, row, raw)`` of a CSV with a header.

    The delimiter (comma, semicolon or tab) is read off the header line;
    column names are lowercased and Indonesian ones translated (``aliases``:
    :data:`COLUMN_ALIASES` for records and acks); ``raw`` is the row's cells
    under the file's own header, for the rejects file. ``handle``: read
    from it instead of opening ``path`` (which then only names it).
    """
    handle = handle or _open(path)
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
        names = [column_name(h, aliases) for h in header]
        if "number" in known and "number" not in names:
            raise InputError(
                f"{path}: no number column in the header ({', '.join(h.strip() for h in header) or 'empty'}); "
                f"name it number, msisdn or nomor (cells separated by {_DELIMITER_NAMES[delimiter]})"
            )
        ignored = sorted({h.strip() for h, n in zip(header, names, strict=True) if n and n not in known})
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


def read_number_events(
    path: str, fmt: str, operator: str, warn: Callable[[str], None]
) -> Iterator[Row[dict[str, Any]]]:
    """Rows of an operator's disconnection and reassignment export as unsigned number events.

    CSV: ``number,event,effective_at`` (also ``nomor``, ``peristiwa`` or
    ``kejadian``, ``berlaku_sejak`` or ``tanggal``; see
    :data:`EVENT_COLUMN_ALIASES`) with optional ``id`` and ``operator``;
    JSONL: the same members, or whole signed events passed through.
    """
    rows = csv_rows(path, frozenset(EVENT_COLUMNS), warn, EVENT_COLUMN_ALIASES) if fmt == "csv" else jsonl_rows(path)
    for line, value, cells in rows:
        if not isinstance(value, dict):
            yield Row(line, error="an event line must be a JSON object", raw=cells)
        elif "__error__" in value:
            yield Row(line, error=str(value["__error__"]), raw=cells)
        elif "number_event" in value and "signature" in value:
            yield Row(line, value=value, raw=cells)
        else:
            if fmt == "jsonl":
                value = {column_name(str(k), EVENT_COLUMN_ALIASES): v for k, v in value.items()}
            try:
                yield Row(line, value=number_event_from_fields(value, operator), raw=cells)
            except BadField as exc:
                yield Row(line, error=str(exc), raw=cells)


def read_questions(path: str, default_since: str | None, warn: Callable[[str], None]) -> Iterator[Row[tuple[str, str]]]:
    """``(E.164 number, since)`` per line of a reassignment question file.

    One number per line (``#`` starts a comment), or a CSV of
    ``number[,since]``, with a header (``number``/``nomor``, ``since``/
    ``sejak``/``tanggal``) or without one (number first). A row without its
    own ``since`` asks about ``default_since`` (``--since``); without either
    it is a bad row.
    """
    with _open(path) as handle:
        text = handle.read()  # read once: stdin cannot be read twice, and questions are a few MB at most
    first = next((line for line in text.splitlines() if line.split("#", 1)[0].strip()), None)
    if first is None:
        return
    delimiter = detect_delimiter(first.split("#", 1)[0])
    cells = next(csv.reader([first], delimiter=delimiter))
    if len(cells) < 2:
        rows: Iterator[tuple[int, dict[str, str]]] = (
            (row.line, {"__error__": row.error} if row.error else {"number": str(row.value)})
            for row in read_numbers(path, validate=False, handle=io.StringIO(text))
        )
    elif any(column_name(c, QUESTION_COLUMN_ALIASES) == "number" for c in cells):
        found = csv_rows(path, QUESTION_COLUMNS, warn, QUESTION_COLUMN_ALIASES, handle=io.StringIO(text))
        rows = ((line, value) for line, value, _raw in found)
    else:
        rows = _headerless(io.StringIO(text), delimiter)
    for line, value in rows:
        if "__error__" in value:
            yield Row(line, error=value["__error__"])
            continue
        asked = value.get("since") or ""
        try:
            number = to_e164(value.get("number") or "")
            when = since_value(asked) if asked.strip() else default_since
        except (BadNumber, BadField) as exc:
            yield Row(line, error=str(exc))
            continue
        if when is None:
            yield Row(line, error="no since (add a since column or pass --since)")
        else:
            yield Row(line, value=(number, when))


def _headerless(handle: IO[str], delimiter: str) -> Iterator[tuple[int, dict[str, str]]]:
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        last = 0
        for cells in reader:
            first, last = last + 1, reader.line_num
            text = [c.strip() for c in cells]
            if not any(text) or text[0].startswith("#"):
                continue
            if len(text) > 2 and any(text[2:]):
                yield first, {"__error__": f"{len(text)} cells; a question is number[,since]"}
                continue
            yield first, {"number": text[0], "since": text[1] if len(text) > 1 else ""}


def read_numbers(path: str, validate: bool = True, handle: IO[str] | None = None) -> Iterator[Row[str]]:
    """One number per line (any form phonenumbers reads with region ID); ``#`` starts a comment.

    ``validate=False`` yields each line's text as it is, for a caller that
    checks it itself; ``handle`` is read instead of opening ``path``.
    """
    handle = handle or _open(path)
    with handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            if line_number == 1 and text.lower() in NUMBER_ALIASES:
                continue  # a one-column CSV's header
            if not validate:
                yield Row(line_number, value=text)
                continue
            try:
                yield Row(line_number, value=to_e164(text))
            except BadNumber as exc:
                yield Row(line_number, error=str(exc))
