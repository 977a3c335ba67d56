"""The tamper-evident log in PostgreSQL (the event store's schema; see `audit_chain`).

The chain rows are computed by a function in the database (`postgres_chain_sql`) that the
recorder queues right behind the events' insert, once it holds the events' table lock: rows
are chained in commit order even with many writing processes, at no round trip of their own.
The one-off migration calls the same function under the same lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from write_side.adapters.postgres_chain_sql import call_function, create_function
from write_side.application.audit_chain import (
    Checkpoint,
    Sealer,
)
from write_side.application.audit_verify import Flat, Progress, Report, Verifier

BACKFILL = "hash-chain-backfill"


def _statements(schema: str, events: str) -> dict[str, Composed]:
    def name(table: str) -> Composed:
        return SQL("{}.{}").format(Identifier(schema), Identifier(table))

    chain, seals, marks, stored = (
        name("event_chain"),
        name("log_checkpoints"),
        name("audit_marks"),
        name(events),
    )
    # Each event with its chain row, in the events' index order (no sort); ids as 16 bytes.
    joined = (
        "SELECT e.notification_id, uuid_send(e.originator_id), e.originator_version, e.topic,"
        " e.state, uuid_send(c.originator_id), c.originator_version, c.hash, c.log_hash"
        " FROM {} AS e LEFT JOIN {} AS c ON c.position = e.notification_id"
    )
    orphans = (
        "SELECT c.position, uuid_send(c.originator_id), c.originator_version, c.hash, c.log_hash"
        " FROM {} AS c WHERE NOT EXISTS (SELECT 1 FROM {} AS e WHERE e.notification_id ="
        " c.position)"
    )
    return {
        "create": SQL(
            "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, originator_id uuid"
            " NOT NULL, originator_version bigint NOT NULL, hash bytea NOT NULL, log_hash bytea"
            " NOT NULL, UNIQUE (originator_id, originator_version))"
        ).format(chain),
        "create_seals": SQL(
            "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, log_hash bytea NOT NULL,"
            " at text NOT NULL, signature bytea NOT NULL)"
        ).format(seals),
        "create_marks": SQL(
            "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, at timestamptz DEFAULT now(),"
            " events bigint)"
        ).format(marks),
        # One statement per batch, the rows as five arrays: one round trip, not one per row.
        "seal": SQL("INSERT INTO {} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING").format(seals),
        "last_seal": SQL("SELECT COALESCE(MAX(position), 0) AS p FROM {}").format(seals),
        "seals": SQL("SELECT position, log_hash, at, signature FROM {} ORDER BY position").format(
            seals
        ),
        "hashes": SQL(
            "SELECT originator_version AS v, hash FROM {} WHERE originator_id = %s"
        ).format(chain),
        "marked": SQL("SELECT 1 FROM {} WHERE name = %s").format(marks),
        "mark": SQL("INSERT INTO {} (name, events) VALUES (%s, %s)").format(marks),
        "all": SQL(joined + " ORDER BY e.notification_id").format(stored, chain),
        "one": SQL(joined + " WHERE e.originator_id = %s ORDER BY e.notification_id").format(
            stored, chain
        ),
        "count_all": SQL("SELECT COUNT(*) FROM {}").format(chain),
        "count_one": SQL("SELECT COUNT(*) FROM {} WHERE originator_id = %s").format(chain),
        "orphans_all": SQL(orphans + " ORDER BY c.position").format(chain, stored),
        "orphans_one": SQL(orphans + " AND c.originator_id = %s ORDER BY c.position").format(
            chain, stored
        ),
    }


class PostgresAuditChain:
    """Writes and verifies the chain beside a PostgreSQL recorder's events table."""

    def __init__(self, recorder: Any, sealer: Sealer) -> None:
        self._recorder = recorder
        self._datastore = recorder.datastore
        self._sql = _statements(self._datastore.schema, recorder.events_table_name)
        self.sealer = sealer
        self._call = call_function(self._datastore.schema)
        try:
            with self._datastore.transaction(commit=True) as cursor:
                for name in ("create", "create_seals", "create_marks"):
                    cursor.execute(self._sql[name])
                # Processes starting together would race on CREATE OR REPLACE FUNCTION.
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('customers_chain_v1'))")
                cursor.execute(create_function(self._datastore.schema, recorder.events_table_name))
        except IntegrityError:  # pragma: no cover - another process created them concurrently
            pass

    def queue(self, connection: Connection[DictRow]) -> Cursor[DictRow]:
        """Queue the chaining of this transaction's events (in the recorder's pipeline, after
        the events' insert); its answer is read by `seal_after` once the pipeline synced."""
        pending = connection.cursor()
        pending.execute(self._call, prepare=True)
        return pending

    def seal_after(self, pending: Cursor[DictRow], *, force: bool = False) -> int:
        """Read the chaining's answer and write a signed checkpoint when one is due; returns
        how many events were chained."""
        with pending:
            found = pending.fetchone()
            if found is None or not found["chained"]:
                return 0
            if not self.sealer.known():
                last = pending.execute(self._sql["last_seal"]).fetchone()
                self.sealer.remember(int(last["p"]) if last else 0)
            checkpoint = self.sealer.due_at(
                int(found["last_position"]), bytes(found["last_log"]), force=force
            )
            if checkpoint is not None:
                pending.execute(
                    self._sql["seal"],
                    (checkpoint.position, checkpoint.log_hash, checkpoint.at, checkpoint.signature),
                )
            return int(found["chained"])

    def backfill(self) -> int:
        """Seal the events stored before the chain existed (once; recorded in audit_marks).

        The same database function chains them, under the same table lock as the writers."""
        with self._datastore.transaction(commit=True) as curs:
            if curs.execute(self._sql["marked"], (BACKFILL,)).fetchone() is not None:
                return 0
            for statement in self._recorder.lock_table_statements:
                curs.execute(statement, prepare=True)
            if curs.execute(self._sql["marked"], (BACKFILL,)).fetchone() is not None:
                return 0
            chained = self.seal_after(self.queue(curs.connection), force=True)
            curs.execute(self._sql["mark"], (BACKFILL, chained))
            return chained

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, oldest first."""
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["seals"]).fetchall()
        return [
            Checkpoint(int(r["position"]), bytes(r["log_hash"]), r["at"], bytes(r["signature"]))
            for r in rows
        ]

    def hashes(self, customer_id: UUID) -> dict[int, bytes]:
        """The chain hash stored for each version of one aggregate (for its history)."""
        with self._datastore.get_connection() as connection:
            rows = connection.execute(self._sql["hashes"], (customer_id,)).fetchall()
        return {int(r["v"]): bytes(r["hash"]) for r in rows}

    def verify(self, customer_id: UUID | None = None, progress: Progress | None = None) -> Report:
        """Verify the whole log, or one aggregate's chain; see `audit_verify`.

        As on SQLite: the events are streamed with their chain rows in position order, and
        only when the chain holds more rows than were verified, or something was found, is
        the log verified again with the chain rows whose event is gone merged in. Every read
        is in one REPEATABLE READ transaction: one snapshot, whatever is written meanwhile.
        """
        checkpoints = self.checkpoints()
        whole = customer_id is None
        scope, args = ("all", ()) if customer_id is None else ("one", (customer_id,))
        with self._datastore.get_connection() as connection, connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            found = connection.execute(self._sql[f"count_{scope}"], args).fetchone()
            chained = int(found["count"]) if found else 0
            verifier = Verifier(self.sealer.key, checkpoints, whole_log=whole)
            report = verifier.feed(self._joined(connection, scope, args, []), progress)
            if report.ok and report.events == chained:
                return verifier.finish()
            orphans: list[Flat] = [
                (r[0], None, None, None, None, r[1], r[2], r[3], r[4])
                for r in _tuples(connection, self._sql[f"orphans_{scope}"], args)
            ]
            verifier = Verifier(self.sealer.key, checkpoints, whole_log=whole)
            verifier.feed(self._joined(connection, scope, args, orphans), progress)
            return verifier.finish()

    def _joined(
        self,
        connection: Connection[DictRow],
        scope: str,
        args: tuple[UUID, ...],
        orphans: list[Flat],
    ) -> Iterator[Flat]:
        """The log's rows in position order, with `orphans` (chain rows without their event)
        merged in; streamed through a server-side cursor in binary (no hex decoding)."""
        pending = [*orphans, _END]
        orphan = 0
        for row in _tuples(connection, self._sql[scope], args, name="audit_verify"):
            while pending[orphan][0] < row[0]:
                yield pending[orphan]
                orphan += 1
            yield row
        yield from pending[orphan:-1]


_END: Flat = (1 << 62, None, None, None, None, None, None, None, None)


def _tuples(
    connection: Connection[DictRow],
    statement: Composed,
    args: tuple[UUID, ...],
    name: str | None = None,
) -> Iterator[Any]:
    """Rows as plain tuples (of any column types: each query knows its own), in batches; with
    a `name`, a server-side cursor streams them."""
    curs = (
        connection.cursor(name, row_factory=tuple_row, binary=True)
        if name
        else connection.cursor(row_factory=tuple_row, binary=True)
    )
    with curs:
        curs.execute(statement, args)
        while batch := curs.fetchmany(5000):
            yield from batch
