"""Security alerts, kept beside the read models: read by `GET /audit/alerts` and published
once as `security.alert` by the relay (the store is its outbox: `published` flips after the
broker confirmed)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # pymongo is imported only with a MongoDB URL
    from pymongo import AsyncMongoClient

from read_side.access_audit import when_unlocked
from shared.json_types import JSONObject

AlertDoc = JSONObject


class AlertStore(Protocol):
    """Port."""

    async def add(self, alert: AlertDoc) -> None:
        """Store one alert, unpublished."""
        ...

    async def recent(self, tenant: str, unauthenticated: bool, limit: int) -> list[AlertDoc]:
        """The tenant's alerts (and those about unauthenticated clients when asked), newest
        first."""
        ...

    async def unpublished(self, limit: int) -> list[AlertDoc]:
        """Alerts not yet confirmed by the broker, oldest first."""
        ...

    async def mark_published(self, ids: list[str]) -> None:
        """The broker confirmed these."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release what the store owns (not a client it was given)."""
        ...


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS security_alerts (id TEXT PRIMARY KEY, "
    "tenant TEXT, at TEXT, alert TEXT, published INTEGER DEFAULT 0)"
)


class SQLiteAlertStore:
    """Embedded: table `security_alerts` in the read-model file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _run(self, sql: str, args: tuple[str | int | None, ...] = ()) -> list[tuple[str, ...]]:
        with self._lock:
            if self._db is None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self._path, check_same_thread=False, timeout=10)
                db = self._db
                when_unlocked(lambda: db.execute("PRAGMA journal_mode=WAL"))
                when_unlocked(lambda: db.execute(_SCHEMA))
            with self._db:
                return self._db.execute(sql, args).fetchall()

    async def add(self, alert: AlertDoc) -> None:
        """See `AlertStore.add`."""
        sql = "INSERT OR IGNORE INTO security_alerts (id, tenant, at, alert) VALUES (?, ?, ?, ?)"
        args = (alert["id"], alert["tenant"], alert["at"], json.dumps(alert))
        await asyncio.to_thread(self._run, sql, args)

    async def recent(self, tenant: str, unauthenticated: bool, limit: int) -> list[AlertDoc]:
        """See `AlertStore.recent`."""
        sql = (
            "SELECT alert FROM security_alerts WHERE tenant = ? OR (? AND tenant IS NULL) "
            "ORDER BY at DESC, rowid DESC LIMIT ?"
        )
        rows = await asyncio.to_thread(self._run, sql, (tenant, int(unauthenticated), limit))
        return [json.loads(row[0]) for row in rows]

    async def unpublished(self, limit: int) -> list[AlertDoc]:
        """See `AlertStore.unpublished`."""
        sql = "SELECT alert FROM security_alerts WHERE published = 0 ORDER BY rowid LIMIT ?"
        return [json.loads(r[0]) for r in await asyncio.to_thread(self._run, sql, (limit,))]

    async def mark_published(self, ids: list[str]) -> None:
        """See `AlertStore.mark_published`."""
        marks = ", ".join("?" * len(ids))
        sql = f"UPDATE security_alerts SET published = 1 WHERE id IN ({marks})"  # noqa: S608
        await asyncio.to_thread(self._run, sql, tuple(ids))

    async def close(self) -> None:
        """Close the connection once a query in flight is done: its caller may have been
        cancelled, but its worker thread still uses the connection (closing it under that
        thread crashed the process)."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class MongoAlertStore:
    """Collection `security_alerts` in the MongoDB read database."""

    def __init__(self, client: AsyncMongoClient[JSONObject], database: str) -> None:
        self._alerts = client[database]["security_alerts"]

    async def add(self, alert: AlertDoc) -> None:
        """See `AlertStore.add`."""
        await self._alerts.insert_one({"_id": alert["id"], **alert, "published": False})

    async def recent(self, tenant: str, unauthenticated: bool, limit: int) -> list[AlertDoc]:
        """See `AlertStore.recent`."""
        either: list[JSONObject] = [{"tenant": tenant}]
        if unauthenticated:
            either.append({"tenant": None})
        cursor = self._alerts.find({"$or": either}, {"_id": 0, "published": 0})
        return [doc async for doc in cursor.sort("at", -1).limit(limit)]

    async def unpublished(self, limit: int) -> list[AlertDoc]:
        """See `AlertStore.unpublished`."""
        cursor = self._alerts.find({"published": False}, {"_id": 0, "published": 0})
        return [doc async for doc in cursor.sort("at", 1).limit(limit)]

    async def mark_published(self, ids: list[str]) -> None:
        """See `AlertStore.mark_published`."""
        await self._alerts.update_many({"_id": {"$in": ids}}, {"$set": {"published": True}})

    async def close(self) -> None:
        """The client belongs to the caller."""
