"""Reading an import file row by row: CSV with a header row, or NDJSON (pure, streaming).

Lines are the file's physical lines, the CSV header being line 1. Nothing holds more than one
line (at most `MAX_LINE_BYTES`) in memory. What a row's cells say becomes `ProfileInput`
fields exactly as the API's body would (`CustomerWrite`), so rows are then validated by the
API's own rules. A row that cannot be read fails alone, as a `RowError`; the header decides
whether the file can be read at all (`BadFile`, a 400).

CSV cells: an empty cell leaves the field as it is (spreadsheets cannot say `null`); `tags`
is a JSON array or `;`-separated text; `attributes` a JSON object; a `'` before a formula
start (`'=`, `'+`…) — how an export escapes such cells — is dropped. The resource's read-only
columns an export writes (`id`, `state`, `createdAt`…) are accepted and ignored, so an
exported file imports back.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import msgspec

from shared.json_types import JSONObject
from write_side.application.commands import ProfileInput
from write_side.http.schemas import CustomerWrite

MAX_LINE_BYTES = 256 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WRITABLE = {
    "type": "type", "firstName": "first_name", "lastName": "last_name", "email": "email",
    "phone": "phone", "phoneRegion": "phone_region", "dateOfBirth": "date_of_birth",
    "notes": "notes", "tags": "tags", "attributes": "attributes", "externalId": "external_id",
}  # fmt: skip
READ_ONLY = frozenset(
    {"id", "state", "firstVisitAt", "lastVisitAt", "visitCount", "createdAt", "updatedAt",
     "deletedAt", "version", "stateHistory"}
)  # fmt: skip
DELIMITERS = (",", ";", "\t")


class BadFile(ValueError):
    """The file cannot be imported at all (no header, unknown columns, not UTF-8 text)."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Row:
    """A readable row: its line and what it asks for."""

    line: int
    data: ProfileInput


@dataclass(frozen=True)
class RowError:
    """A row that fails alone: its line, the field at fault and why."""

    line: int
    field: str
    message: str


def physical_lines(stream: BinaryIO, first_line: int = 1) -> Iterator[tuple[int, bytes | None]]:
    """`(line number, bytes)` per physical line; `None` for a line over `MAX_LINE_BYTES`,
    whose rest is skipped without being held."""
    number = first_line - 1
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(MAX_LINE_BYTES)
            yield number, None
            continue
        yield number, chunk


def _text(line: int, raw: bytes | None) -> str | RowError:
    if raw is None:
        return RowError(line, "line", f"is longer than {MAX_LINE_BYTES // 1024} KiB")
    try:
        return codecs.decode(raw.removeprefix(codecs.BOM_UTF8) if line == 1 else raw, "utf-8")
    except UnicodeDecodeError:
        return RowError(line, "line", "is not UTF-8 text")


def read_header(first: bytes | None) -> tuple[list[str], str]:
    """The CSV header's columns and delimiter, or `BadFile`."""
    text = _text(1, first)
    if isinstance(text, RowError):
        raise BadFile(f"The header row {text.message}.", "header")
    text = text.rstrip("\r\n")
    delimiter = max(DELIMITERS, key=text.count)
    try:  # the csv module refuses a bare carriage return inside the line: a 400, not a 500
        columns = [name.strip() for name in next(csv.reader([text], delimiter=delimiter), [])]
    except csv.Error:
        refused = "The header row is not readable CSV (a line break inside it)."
        raise BadFile(refused, "header") from None
    unknown = [name for name in columns if name not in WRITABLE and name not in READ_ONLY]
    if not any(name in WRITABLE for name in columns):
        raise BadFile("The first line must be a header row naming customer fields.", "header")
    if unknown:
        raise BadFile(f"Unknown column(s): {', '.join(n[:50] for n in unknown[:10])}.", "header")
    if len(set(columns)) != len(columns):
        raise BadFile("A column is named twice in the header.", "header")
    return columns, delimiter


def check_start(file_format: str, first: bytes | None) -> None:
    """`BadFile` for a file that cannot be imported at all: empty, or a CSV with a bad header
    (`first` is its first line, None when that line is too long)."""
    if first == b"":
        raise BadFile("The import file is empty.", "body")
    if file_format == "csv":
        read_header(first)


def first_line(stream: BinaryIO) -> bytes | None:
    """The first line of a file (None when longer than `MAX_LINE_BYTES`)."""
    line = stream.readline(MAX_LINE_BYTES + 1)
    return line if len(line) <= MAX_LINE_BYTES else None


def csv_rows(stream: BinaryIO) -> Iterator[Row | RowError]:
    """The rows of a CSV file after its header (`BadFile` when the header is bad)."""
    lines = physical_lines(stream)
    first = next(lines, None)
    if first is None:
        raise BadFile("The file is empty: a header row is required.", "header")
    columns, delimiter = read_header(first[1])
    pending: list[str] = []
    start = 0
    for number, raw in lines:
        text = _text(number, raw)
        if isinstance(text, RowError):
            pending = []
            yield text
            continue
        if not pending:
            start = number
            if not text.strip():
                continue
        pending.append(text)
        record = _record("".join(pending), delimiter)
        if record is None:  # a quoted cell goes on over the next line
            if sum(len(part) for part in pending) > MAX_LINE_BYTES:
                pending = []
                yield RowError(start, "line", "has a quoted cell that never ends")
            continue
        pending = []
        yield _csv_row(start, columns, record)
    if pending:
        yield RowError(start, "line", "has a quoted cell that never ends")


def _record(text: str, delimiter: str) -> list[str] | None:
    """The cells of a complete record, or None while a quoted cell is still open."""
    if text.count('"') % 2:
        return None
    try:
        return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return ["\x00bad"]


def _csv_row(line: int, columns: list[str], cells: list[str]) -> Row | RowError:
    if cells == ["\x00bad"]:
        return RowError(line, "line", "is not valid CSV (a quote in the wrong place)")
    if len(cells) != len(columns):
        return RowError(
            line, "line", f"has {len(cells)} cells, the header has {len(columns)} columns"
        )
    body: JSONObject = {}
    for name, cell in zip(columns, cells, strict=True):
        if name in READ_ONLY or cell == "":
            continue
        value = unescape(cell)
        try:
            body[name] = _cell_value(name, value)
        except ValueError:
            kind = "a JSON array or ;-separated text" if name == "tags" else "a JSON object"
            return RowError(line, name, f"must be {kind}")
    return _validated(line, body)


def unescape(cell: str) -> str:
    """Undo an export's formula escape (`'=…` → `=…`)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _cell_value(name: str, cell: str) -> object:
    if name == "tags":
        if cell.lstrip().startswith("["):
            return json.loads(cell)
        return [tag for tag in cell.split(";") if tag.strip()]
    if name == "attributes":
        value = json.loads(cell)
        if not isinstance(value, dict):
            raise ValueError("not an object")
        return value
    return cell


def ndjson_rows(stream: BinaryIO) -> Iterator[Row | RowError]:
    """The rows of an NDJSON file: one JSON object per line, blank lines skipped."""
    for number, raw in physical_lines(stream):
        text = _text(number, raw)
        if isinstance(text, RowError):
            yield text
            continue
        if not text.strip():
            continue
        try:
            body = json.loads(text)
        except ValueError:
            yield RowError(number, "line", "is not a JSON object")
            continue
        if not isinstance(body, dict):
            yield RowError(number, "line", "is not a JSON object")
            continue
        yield _validated(
            number, {key: value for key, value in body.items() if key not in READ_ONLY}
        )


def _validated(line: int, body: JSONObject) -> Row | RowError:
    """The row's body read as the API reads a request body (types; rules come later)."""
    try:
        write = msgspec.convert(body, CustomerWrite)
    except msgspec.ValidationError as error:
        field, message = _explain(str(error))
        return RowError(line, field, message)
    return Row(line, write.to_input())


def _explain(message: str) -> tuple[str, str]:
    """msgspec's `Expected str, got int - at $.email` → ("email", "Expected str, got int")."""
    text, _, path = message.partition(" - at `$.")
    if path:
        return path.rstrip("`").split(".")[0].split("[")[0], text
    if message.startswith("Object contains unknown field"):
        return message.split("`")[1] if "`" in message else "body", "is not a customer field"
    return "body", text
