"""The tamper-evident log in PostgreSQL (the event store's schema; see `audit_chain`).

The recorder writes chain rows once it holds the events' table lock, so rows are chained in
commit order even with many writing processes; the one-off migration takes the same lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from write_side.application.audit_chain import (
    ChainRow,
    Checkpoint,
    Head,
    Sealer,
    chain_rows,
    continuing,
)
from write_side.application.audit_verify import Joined, Progress, Report, StoredRow, Verifier

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
    joined = (
        "SELECT COALESCE(e.notification_id, c.position) AS position, e.originator_id,"
        " e.originator_version, e.topic, e.state, c.originator_id AS c_id,"
        " c.originator_version AS c_version, c.hash, c.log_hash FROM {} AS e"
        " FULL JOIN {} AS c ON c.position = e.notification_id"
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
        "insert": SQL(
            "INSERT INTO {} SELECT * FROM unnest(%s::bigint[], %s::uuid[], %s::bigint[],"
            " %s::bytea[], %s::bytea[])"
        ).format(chain),
        "seal": SQL("INSERT INTO {} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING").format(seals),
        "head": SQL("SELECT position, log_hash FROM {} ORDER BY position DESC LIMIT 1").format(
            chain
        ),
        "last_seal": SQL("SELECT COALESCE(MAX(position), 0) AS p FROM {}").format(seals),
        "previous": SQL(
            "SELECT DISTINCT ON (originator_id) originator_id, hash FROM {} WHERE originator_id"
            " = ANY(%s) ORDER BY originator_id, originator_version DESC"
        ).format(chain),
        "seals": SQL("SELECT position, log_hash, at, signature FROM {} ORDER BY position").format(
            seals
        ),
        "hashes": SQL(
            "SELECT originator_version AS v, hash FROM {} WHERE originator_id = %s"
        ).format(chain),
        "marked": SQL("SELECT 1 FROM {} WHERE name = %s").format(marks),
        "mark": SQL("INSERT INTO {} (name, events) VALUES (%s, %s)").format(marks),
        "unchained": SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
            " WHERE notification_id > COALESCE((SELECT MAX(position) FROM {}), 0)"
            " ORDER BY notification_id"
        ).format(stored, chain),
        "all": SQL(joined + " ORDER BY 1").format(stored, chain),
        "one": SQL(
            joined + " WHERE e.originator_id = %s OR c.originator_id = %s ORDER BY 1"
        ).format(stored, chain),
    }


class PostgresAuditChain:
    """Writes and verifies the chain beside a PostgreSQL recorder's events table."""

    def __init__(self, recorder: Any, sealer: Sealer) -> None:
        self._recorder = recorder
        self._datastore = recorder.datastore
        self._sql = _statements(self._datastore.schema, recorder.events_table_name)
        self.sealer = sealer
        try:
            with self._datastore.transaction(commit=True) as cursor:
                for name in ("create", "create_seals", "create_marks"):
                    cursor.execute(self._sql[name])
        except IntegrityError:  # pragma: no cover - another process created them concurrently
            pass

    def write(
        self,
        curs: Cursor[DictRow],
        stored: Sequence[StoredEvent],
        positions: Sequence[int],
        *,
        seal: bool = False,
    ) -> None:
        """Chain a batch with the caller's connection (inside the events' transaction)."""
        oids = continuing(stored)
        previous: dict[UUID, bytes] = {}
        if oids:
            curs.execute(self._sql["previous"], (oids,))
            previous = {row["originator_id"]: bytes(row["hash"]) for row in curs.fetchall()}
        found = curs.execute(self._sql["head"]).fetchone()
        head: Head | None = (int(found["position"]), bytes(found["log_hash"])) if found else None
        rows = chain_rows(stored, positions, previous, head)
        if rows:
            curs.execute(self._sql["insert"], [list(column) for column in zip(*rows, strict=True)])
        if not self.sealer.known():
            last = curs.execute(self._sql["last_seal"]).fetchone()
            self.sealer.remember(int(last["p"]) if last else 0)
        checkpoint = self.sealer.due(rows, force=seal)
        if checkpoint is not None:
            curs.execute(
                self._sql["seal"],
                (checkpoint.position, checkpoint.log_hash, checkpoint.at, checkpoint.signature),
            )

    def backfill(self) -> int:
        """Seal the events stored before the chain existed (once; recorded in audit_marks)."""
        with self._datastore.transaction(commit=True) as curs:
            if curs.execute(self._sql["marked"], (BACKFILL,)).fetchone() is not None:
                return 0
            for statement in self._recorder.lock_table_statements:
                curs.execute(statement, prepare=True)
            if curs.execute(self._sql["marked"], (BACKFILL,)).fetchone() is not None:
                return 0
            found = curs.execute(self._sql["unchained"]).fetchall()
            events = [
                StoredEvent(
                    r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])
                )
                for r in found
            ]
            if events:
                self.write(curs, events, [int(r["notification_id"]) for r in found], seal=True)
            curs.execute(self._sql["mark"], (BACKFILL, len(events)))
            return len(events)

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
        """Verify the whole log, or one aggregate's chain; see `audit_verify`."""
        verifier = Verifier(self.sealer.key, self.checkpoints(), whole_log=customer_id is None)
        with (
            self._datastore.get_connection() as connection,
            connection.transaction(),
            connection.cursor(name="audit_verify") as curs,
        ):
            if customer_id is None:
                curs.execute(self._sql["all"])
            else:
                curs.execute(self._sql["one"], (customer_id, customer_id))
            verifier.feed(_joined(curs), progress)
        return verifier.finish()


def _joined(curs: Cursor[DictRow]) -> Iterator[Joined]:
    while batch := curs.fetchmany(5000):
        for r in batch:
            position = int(r["position"])
            stored = None
            if r["originator_id"] is not None:
                stored = StoredRow(
                    position,
                    r["originator_id"],
                    r["originator_version"],
                    r["topic"],
                    bytes(r["state"]),
                )
            chain = None
            if r["c_id"] is not None:
                chain = ChainRow(
                    position, r["c_id"], r["c_version"], bytes(r["hash"]), bytes(r["log_hash"])
                )
            yield position, stored, chain
