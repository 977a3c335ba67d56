"""Who read or exported which customer's personal data, when and why (no personal values).

Append-only and verifiable: every tenant's entries form a keyed hash chain (`access_chain`).
Entries are written in group commits per tenant — the reads waiting at one moment share one
write — so the chain costs no extra round trip per read, and a read still returns only once
its entry is stored (fail closed).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.json_types import JSONObject

if TYPE_CHECKING:  # pymongo is imported only with a MongoDB URL
    from pymongo import AsyncMongoClient

from read_side.access_chain import (
    INDEXED,
    AccessRecord,
    AccessReport,
    Head,
    chained,
    customer_ids,
    verify,
)

__all__ = ["AccessAudit", "AccessRecord", "GroupCommit", "SQLiteAccessAudit", "customer_ids"]


class AccessAudit(Protocol):
    """Append-only, hash-chained access log."""

    async def record(self, entry: AccessRecord) -> None:
        """Store one access: tenantId, customerId (or customerIds and count for a list page),
        actor, roles, at, action, purpose."""
        ...

    async def list(self, tenant_id: str, customer_id: str, limit: int = 1000) -> list[AccessRecord]:
        """Accesses to one customer, newest first, each with its `seq` and `hash`."""
        ...

    async def verify(self, tenant_id: str | None = None) -> AccessReport:
        """Check one tenant's chain, or every tenant's."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release what the store owns (not a client it was given)."""
        ...


class GroupCommit:
    """Queues entries per tenant; one writer task per tenant appends whatever is queued in
    one batch. A caller that gives up (timeout) does not interrupt the batch of the others."""

    def __init__(self) -> None:
        self._pending: dict[str, list[tuple[AccessRecord, asyncio.Future[None]]]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def record(self, entry: AccessRecord) -> None:
        """Store one access; returns once it is stored (raises what the store raised)."""
        tenant = str(entry["tenantId"])
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(tenant, []).append((entry, done))
        if tenant not in self._writers:
            self._writers[tenant] = asyncio.create_task(self._drain(tenant))
        await done

    async def _drain(self, tenant: str) -> None:
        try:
            while batch := self._pending.pop(tenant, []):
                try:
                    await self._append(tenant, [entry for entry, _ in batch])
                except Exception as error:
                    outcome: Exception | None = error
                else:
                    outcome = None
                for _, done in batch:
                    if done.done():
                        continue
                    if outcome is None:
                        done.set_result(None)
                    else:
                        done.set_exception(outcome)
        finally:
            del self._writers[tenant]

    async def _append(self, tenant: str, entries: Sequence[AccessRecord]) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        """Wait for the batches in flight (on shutdown)."""
        await asyncio.gather(*self._writers.values(), return_exceptions=True)


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS access_log (tenant_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "at TEXT, entry TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (tenant_id, seq))",
    "CREATE TABLE IF NOT EXISTS access_log_customers (tenant_id TEXT, customer_id TEXT, "
    "seq INTEGER)",
    "CREATE INDEX IF NOT EXISTS access_log_by_customer "
    "ON access_log_customers (tenant_id, customer_id, seq)",
    "CREATE INDEX IF NOT EXISTS access_log_by_seq ON access_log_customers (tenant_id, seq)",
    "CREATE TABLE IF NOT EXISTS access_log_migrations (name TEXT PRIMARY KEY, at TEXT, "
    "entries INTEGER)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END"
        for verb in ("UPDATE", "DELETE")
        for table in ("access_log", "access_log_customers")
    ),
)


def when_unlocked(step: Callable[[], object], attempts: int = 100) -> None:
    """Run a statement, retried while SQLite answers "database is locked" at once, without its
    busy wait (another process opening the file: WAL recovery, the journal-mode switch)."""
    for attempt in range(attempts):
        try:
            step()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * min(attempt + 1, 10))


def begin_immediate(db: sqlite3.Connection) -> None:
    """`BEGIN IMMEDIATE` (see `when_unlocked`)."""
    when_unlocked(lambda: db.execute("BEGIN IMMEDIATE"))


_VERIFY_SQL = (
    "SELECT tenant_id, seq, entry, hash, (SELECT json_group_array(customer_id) FROM "
    "access_log_customers c WHERE c.tenant_id = l.tenant_id AND c.seq = l.seq) "
    "FROM access_log l {where} ORDER BY tenant_id, seq"
)


class SQLiteAccessAudit(GroupCommit):
    """Embedded access log (table `access_log` in the read-model file; triggers refuse updates
    and deletes through SQL, the chain shows any edit made around them)."""

    def __init__(self, path: Path, key: bytes) -> None:
        super().__init__()
        self._path = path
        self._key = key
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self._path, check_same_thread=False, timeout=10, isolation_level=None
            )
            when_unlocked(lambda: db.execute("PRAGMA journal_mode=WAL"))
            for statement in _SCHEMA:
                when_unlocked(lambda: db.execute(statement))  # noqa: B023 - called at once
            self._db = db
            self._seal_unchained(db)
        return self._db

    def _write(self, db: sqlite3.Connection, tenant: str, entries: Sequence[AccessRecord]) -> None:
        """Append within the caller's transaction (the head is read under its write lock)."""
        last = db.execute(
            "SELECT seq, hash FROM access_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1",
            (tenant,),
        ).fetchone()
        head: Head | None = (int(last[0]), bytes.fromhex(last[1])) if last else None
        rows = chained(self._key, tenant, head, entries)
        db.executemany(
            "INSERT INTO access_log VALUES (?, ?, ?, ?, ?)",
            [(tenant, r["seq"], r.get("at"), json.dumps(entry), r["hash"])
             for r, entry in zip(rows, entries, strict=True)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO access_log_customers VALUES (?, ?, ?)",
            [(tenant, cid, r["seq"]) for r in rows for cid in customer_ids(r)],
        )

    def _insert(self, tenant: str, entries: Sequence[AccessRecord]) -> None:
        with self._lock:
            db = self._connection()
            begin_immediate(db)
            try:
                self._write(db, tenant, entries)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _seal_unchained(self, db: sqlite3.Connection) -> None:
        """One-off, recorded migration: entries of the unchained `access_audit` table (one row
        per customer named) are chained once each, in the order they were written."""
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'access_audit'").fetchone():
            return
        begin_immediate(db)
        try:
            rows = db.execute(
                "SELECT tenant_id, entry FROM access_audit GROUP BY tenant_id, entry "
                "ORDER BY MIN(rowid)"
            ).fetchall()
            for tenant, text in rows:
                self._write(db, tenant, [json.loads(text)])
            db.execute("ALTER TABLE access_audit RENAME TO access_audit_unchained")
            db.execute(
                "INSERT INTO access_log_migrations VALUES ('seal-access-audit', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)",
                (len(rows),),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _select(self, tenant_id: str, customer_id: str, limit: int) -> list[AccessRecord]:
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT l.entry, l.seq, l.hash FROM access_log_customers c JOIN access_log l "
                    "ON l.tenant_id = c.tenant_id AND l.seq = c.seq "
                    "WHERE c.tenant_id = ? AND c.customer_id = ? ORDER BY c.seq DESC LIMIT ?",
                    (tenant_id, customer_id, limit),
                )
                .fetchall()
            )
        return [json.loads(text) | {"seq": seq, "hash": digest} for text, seq, digest in rows]

    def _verify(self, tenant_id: str | None) -> AccessReport:
        where, args = ("WHERE tenant_id = ?", (tenant_id,)) if tenant_id else ("", ())
        with self._lock:
            db = self._connection()
            # `where` is one of two constant strings; the tenant is a bound parameter.
            cursor = db.execute(_VERIFY_SQL.format(where=where), args)
            rows = (
                json.loads(text)
                | {"tenantId": tenant, "seq": seq, "hash": digest, INDEXED: json.loads(ids)}
                for tenant, seq, text, digest, ids in cursor
            )
            return verify(self._key, rows)

    async def _append(self, tenant: str, entries: Sequence[AccessRecord]) -> None:
        await asyncio.to_thread(self._insert, tenant, entries)

    async def list(self, tenant_id: str, customer_id: str, limit: int = 1000) -> list[AccessRecord]:
        """Accesses to one customer, newest first."""
        return await asyncio.to_thread(self._select, tenant_id, customer_id, limit)

    async def verify(self, tenant_id: str | None = None) -> AccessReport:
        """See `AccessAudit.verify`."""
        return await asyncio.to_thread(self._verify, tenant_id)

    async def close(self) -> None:
        """Finish the batches in flight, then close the connection."""
        await self.drain()
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        """Under the lock, as in the alert store: never free the connection under a query."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def open_mongo_audit(
    client: AsyncMongoClient[JSONObject], database: str, key: bytes
) -> AccessAudit:
    """The MongoDB adapter (imported lazily: pymongo is only needed with a Mongo URL)."""
    from read_side.access_audit_mongo import MongoAccessAudit

    return MongoAccessAudit(client, database, key)
