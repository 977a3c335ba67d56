"""The tamper-evident log in the event store's SQLite file (see `audit_chain`).

Chain rows and checkpoints are written by the recorder in the events' own transaction; the
one-off migration seals events stored before the feature and records itself in `audit_marks`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

from write_side.application.audit_chain import (
    ChainRow,
    Checkpoint,
    Head,
    Sealer,
    chain_rows,
    continuing,
)
from write_side.application.audit_verify import Flat, Progress, Report, Verifier
from write_side.application.phone_book import chunks

BACKFILL = "hash-chain-backfill"
_CREATE = (
    "CREATE TABLE IF NOT EXISTS event_chain (position INTEGER PRIMARY KEY, originator_id TEXT,"
    " originator_version INTEGER, hash BLOB, log_hash BLOB)",
    "CREATE UNIQUE INDEX IF NOT EXISTS event_chain_by_aggregate"
    " ON event_chain (originator_id, originator_version)",
    "CREATE TABLE IF NOT EXISTS log_checkpoints (position INTEGER PRIMARY KEY, log_hash BLOB,"
    " at TEXT, signature BLOB)",
    "CREATE TABLE IF NOT EXISTS audit_marks (name TEXT PRIMARY KEY, at TEXT, events INTEGER)",
)
_INSERT = "INSERT INTO event_chain VALUES (?, ?, ?, ?, ?)"
_SEAL = "INSERT OR IGNORE INTO log_checkpoints VALUES (?, ?, ?, ?)"
_HEAD = "SELECT position, log_hash FROM event_chain ORDER BY position DESC LIMIT 1"
_LAST_SEAL = "SELECT COALESCE(MAX(position), 0) FROM log_checkpoints"


def _params(rows: Sequence[ChainRow]) -> list[tuple[int, str, int, bytes, bytes]]:
    return [(r.position, r.originator_id.hex, r.version, r.hash, r.log_hash) for r in rows]


class SQLiteAuditChain:
    """Writes and verifies the chain beside a SQLite recorder's events table."""

    def __init__(self, datastore: SQLiteDatastore, events_table: str, sealer: Sealer) -> None:
        self._datastore = datastore
        self._events = events_table
        self.sealer = sealer
        with datastore.transaction(commit=True) as cursor:
            for statement in _CREATE:
                cursor.execute(statement)

    def write(
        self,
        c: SQLiteCursor,
        stored: Sequence[StoredEvent],
        positions: Sequence[int],
        *,
        seal: bool = False,
    ) -> None:
        """Chain a batch with the caller's cursor (inside the events' write transaction)."""
        previous = self._previous(c, continuing(stored))
        c.execute(_HEAD)
        found = c.fetchone()
        head: Head | None = (int(found[0]), bytes(found[1])) if found else None
        rows = chain_rows(stored, positions, previous, head)
        c.executemany(_INSERT, _params(rows))
        if not self.sealer.known():
            c.execute(_LAST_SEAL)
            self.sealer.remember(int(c.fetchone()[0]))
        checkpoint = self.sealer.due(rows, force=seal)
        if checkpoint is not None:
            c.execute(
                _SEAL,
                (checkpoint.position, checkpoint.log_hash, checkpoint.at, checkpoint.signature),
            )

    def _previous(self, c: SQLiteCursor, oids: list[UUID]) -> dict[UUID, bytes]:
        found: dict[UUID, bytes] = {}
        for chunk in chunks(oids):
            marks = ",".join("?" * len(chunk))
            c.execute(
                "SELECT originator_id, hash FROM event_chain AS e WHERE originator_id IN"  # noqa: S608
                f" ({marks}) AND originator_version = (SELECT MAX(originator_version)"
                " FROM event_chain WHERE originator_id = e.originator_id)",
                [oid.hex for oid in chunk],
            )
            found.update((UUID(row[0]), bytes(row[1])) for row in c.fetchall())
        return found

    def backfill(self) -> int:
        """Seal the events stored before the chain existed (once; recorded in audit_marks)."""
        with self._datastore.transaction(commit=True) as c:
            c.execute("SELECT events FROM audit_marks WHERE name = ?", (BACKFILL,))
            if c.fetchone() is not None:
                return 0
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {self._events}"  # noqa: S608
                " WHERE rowid > COALESCE((SELECT MAX(position) FROM event_chain), 0) ORDER BY rowid"
            )
            found = c.fetchall()
            events = [StoredEvent(UUID(r[1]), r[2], r[3], bytes(r[4])) for r in found]
            if events:
                self.write(c, events, [int(r[0]) for r in found], seal=True)
            c.execute(
                "INSERT INTO audit_marks VALUES (?, datetime('now'), ?)", (BACKFILL, len(events))
            )
            return len(events)

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, oldest first."""
        with self._datastore.transaction(commit=False) as c:
            c.execute("SELECT position, log_hash, at, signature FROM log_checkpoints ORDER BY 1")
            return [Checkpoint(int(r[0]), bytes(r[1]), r[2], bytes(r[3])) for r in c.fetchall()]

    def hashes(self, customer_id: UUID) -> dict[int, bytes]:
        """The chain hash stored for each version of one aggregate (for its history)."""
        with self._datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_version, hash FROM event_chain WHERE originator_id = ?",
                (customer_id.hex,),
            )
            return {int(r[0]): bytes(r[1]) for r in c.fetchall()}

    def verify(self, customer_id: UUID | None = None, progress: Progress | None = None) -> Report:
        """Verify the whole log, or one aggregate's chain; see `audit_verify`.

        The events are read in rowid order, each with its chain row (no sort). A chain row
        whose event was deleted has no event to be read with: when the chain holds more rows
        than were verified, or something was found, the log is verified again with those
        rows merged in by position, so the first finding is named exactly as before.
        """
        checkpoints = self.checkpoints()
        whole = customer_id is None
        with self._datastore.transaction(commit=False) as c:  # one snapshot for every read
            where, args = _only(customer_id, " WHERE originator_id = ?")
            c.execute(f"SELECT COUNT(*) FROM event_chain{where}", args)  # noqa: S608
            chained = int(c.fetchone()[0])
            verifier = Verifier(self.sealer.key, checkpoints, whole_log=whole)
            report = verifier.feed(self._joined(c, customer_id, []), progress)
            if report.ok and report.events == chained:
                return verifier.finish()
            verifier = Verifier(self.sealer.key, checkpoints, whole_log=whole)
            verifier.feed(self._joined(c, customer_id, self._orphans(c, customer_id)), progress)
            return verifier.finish()

    def _orphans(self, c: SQLiteCursor, customer_id: UUID | None) -> list[Flat]:
        """Chain rows whose event is gone, in position order."""
        where, args = _only(customer_id, " AND c.originator_id = ?")
        c.execute(
            "SELECT c.position, c.originator_id, c.originator_version, c.hash, c.log_hash"  # noqa: S608
            f" FROM event_chain AS c WHERE NOT EXISTS (SELECT 1 FROM {self._events} AS e"
            f" WHERE e.rowid = c.position){where} ORDER BY c.position",
            args,
        )
        return [
            (r[0], None, None, None, None, bytes.fromhex(r[1]), r[2], r[3], r[4])
            for r in c.fetchall()
        ]

    def _joined(
        self, c: SQLiteCursor, customer_id: UUID | None, orphans: list[Flat]
    ) -> Iterator[Flat]:
        """The log's rows in position order: each event with its chain row, read in rowid
        order, with `orphans` (chain rows without their event) merged in."""
        where, args = _only(customer_id, " WHERE e.originator_id = ?")
        c.execute(
            "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state,"  # noqa: S608
            " c.originator_id, c.originator_version, c.hash, c.log_hash"
            f" FROM {self._events} AS e LEFT JOIN event_chain AS c ON c.position = e.rowid"
            f"{where} ORDER BY e.rowid",
            args,
        )
        ids: dict[str, bytes] = {}  # hex id -> its 16 bytes, each parsed once
        pending = [*orphans, _END]
        orphan = 0
        while batch := c.sqlite_cursor.fetchmany(5000):  # streamed: a large log fits in memory
            for position, hex_id, version, topic, state, c_hex, c_version, hash_, log in batch:
                while pending[orphan][0] < position:
                    yield pending[orphan]
                    orphan += 1
                oid = ids.get(hex_id) or ids.setdefault(hex_id, bytes.fromhex(hex_id))
                c_oid = oid if c_hex == hex_id else bytes.fromhex(c_hex) if c_hex else None
                yield position, oid, version, topic, state, c_oid, c_version, hash_, log
        yield from pending[orphan:-1]


def _only(customer_id: UUID | None, clause: str) -> tuple[str, list[str]]:
    """The clause and its argument that keep one aggregate's rows (none for the whole log)."""
    return ("", []) if customer_id is None else (clause, [customer_id.hex])


_END: Flat = (1 << 62, None, None, None, None, None, None, None, None)
