"""Opaque keyset cursors: the last item's exact sort key and id, bound to the query.

A cursor is base64url (no padding) of a small JSON object: format version, the query's sort,
a fingerprint of the query's filters, the last item's sort key and its id. Decoding checks
all of it; anything else raises `InvalidCursor`. Because a cursor names a position in the
order rather than an offset, items created or changed elsewhere never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from read_side.ports import InvalidCursor, ListQuery
from read_side.search.text import NULL_KEY

VERSION = 1
MAX_CURSOR_LENGTH = 4096


@dataclass(frozen=True)
class Position:
    """Where the previous page ended: its last item's sort key and id."""

    key: str
    id: str


def fingerprint(query: ListQuery) -> str:
    """A short digest of everything in the query that shapes the result, except paging."""
    parts: list[object] = [
        query.tenant_id,
        query.text,
        query.type,
        query.state,
        query.email,
        query.phone,
        sorted(query.tags),
        sorted([list(pair) for pair in query.attrs]),
        query.consent,
        query.created_from.isoformat() if query.created_from else None,
        query.created_to.isoformat() if query.created_to else None,
        query.sort,
    ]
    if query.external_id is not None:  # appended only when set: older cursors stay valid
        parts.append(["externalId", query.external_id])
    canonical = json.dumps(parts, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(query: ListQuery, position: Position) -> str:
    """The opaque cursor that continues `query` after `position`."""
    payload = {
        "v": VERSION,
        "s": query.sort,
        "f": fingerprint(query),
        "k": position.key,
        "i": position.id,
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(query: ListQuery) -> Position | None:
    """The position encoded in `query.cursor` (None without a cursor); `InvalidCursor` when
    the cursor is malformed or was made for another query."""
    cursor = query.cursor
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("malformed cursor") from error
    if not isinstance(payload, dict) or set(payload) != {"v", "s", "f", "k", "i"}:
        raise InvalidCursor("malformed cursor")
    key, ident = payload["k"], payload["i"]
    if payload["v"] != VERSION or not isinstance(key, str) or not isinstance(ident, str):
        raise InvalidCursor("malformed cursor")
    if not ident or "\x00" in key or "\x00" in ident:
        raise InvalidCursor("malformed cursor")
    if key != NULL_KEY and not key.startswith("0"):
        raise InvalidCursor("malformed cursor")
    if payload["s"] != query.sort or payload["f"] != fingerprint(query):
        raise InvalidCursor("cursor belongs to another query")
    return Position(key=key, id=ident)
