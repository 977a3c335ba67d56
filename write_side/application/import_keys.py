"""What an import row is matched by, and the checks on it before it is decided (pure helpers
of `write_side.application.imports`)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.errors import Conflict, NotFound, ValidationFailed
from write_side.application.claims import Claims
from write_side.domain.values import InvalidValue, normalize_email, normalize_external_id
from write_side.imports.rows import Row, RowError

#: A row that nothing could match would create its customer again on every import of the file.
UNKEYED = "is required when the row has no email (else importing the file again would repeat it)"
COUNTS = ("processed", "created", "updated", "unchanged", "failed")


@dataclass
class Tally:
    """A chunk's counts and errors, stored with the import's progress."""

    counts: dict[str, int]
    errors: list[dict[str, object]]

    @classmethod
    def empty(cls) -> Tally:
        return cls(dict.fromkeys(COUNTS, 0), [])

    def fail(self, error: RowError) -> None:
        self.counts["processed"] += 1
        self.counts["failed"] += 1
        self.errors.append({"line": error.line, "field": error.field, "message": error.message})

    def merge(self, other: Tally) -> None:
        """Add another tally's counts and errors."""
        for name, value in other.counts.items():
            self.counts[name] += value
        self.errors += other.errors

    def count(self, result: RowError | str) -> None:
        """Count a row's outcome (`created`, `updated`, `unchanged`) or its error."""
        if isinstance(result, RowError):
            self.fail(result)
        else:
            self.counts["processed"] += 1
            self.counts[result] += 1


def claim_ids(claims: Claims, tenant_id: str, row: Row) -> list[uuid.UUID]:
    """The ids of the claims a row is matched by: its externalId's, then its email's."""
    found = []
    external_id, email = row.data.fields.get("externalId"), row.data.fields.get("email")
    try:
        if isinstance(external_id, str):
            found.append(claims.external_id_claim_id(tenant_id, normalize_external_id(external_id)))
    except InvalidValue:
        pass  # the decision reports the bad value
    try:
        if isinstance(email, str):
            found.append(claims.email_claim_id(tenant_id, normalize_email(email)))
    except InvalidValue:
        pass
    return found


def take(rows: Iterator[Row | RowError], size: int) -> list[Row | RowError]:
    """The next `size` items (fewer at the end of the file)."""
    chunk: list[Row | RowError] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            break
    return chunk


class SeenKeys(Protocol):
    """The externalIds an import met so far (an adapter keeps them out of memory)."""

    def first_lines(self, keys: Sequence[tuple[bytes, int]]) -> dict[bytes, int]:
        """Record each `(key, line)` unless known; answer every key's first line."""
        ...

    def close(self) -> None:
        """Release the store (its file is deleted by the caller)."""
        ...


def repeats(chunk: Sequence[Row | RowError], seen: SeenKeys) -> dict[int, int]:
    """The rows of `chunk` whose externalId an earlier row has: line → that earlier line
    (one call per chunk; keys are 8-byte digests of the trimmed value)."""
    keys: list[tuple[bytes, int]] = []
    for item in chunk:
        value = None if isinstance(item, RowError) else item.data.fields.get("externalId")
        if isinstance(value, str) and value.strip():
            digest = hashlib.blake2b(value.strip().encode(), digest_size=8).digest()
            keys.append((digest, item.line))
    first = seen.first_lines(keys)
    return {line: first[key] for key, line in keys if first[key] != line}


def has_key(row: Row) -> bool:
    """Whether the row names an externalId or an email to be matched by."""
    return any(
        isinstance(row.data.fields.get(name), str) and str(row.data.fields[name]).strip()
        for name in ("externalId", "email")
    )


def match_key(row: Row) -> str:
    """The key rows about one customer share (the per-row path's lock)."""
    for name in ("externalId", "email"):
        value = row.data.fields.get(name)
        if isinstance(value, str) and value.strip():
            return f"{name}:{value.strip().casefold()}"
    return f"line:{row.line}"


def row_error(row: Row, error: ValidationFailed | Conflict | NotFound) -> RowError:
    """A decision's refusal as the row's error (line, field, message)."""
    if isinstance(error, ValidationFailed):
        if not error.errors:
            return RowError(row.line, "row", error.detail)
        return RowError(row.line, error.errors[0].field, error.errors[0].message)
    message = str(error)
    field = "externalId" if "externalId" in message else "email" if "email" in message else "row"
    return RowError(row.line, field, message)
