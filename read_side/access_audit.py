"""Who read or exported which customer's personal data, when and why (no personal values)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

AccessRecord = dict[str, Any]


class AccessAudit(Protocol):
    """Append-only access log."""

    async def record(self, entry: AccessRecord) -> None:
        """Store one access: tenantId, customerId (or customerIds for a list page), actor, at,
        action, purpose."""
        ...

    async def list(self, tenant_id: str, customer_id: str, limit: int = 1000) -> list[AccessRecord]:
        """Accesses to one customer, newest first."""
        ...


class SQLiteAccessAudit:
    """Embedded access log (table `access_audit` in the read-model file)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self._path, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS access_audit (tenant_id TEXT, customer_id TEXT, "
                "at TEXT, entry TEXT)"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS access_audit_customer "
                "ON access_audit (tenant_id, customer_id, at)"
            )
        return self._db

    def _insert(self, entry: AccessRecord) -> None:
        """A list page's entry is filed under each customer it names, so each finds it."""
        text = json.dumps(entry)
        ids = entry.get("customerIds") or [entry["customerId"]]
        with self._lock:
            db = self._connection()
            with db:
                db.executemany(
                    "INSERT INTO access_audit VALUES (?, ?, ?, ?)",
                    [(entry["tenantId"], cid, entry["at"], text) for cid in ids],
                )

    def _select(self, tenant_id: str, customer_id: str, limit: int) -> list[AccessRecord]:
        with self._lock:
            rows = self._connection().execute(
                "SELECT entry FROM access_audit WHERE tenant_id = ? AND customer_id = ? "
                "ORDER BY at DESC, rowid DESC LIMIT ?",
                (tenant_id, customer_id, limit),
            )
            return [json.loads(row[0]) for row in rows]

    async def record(self, entry: AccessRecord) -> None:
        """Store one access."""
        await asyncio.to_thread(self._insert, entry)

    async def list(self, tenant_id: str, customer_id: str, limit: int = 1000) -> list[AccessRecord]:
        """Accesses to one customer, newest first."""
        return await asyncio.to_thread(self._select, tenant_id, customer_id, limit)

    async def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            self._db.close()
            self._db = None


class MongoAccessAudit:
    """Access log in the MongoDB read database (collection `access_audit`)."""

    def __init__(self, client: Any, database: str) -> None:
        self._collection = client[database]["access_audit"]

    async def record(self, entry: AccessRecord) -> None:
        """Store one access."""
        await self._collection.insert_one(dict(entry))

    async def list(self, tenant_id: str, customer_id: str, limit: int = 1000) -> list[AccessRecord]:
        """Accesses to one customer, newest first."""
        either = [{"customerId": customer_id}, {"customerIds": customer_id}]
        cursor = self._collection.find({"tenantId": tenant_id, "$or": either}, {"_id": 0}).sort(
            [("at", -1), ("_id", -1)]
        )
        return [entry async for entry in cursor.limit(limit)]

    async def close(self) -> None:
        """The client belongs to the caller."""
