"""Checkpoints for projections that keep no read model of their own (the broker relay).

They live where the read models keep theirs, in the same format: SQLite table
`projection_checkpoints(name, generation, position)` and MongoDB collection
`projection_checkpoints` with `_id = "{name}:g{generation}"`. A checkpoint only moves forward:
storing an older position keeps the newer one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from read_side.store.mongo_checkpoint import write_checkpoint
from shared.json_types import JSONObject

T = TypeVar("T")
COLLECTION = "projection_checkpoints"


class CheckpointStore(Protocol):
    """Where a projection's position in the global log is kept."""

    async def get(self, name: str) -> int:
        """The stored position of `name` (0 when none)."""
        ...

    async def set(self, name: str, position: int) -> None:
        """Store `position` for `name` unless a later position is stored already."""
        ...


class SQLiteCheckpointStore:
    """`CheckpointStore` in a SQLite file (normally the read-model file). One worker thread owns
    the connection; nothing is opened before the first call; `close()` releases both."""

    def __init__(self, path: Path, *, generation: int = 1) -> None:
        self.path = Path(path)
        self.generation = generation
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def get(self, name: str) -> int:
        """The stored position of `name` (0 when none)."""
        return await self._run(self._get, name)

    async def set(self, name: str, position: int) -> None:
        """Store `position` for `name` unless a later position is stored already."""
        await self._run(self._set, name, position)

    async def close(self) -> None:
        """Close the connection and stop the worker thread (a later call reopens them)."""
        if self._executor is None:
            return
        await self._run(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoints")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS projection_checkpoints (name TEXT NOT NULL, "
                "generation INTEGER NOT NULL, position INTEGER NOT NULL, "
                "PRIMARY KEY (name, generation))"
            )
            self._connection = db
        return self._connection

    def _get(self, name: str) -> int:
        row = (
            self._db()
            .execute(
                "SELECT position FROM projection_checkpoints WHERE name = ? AND generation = ?",
                (name, self.generation),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def _set(self, name: str, position: int) -> None:
        self._db().execute(
            "INSERT INTO projection_checkpoints (name, generation, position) VALUES (?, ?, ?) "
            "ON CONFLICT (name, generation) DO UPDATE "
            "SET position = max(position, excluded.position)",
            (name, self.generation, position),
        )

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class MongoCheckpointStore:
    """`CheckpointStore` in MongoDB (or FerretDB v1); the client belongs to the caller."""

    def __init__(
        self, client: AsyncMongoClient[JSONObject], database: str, *, generation: int = 1
    ) -> None:
        self.generation = generation
        self._collection: AsyncCollection[JSONObject] = client[database][COLLECTION]

    def _id(self, name: str) -> str:
        return f"{name}:g{self.generation}"

    async def get(self, name: str) -> int:
        """The stored position of `name` (0 when none)."""
        found = await self._collection.find_one({"_id": self._id(name)})
        return int(found["position"]) if found else 0

    async def set(self, name: str, position: int) -> None:
        """Store `position` for `name` unless a later position is stored already (`$max`)."""
        fields = {"name": name, "generation": self.generation}
        await write_checkpoint(self._collection, self._id(name), position, fields)
