"""How an exported customer is written: CSV (spreadsheet-safe) or JSON Lines.

CSV columns are the customer resource's fields (`EXPORT_COLUMNS`, also the columns an import
reads); `tags` and `attributes` are JSON text in their cells. A cell that a spreadsheet would
read as a formula — starting with `=`, `+`, `-`, `@`, a tab or a carriage return — is written
with a leading `'` (OWASP's advice against CSV injection); the import strips that quote again,
so an exported file imports back unchanged. JSON Lines needs no such escape: one resource per
line, exactly as the API returns it.
"""

from __future__ import annotations

import csv
import io
import json

import msgspec

from read_side.views import CustomerDoc, to_resource

EXPORT_COLUMNS = (
    "id", "externalId", "type", "state", "firstName", "lastName", "email", "phone",
    "dateOfBirth", "notes", "tags", "attributes", "firstVisitAt", "lastVisitAt", "visitCount",
    "createdAt", "updatedAt", "deletedAt", "version",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def escape_cell(text: str) -> str:
    """The cell as a spreadsheet must not evaluate it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_cell(text: str) -> str:
    """Undo `escape_cell` (for the import): a `'` before a formula start is dropped."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _cell(value: object) -> str:
    if type(value) is str:  # most cells: one look at the first character
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return escape_cell(text)


class CsvWriter:
    """Rows of CSV text, header first, each produced on its own (constant memory)."""

    #: The document fields the rows are made of (a reader may fetch only these).
    fields: tuple[str, ...] | None = EXPORT_COLUMNS

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def _flush(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def header(self) -> bytes:
        """The header row."""
        self._writer.writerow(EXPORT_COLUMNS)
        return self._flush()

    def rows(self, docs: list[CustomerDoc]) -> bytes:
        """The rows of a few documents."""
        # Every column is a document field the resource shows as stored: no resource built.
        self._writer.writerows(
            [_cell(doc.get(column)) for column in EXPORT_COLUMNS] for doc in docs
        )
        return self._flush()


class JsonLinesWriter:
    """One customer resource per line."""

    #: Whole documents: the resource's `emailDeliverable` defaults to true when missing,
    #: which a fetch of some fields (None for missing) could not tell apart from null.
    fields: tuple[str, ...] | None = None

    def header(self) -> bytes:
        """Nothing: JSON Lines has no header."""
        return b""

    def rows(self, docs: list[CustomerDoc]) -> bytes:
        """The lines of a few documents."""
        return b"".join(msgspec.json.encode(to_resource(doc)) + b"\n" for doc in docs)


def writer_for(fmt: str) -> CsvWriter | JsonLinesWriter:
    """The writer of a format named in `FORMATS`."""
    return CsvWriter() if fmt == "csv" else JsonLinesWriter()
