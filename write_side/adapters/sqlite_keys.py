"""Customer keys in the event store's own SQLite file (table `customer_keys`).

The same file, so that a new customer's key row commits in the same transaction as the
customer's first events; it also means one backup holds both, wrapped by the master key.

Every process caches unwrapped keys. PostgreSQL tells the others about a shredded key with
LISTEN/NOTIFY; on SQLite the processes sharing the file (`serve --workers N`) append the id
to a shred log beside it (`events.db.shredded`) and check its size (one `stat`) before each
key lookup, so none of them decrypts an erased customer once the erasure returned.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from shared.adapters.sqlite_wal import truncate_wal
from write_side.application.crypto.key_cache import KeyCache
from write_side.application.crypto.key_ring import KeyRing
from write_side.application.crypto.key_rotation import KeyRow, RotatableKeyStore
from write_side.application.crypto.key_store import KEY_TABLE, StagedKey, StoredRow

_CREATE = (
    "CREATE TABLE IF NOT EXISTS customer_keys ("
    "customer_id TEXT PRIMARY KEY, "  # uuid hex, as stored_events.originator_id
    "wrapped_key BLOB, "  # nonce || AES-256-GCM(master, data key); NULL once shredded
    "kek_id TEXT NOT NULL, "  # fingerprint of the wrapping (master-derived) key
    "created_at TEXT NOT NULL, "
    "shredded_at TEXT) WITHOUT ROWID"
)
_INSERT = (
    "INSERT INTO customer_keys (customer_id, wrapped_key, kek_id, created_at) VALUES (?,?,?,?)"
)
_INSERT_IF_ABSENT = _INSERT.replace("INSERT INTO", "INSERT OR IGNORE INTO")
_SELECT = "SELECT wrapped_key, kek_id FROM customer_keys WHERE customer_id = ?"
_TOMBSTONE = (
    "INSERT INTO customer_keys (customer_id, wrapped_key, kek_id, created_at, shredded_at) "
    "VALUES (?, NULL, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET wrapped_key = NULL, "
    "shredded_at = COALESCE(customer_keys.shredded_at, excluded.shredded_at)"
)
_CREATE_SECRETS = (
    "CREATE TABLE IF NOT EXISTS master_secrets ("
    "name TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL, kek_id TEXT NOT NULL) WITHOUT ROWID"
)
_LIVE_BY_KEK = (
    "SELECT kek_id, COUNT(*) FROM customer_keys WHERE wrapped_key IS NOT NULL GROUP BY kek_id"
)
_TO_REWRAP = (
    "SELECT customer_id, wrapped_key, kek_id FROM customer_keys WHERE customer_id > ? "
    "AND wrapped_key IS NOT NULL AND kek_id <> ? ORDER BY customer_id LIMIT ?"
)
_REWRAP = (
    "UPDATE customer_keys SET wrapped_key = ?, kek_id = ? "
    "WHERE customer_id = ? AND kek_id = ? AND wrapped_key IS NOT NULL"
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SQLiteCustomerKeyStore(RotatableKeyStore):
    """`CustomerKeyStore` on the event store's SQLite datastore (and its connection pool)."""

    def __init__(
        self, datastore: SQLiteDatastore, ring: KeyRing, cache: KeyCache | None = None
    ) -> None:
        super().__init__(ring, cache)
        self._datastore = datastore
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(_CREATE)
            cursor.execute(_CREATE_SECRETS)
        pool = datastore.pool
        memory = pool.is_sqlite_memory_mode or pool.db_name.startswith("file:")
        self._shred_log = None if memory else Path(f"{pool.db_name}.shredded")
        self._shred_log_read = self._shred_log_size()  # earlier shreds: nothing cached yet

    def _shred_log_size(self) -> int:
        try:
            return os.stat(self._shred_log).st_size if self._shred_log else 0
        except FileNotFoundError:
            return 0

    def _evict_shredded_elsewhere(self) -> None:
        """Forget the keys other processes shredded since the last look (one `stat`)."""
        size = self._shred_log_size()
        if size <= self._shred_log_read or self._shred_log is None:
            return
        with open(self._shred_log, "rb") as log:
            log.seek(self._shred_log_read)
            appended = log.read(size - self._shred_log_read)
        complete = appended[: appended.rfind(b"\n") + 1]  # a line being written waits
        self._shred_log_read += len(complete)
        for line in complete.split():
            self.forget(UUID(hex=line.decode("ascii")))

    def insert_staged(self, cursor: SQLiteCursor, staged: Sequence[StagedKey]) -> None:
        """Write new key rows with the caller's cursor (inside the events' transaction)."""
        now = _now()
        rows = [(s.key.customer_id.hex, s.wrapped, self.kek_id, now) for s in staged]
        cursor.executemany(_INSERT, rows)

    def _select(self, customer_id: UUID) -> StoredRow | None:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(_SELECT, (customer_id.hex,))
            row = cursor.fetchone()
        return None if row is None else (row[0], row[1])

    def _select_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, StoredRow]:
        by_hex = {customer_id.hex: customer_id for customer_id in customer_ids}
        marks = ",".join("?" * len(by_hex))
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT customer_id, wrapped_key, kek_id FROM customer_keys "  # noqa: S608
                f"WHERE customer_id IN ({marks})",
                tuple(by_hex),
            )
            rows = cursor.fetchall()
        return {by_hex[row[0]]: (row[1], row[2]) for row in rows}

    def _insert_if_absent(self, customer_id: UUID, wrapped: bytes) -> None:
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute(_INSERT_IF_ABSENT, (customer_id.hex, wrapped, self.kek_id, _now()))

    def _tombstone(self, customer_id: UUID) -> None:
        now = _now()
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute("PRAGMA secure_delete = ON")  # overwrite the freed key bytes
            cursor.execute(_TOMBSTONE, (customer_id.hex, self.kek_id, now, now))
        with self._datastore.get_connection(commit=True) as connection:
            truncate_wal(connection)  # the old page with the key was logged
        if self._shred_log is not None:  # tell the other processes sharing the file
            with open(self._shred_log, "ab") as log:
                log.write(customer_id.hex.encode("ascii") + b"\n")

    # -- rotation (`key_rotation.py`) -------------------------------------------------------

    def live_keys_by_kek(self) -> dict[str, int]:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(_LIVE_BY_KEK)
            return {row[0]: int(row[1]) for row in cursor.fetchall()}

    def rows_to_rewrap(self, after: UUID | None, limit: int) -> list[KeyRow]:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(_TO_REWRAP, (after.hex if after else "", self.kek_id, limit))
            return [(UUID(hex=row[0]), row[1], row[2]) for row in cursor.fetchall()]

    def rewrap_rows(self, rows: Sequence[KeyRow]) -> int:
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute("PRAGMA secure_delete = ON")  # the old wrapping's bytes go too
            arguments = [(wrapped, self.kek_id, cid.hex, old) for cid, wrapped, old in rows]
            cursor.executemany(_REWRAP, arguments)
            return int(cursor.sqlite_cursor.rowcount)  # the sum over the rows

    def secret_row(self, name: str) -> tuple[bytes, str] | None:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT wrapped_key, kek_id FROM master_secrets WHERE name = ?", (name,))
            row = cursor.fetchone()
        return None if row is None else (row[0], row[1])

    def put_secret(self, name: str, wrapped: bytes, *, replacing: str | None) -> None:
        with self._datastore.transaction(commit=True) as cursor:
            if replacing is None:
                cursor.execute(
                    "INSERT OR IGNORE INTO master_secrets (name, wrapped_key, kek_id) "
                    "VALUES (?,?,?)",
                    (name, wrapped, self.kek_id),
                )
            else:
                cursor.execute("PRAGMA secure_delete = ON")
                cursor.execute(
                    "UPDATE master_secrets SET wrapped_key = ?, kek_id = ? "
                    "WHERE name = ? AND kek_id = ?",
                    (wrapped, self.kek_id, name, replacing),
                )

    def finish_rotation(self) -> None:
        with self._datastore.get_connection(commit=True) as connection:
            truncate_wal(connection)  # the old wrappings were logged


class KeyedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, also inserting staged key rows in the same transaction."""

    key_store: SQLiteCustomerKeyStore | None = None

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert events and the keys staged for them atomically; cache the keys on commit."""
        store = self._store()
        staged = store.take_staged()
        try:
            ids = super().insert_events(stored_events, customer_keys=staged, **kwargs)
        except IntegrityError as error:
            if KEY_TABLE in str(error):
                store.key_rows_conflicted(staged)
            raise
        store.committed(staged)
        return ids

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        customer_keys: Sequence[StagedKey] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        if customer_keys:
            self._store().insert_staged(c, customer_keys)
        return super()._insert_events(c, stored_events, **kwargs)

    def _store(self) -> SQLiteCustomerKeyStore:
        if self.key_store is None:
            raise ProgrammingError("no customer key store attached to the recorder")
        return self.key_store
