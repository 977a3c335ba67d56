"""The phone book in PostgreSQL (the event store's database and schema), and the recorder
that writes it after taking the events' table lock, so rows are written in commit order."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from write_side.adapters.postgres_audit_chain import PostgresAuditChain
from write_side.adapters.postgres_keys import KeyedPostgresApplicationRecorder
from write_side.application.phone_book import PhoneBook, PhoneRows, chunks, ordered_rows


def _statements(schema: str) -> dict[str, Composed]:
    table = SQL("{}.{}").format(Identifier(schema), Identifier("phone_holders"))
    marks = SQL("{}.{}").format(Identifier(schema), Identifier("phone_holders_marks"))
    insert = SQL("INSERT INTO {} (customer_id, phone_key) VALUES (%s, %s)").format(table)
    return {
        "create": SQL(
            "CREATE TABLE IF NOT EXISTS {} (customer_id uuid PRIMARY KEY, phone_key uuid)"
        ).format(table),
        "index": SQL("CREATE INDEX IF NOT EXISTS {} ON {} (phone_key)").format(
            Identifier("phone_holders_by_key"), table
        ),
        "create_marks": SQL(
            "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, at timestamptz DEFAULT now())"
        ).format(marks),
        "upsert": insert
        + SQL(" ON CONFLICT (customer_id) DO UPDATE SET phone_key = EXCLUDED.phone_key"),
        "insert_missing": insert + SQL(" ON CONFLICT (customer_id) DO NOTHING"),
        "holders": SQL("SELECT customer_id FROM {} WHERE phone_key = %s LIMIT %s").format(table),
        "holders_of": SQL(
            "SELECT phone_key, customer_id FROM (SELECT phone_key, customer_id, row_number() "
            "OVER (PARTITION BY phone_key) AS n FROM {} WHERE phone_key = ANY(%s)) ranked "
            "WHERE n <= %s"
        ).format(table),
        "is_marked": SQL("SELECT 1 FROM {} WHERE name = %s").format(marks),
        "mark": SQL("INSERT INTO {} (name) VALUES (%s) ON CONFLICT DO NOTHING").format(marks),
    }


class PostgresPhoneBook(PhoneBook):
    """`PhoneBook` on the event store's PostgreSQL datastore."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._sql = _statements(datastore.schema)
        try:
            with datastore.transaction(commit=True) as cursor:
                for name in ("create", "index", "create_marks"):
                    cursor.execute(self._sql[name])
        except IntegrityError:  # pragma: no cover - another process created them concurrently
            pass

    def write(self, cursor: Cursor[DictRow], rows: PhoneRows) -> None:
        """Upsert rows with the caller's cursor (inside the events' transaction)."""
        cursor.executemany(self._sql["upsert"], ordered_rows(rows))

    def holders(self, phone_key: UUID, *, limit: int = 2) -> list[UUID]:
        """Up to `limit` current holders (an index range read)."""
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["holders"], (phone_key, limit)).fetchall()
        return [row["customer_id"] for row in rows]

    def holders_of(self, phone_keys: Sequence[UUID], *, limit: int = 2) -> dict[UUID, list[UUID]]:
        """Up to `limit` holders of each phone, in one query (one round trip a batch)."""
        found: dict[UUID, list[UUID]] = {key: [] for key in phone_keys}
        if not found:
            return found
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["holders_of"], (list(found), limit)).fetchall()
        for row in rows:
            found[row["phone_key"]].append(row["customer_id"])
        return found

    def insert_missing(self, rows: PhoneRows) -> int:
        """Insert rows for customers without one; returns how many were new."""
        with self._datastore.transaction(commit=True) as cursor:
            count = 0
            for row in ordered_rows(rows):
                cursor.execute(self._sql["insert_missing"], row)
                count += max(cursor.rowcount, 0)
            return count

    def is_marked(self, name: str) -> bool:
        """True once the one-off step `name` completed."""
        with self._datastore.get_connection() as connection:
            return connection.execute(self._sql["is_marked"], (name,)).fetchone() is not None

    def mark(self, name: str) -> None:
        """Record that the one-off step `name` completed."""
        with self._datastore.get_connection() as connection:
            connection.execute(self._sql["mark"], (name,))


class CustomersPostgresRecorder(KeyedPostgresApplicationRecorder):
    """The keyed PostgreSQL recorder, also upserting phone rows once it holds the table lock
    (rows in customer-id order: no lock-order deadlocks between writers)."""

    phone_book: PostgresPhoneBook | None = None
    audit_chain: PostgresAuditChain | None = None
    #: The chaining statement queued by this thread's transaction, until its answer is read.
    _chaining = threading.local()

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        phone_rows: PhoneRows | None = None,
        **kwargs: Any,
    ) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)
        if phone_rows and self.phone_book is not None:
            # Another cursor: `curs` must still hold the insert's notification ids.
            with curs.connection.cursor() as other:
                self.phone_book.write(other, phone_rows)
        if stored_events and self.audit_chain is not None:
            # Pipelined behind the insert, before the library syncs: no round trip of its own.
            self._chaining.pending = self.audit_chain.queue(curs.connection)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's notification ids; then the chaining's answer (already synced) and,
        when due, a signed checkpoint (same transaction)."""
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        pending: Cursor[DictRow] | None = getattr(self._chaining, "pending", None)
        self._chaining.pending = None
        if pending is not None and self.audit_chain is not None:
            self.audit_chain.seal_after(pending)
        return ids

    def latest_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The highest stored version of each aggregate that has events (one query a chunk)."""
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        statement = SQL(
            "SELECT originator_id, MAX(originator_version) AS version FROM {} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(table)
        found: dict[UUID, int] = {}
        with self.datastore.get_connection() as connection:
            for chunk in chunks(list(dict.fromkeys(originator_ids))):
                rows = connection.execute(statement, (list(chunk),)).fetchall()
                found.update((row["originator_id"], int(row["version"])) for row in rows)
        return found

    def select_events_after(self, wanted: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """The events of several aggregates after a version each (0: all of them), in one
        query a chunk, ordered by aggregate and version: a batch of notifications brings its
        customers up to date in one round trip instead of one `select_events` each."""
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM {} e "
            "JOIN unnest(%s::uuid[], %s::bigint[]) AS w(id, after) "
            "ON e.originator_id = w.id AND e.originator_version > w.after "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(table)
        found: list[StoredEvent] = []
        with self.datastore.get_connection() as connection:
            after = dict(wanted)
            for chunk in chunks(list(after)):
                ids, afters = list(chunk), [after[oid] for oid in chunk]
                rows = connection.execute(statement, (ids, afters)).fetchall()
                found += [
                    StoredEvent(row["originator_id"], row["originator_version"], row["topic"],
                                bytes(row["state"]))
                    for row in rows
                ]  # fmt: skip
        return found
