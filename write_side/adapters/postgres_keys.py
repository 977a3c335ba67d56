"""Customer keys in PostgreSQL: table `customer_keys` in the event store's database and schema,
reached through the event store's own psycopg 3 connection pool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from write_side.application.crypto.key_cache import KeyCache
from write_side.application.crypto.key_ring import KeyRing
from write_side.application.crypto.key_rotation import SECRETS_TABLE, KeyRow, RotatableKeyStore
from write_side.application.crypto.key_store import KEY_TABLE, StagedKey, StoredRow


def _statements(schema: str) -> dict[str, Composed]:
    table = SQL("{}.{}").format(Identifier(schema), Identifier(KEY_TABLE))
    insert = SQL("INSERT INTO {} (customer_id, wrapped_key, kek_id) VALUES (%s, %s, %s)").format(
        table
    )
    return {
        "create": SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "customer_id uuid PRIMARY KEY, "
            "wrapped_key bytea, "  # nonce || AES-256-GCM(master, data key); NULL once shredded
            "kek_id text NOT NULL, "  # fingerprint of the wrapping (master-derived) key
            "created_at timestamptz NOT NULL DEFAULT now(), "
            "shredded_at timestamptz)"
        ).format(table),
        "insert": insert,
        "insert_if_absent": insert + SQL(" ON CONFLICT (customer_id) DO NOTHING"),
        "select": SQL("SELECT wrapped_key, kek_id FROM {} WHERE customer_id = %s").format(table),
        "select_many": SQL(
            "SELECT customer_id, wrapped_key, kek_id FROM {} WHERE customer_id = ANY(%s)"
        ).format(table),
        "tombstone": SQL(
            "INSERT INTO {0} (customer_id, wrapped_key, kek_id, shredded_at) "
            "VALUES (%s, NULL, %s, now()) ON CONFLICT (customer_id) DO UPDATE "
            "SET wrapped_key = NULL, shredded_at = COALESCE({0}.shredded_at, now())"
        ).format(table),
        **_rotation_statements(schema, table),
    }


def _rotation_statements(schema: str, table: Composed) -> dict[str, Composed]:
    secrets = SQL("{}.{}").format(Identifier(schema), Identifier(SECRETS_TABLE))
    return {
        "create_secrets": SQL(
            "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, wrapped_key bytea NOT NULL, "
            "kek_id text NOT NULL)"
        ).format(secrets),
        "live_by_kek": SQL(
            "SELECT kek_id, COUNT(*) AS n FROM {} WHERE wrapped_key IS NOT NULL GROUP BY kek_id"
        ).format(table),
        "to_rewrap": SQL(
            "SELECT customer_id, wrapped_key, kek_id FROM {} WHERE customer_id > %s "
            "AND wrapped_key IS NOT NULL AND kek_id <> %s ORDER BY customer_id LIMIT %s"
        ).format(table),
        "rewrap": SQL(
            "UPDATE {} SET wrapped_key = %s, kek_id = %s "
            "WHERE customer_id = %s AND kek_id = %s AND wrapped_key IS NOT NULL"
        ).format(table),
        "secret": SQL("SELECT wrapped_key, kek_id FROM {} WHERE name = %s").format(secrets),
        "insert_secret": SQL(
            "INSERT INTO {} (name, wrapped_key, kek_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO NOTHING"
        ).format(secrets),
        "rewrap_secret": SQL(
            "UPDATE {} SET wrapped_key = %s, kek_id = %s WHERE name = %s AND kek_id = %s"
        ).format(secrets),
    }


class PostgresCustomerKeyStore(RotatableKeyStore):
    """`CustomerKeyStore` on the event store's PostgreSQL datastore."""

    def __init__(
        self, datastore: PostgresDatastore, ring: KeyRing, cache: KeyCache | None = None
    ) -> None:
        if datastore.enable_db_functions:
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS bypasses the recorder hook that writes key rows"
            )
        super().__init__(ring, cache)
        self._datastore = datastore
        self._sql = _statements(datastore.schema)
        try:
            with datastore.transaction(commit=True) as cursor:
                cursor.execute(self._sql["create"])
                cursor.execute(self._sql["create_secrets"])
        except IntegrityError:  # pragma: no cover - another process created it concurrently
            pass

    def insert_staged(self, cursor: Cursor[DictRow], staged: Sequence[StagedKey]) -> None:
        """Write new key rows with the caller's cursor (inside the events' transaction)."""
        rows = [(s.key.customer_id, s.wrapped, self.kek_id) for s in staged]
        cursor.executemany(self._sql["insert"], rows)

    # Single statements on the pool's autocommit connections: one round trip each.

    def _select(self, customer_id: UUID) -> StoredRow | None:
        with self._datastore.get_connection() as connection:
            row = connection.execute(self._sql["select"], (customer_id,)).fetchone()
        return None if row is None else (row["wrapped_key"], row["kek_id"])

    def _select_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, StoredRow]:
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["select_many"], (list(customer_ids),)).fetchall()
        return {row["customer_id"]: (row["wrapped_key"], row["kek_id"]) for row in rows}

    def _insert_if_absent(self, customer_id: UUID, wrapped: bytes) -> None:
        with self._datastore.get_connection() as connection:
            connection.execute(self._sql["insert_if_absent"], (customer_id, wrapped, self.kek_id))

    def _tombstone(self, customer_id: UUID) -> None:
        with self._datastore.get_connection() as connection:
            connection.execute(self._sql["tombstone"], (customer_id, self.kek_id))

    # -- rotation (`key_rotation.py`) -------------------------------------------------------

    def live_keys_by_kek(self) -> dict[str, int]:
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["live_by_kek"]).fetchall()
        return {row["kek_id"]: int(row["n"]) for row in rows}

    def rows_to_rewrap(self, after: UUID | None, limit: int) -> list[KeyRow]:
        start = after or UUID(int=0)
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["to_rewrap"], (start, self.kek_id, limit))
            found = rows.fetchall()
        return [(row["customer_id"], row["wrapped_key"], row["kek_id"]) for row in found]

    def rewrap_rows(self, rows: Sequence[KeyRow]) -> int:
        with self._datastore.transaction(commit=True) as cursor:
            arguments = [(wrapped, self.kek_id, cid, old) for cid, wrapped, old in rows]
            cursor.executemany(self._sql["rewrap"], arguments)
            return int(cursor.rowcount)  # psycopg 3.1+: the sum over the rows

    def secret_row(self, name: str) -> tuple[bytes, str] | None:
        with self._datastore.get_connection() as connection:
            row = connection.execute(self._sql["secret"], (name,)).fetchone()
        return None if row is None else (row["wrapped_key"], row["kek_id"])

    def put_secret(self, name: str, wrapped: bytes, *, replacing: str | None) -> None:
        with self._datastore.get_connection() as connection:
            if replacing is None:
                connection.execute(self._sql["insert_secret"], (name, wrapped, self.kek_id))
            else:
                arguments = (wrapped, self.kek_id, name, replacing)
                connection.execute(self._sql["rewrap_secret"], arguments)


class KeyedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder (table lock kept), also inserting staged key rows in
    the events' transaction through its `_insert_events` extension point."""

    key_store: PostgresCustomerKeyStore | None = None

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert events and the keys staged for them atomically; cache the keys on commit."""
        store = self._store()
        staged = store.take_staged()
        try:
            ids: Sequence[int] | None = super().insert_events(
                stored_events, customer_keys=staged, **kwargs
            )
        except IntegrityError as error:
            if KEY_TABLE in str(error):  # "... constraint "customer_keys_pkey""
                store.key_rows_conflicted(staged)
            raise
        store.committed(staged)
        return ids

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        customer_keys: Sequence[StagedKey] = (),
        **kwargs: Any,
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if customer_keys:
            self._store().insert_staged(curs, customer_keys)

    def _store(self) -> PostgresCustomerKeyStore:
        if self.key_store is None:
            raise ProgrammingError("no customer key store attached to the recorder")
        return self.key_store
