"""The phone book in the event store's SQLite file, and the recorder that writes it.

The same file and transaction as the events: a customer's row can never disagree with the
events that changed its phone or state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

from write_side.adapters.sqlite_audit_chain import SQLiteAuditChain
from write_side.adapters.sqlite_keys import KeyedSQLiteApplicationRecorder
from write_side.application.phone_book import PhoneBook, PhoneRows, chunks, ordered_rows

_CREATE = (
    "CREATE TABLE IF NOT EXISTS phone_holders ("
    "customer_id TEXT PRIMARY KEY, "  # uuid hex, as stored_events.originator_id
    "phone_key TEXT) WITHOUT ROWID",  # keyed hash of tenant + number; NULL: holds none
    "CREATE INDEX IF NOT EXISTS phone_holders_by_key ON phone_holders (phone_key)",
    "CREATE TABLE IF NOT EXISTS phone_holders_marks (name TEXT PRIMARY KEY, at TEXT)",
)
_UPSERT = (
    "INSERT INTO phone_holders (customer_id, phone_key) VALUES (?, ?) "
    "ON CONFLICT (customer_id) DO UPDATE SET phone_key = excluded.phone_key"
)
_INSERT_MISSING = "INSERT OR IGNORE INTO phone_holders (customer_id, phone_key) VALUES (?, ?)"
_HOLDERS = "SELECT customer_id FROM phone_holders WHERE phone_key = ? LIMIT ?"


def _params(rows: PhoneRows) -> list[tuple[str, str | None]]:
    return [(cid.hex, key.hex if key else None) for cid, key in ordered_rows(rows)]


class SQLitePhoneBook(PhoneBook):
    """`PhoneBook` on the event store's SQLite datastore."""

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self._datastore = datastore
        with datastore.transaction(commit=True) as cursor:
            for statement in _CREATE:
                cursor.execute(statement)

    def write(self, cursor: SQLiteCursor, rows: PhoneRows) -> None:
        """Upsert rows with the caller's cursor (inside the events' transaction)."""
        cursor.executemany(_UPSERT, _params(rows))

    def holders(self, phone_key: UUID, *, limit: int = 2) -> list[UUID]:
        """Up to `limit` current holders (an index range read)."""
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(_HOLDERS, (phone_key.hex, limit))
            return [UUID(row[0]) for row in cursor.fetchall()]

    def insert_missing(self, rows: PhoneRows) -> int:
        """Insert rows for customers without one; returns how many were new."""
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT COUNT(*) FROM phone_holders")
            before = int(cursor.fetchone()[0])
            cursor.executemany(_INSERT_MISSING, _params(rows))
            cursor.execute("SELECT COUNT(*) FROM phone_holders")
            return int(cursor.fetchone()[0]) - before

    def is_marked(self, name: str) -> bool:
        """True once the one-off step `name` completed."""
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT 1 FROM phone_holders_marks WHERE name = ?", (name,))
            return cursor.fetchone() is not None

    def mark(self, name: str) -> None:
        """Record that the one-off step `name` completed."""
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "INSERT OR IGNORE INTO phone_holders_marks VALUES (?, datetime('now'))", (name,)
            )


class CustomersSQLiteRecorder(KeyedSQLiteApplicationRecorder):
    """The keyed SQLite recorder, also upserting phone rows and chaining the events' hashes
    in the events' transaction."""

    phone_book: SQLitePhoneBook | None = None
    audit_chain: SQLiteAuditChain | None = None

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        phone_rows: PhoneRows | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if phone_rows and self.phone_book is not None:
            self.phone_book.write(c, phone_rows)
        if self.audit_chain is not None and ids:
            self.audit_chain.write(c, stored_events, ids)
        return ids

    def latest_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The highest stored version of each aggregate that has events (one query a chunk)."""
        found: dict[UUID, int] = {}
        for chunk in chunks(list(dict.fromkeys(originator_ids))):
            marks = ",".join("?" * len(chunk))
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name}"  # noqa: S608
                    f" WHERE originator_id IN ({marks}) GROUP BY originator_id",
                    [oid.hex for oid in chunk],
                )
                found.update((UUID(row[0]), int(row[1])) for row in c.fetchall())
        return found
