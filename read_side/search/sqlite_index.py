"""The search index in an embedded SQLite file (WAL, FTS5), one pair of tables per generation.

Tables: `{name}_g{n}` (one row per customer: filter columns, exact sort keys, the document,
indexes `(tenant_id, state, sort key, id)`), the FTS5 table `{name}_g{n}_fts` (see
`sqlite_query`) and `{name}_g{n}_counts` (customers per tenant and state). Checkpoints and
the active generation live in the tables shared with the view store,
`projection_checkpoints` and `projection_generations`.

SQLite is synchronous: every statement runs on one dedicated worker thread owning the
adapter's connection. `apply` loads the batch's documents, evolves them, writes rows, FTS rows
and the checkpoint in ONE `BEGIN IMMEDIATE` transaction. The checkpoint only moves forward.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from read_side import sqlite_support
from read_side.events import EventEnvelope
from read_side.ports import ListQuery, Page
from read_side.search import check_generation, check_name, sqlite_query, sqlite_write
from read_side.search.model import plan
from read_side.views import CustomerDoc, evolve

T = TypeVar("T")
Key = tuple[str, str]


class SQLiteSearchIndex:
    """`SearchIndex` on SQLite. Nothing is opened until the first call."""

    def __init__(self, path: Path, *, name: str = "search", generation: int = 1) -> None:
        self.path = Path(path)
        self.name = check_name(name)
        self.generation = check_generation(generation)
        self.table = f"{name}_g{generation}"
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._ready = False
        self._indexes_deferred = False

    # ---------------------------------------------------------------- the port
    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        return await self._run(self._read_checkpoint)

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch (in log order) and store `position`, in one transaction.

        After an erasure the full-text index is optimised: FTS5 keeps a deleted row's tokens
        in older segments until they merge, and erased names must not survive anywhere.
        """
        await self._run(self._apply, list(events), position)
        if any(event.type == "customer.erased" for event in events):
            await self._run(self._purge_deleted_tokens)

    async def write_fresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Index final documents of customers this generation does not hold (a rebuild's
        staging) in one transaction: no reads; the checkpoint does not move."""
        prepared = await asyncio.to_thread(sqlite_write.fresh_rows, list(docs))
        await self._run(self._write_fresh, prepared)

    def _write_fresh(self, prepared: sqlite_write.FreshRows) -> None:
        db = self._db(fresh=True)
        if not self._indexes_deferred and sqlite_write.is_empty(db, self.table):
            # Bulk-loading an empty generation: sort indexes are built once afterwards (by
            # the next call of any other kind), much faster than row by row.
            sqlite_write.drop_sort_indexes(db, self.table)
            self._indexes_deferred = True
        with sqlite_support.transaction(db):
            sqlite_write.insert_fresh(db, self.table, prepared)

    def _purge_deleted_tokens(self) -> None:
        db = self._db()
        fts = f"{self.table}_fts"
        db.execute(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")  # noqa: S608
        db.commit()

    async def search(self, query: ListQuery) -> Page:
        """Matching ids in sort order, the total, and the next cursor."""
        prepared = plan(query)
        return await self._run(lambda: sqlite_query.search(self._db(), self.table, prepared, query))

    # ---------------------------------------------------------------- management
    async def activate(self) -> None:
        """Make this generation the active one for `name`."""
        await self._run(self._activate)

    async def active_generation(self) -> int:
        """The active generation for `name` (1 when none was recorded)."""
        return await self._run(self._active_generation)

    async def drop(self) -> None:
        """Drop this generation's tables and delete its checkpoint."""
        await self._run(self._drop)

    async def close(self) -> None:
        """Close the connection and stop the worker thread (a later call reopens them)."""
        if self._executor is None:
            return
        await self._run(self._close_connection)
        self._executor.shutdown(wait=True)
        self._executor = None

    # ---------------------------------------------------------------- worker thread
    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-{self.table}")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _db(self, *, fresh: bool = False) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite_support.open_connection(self.path)
            self._connection = connection
        if not self._ready or (self._indexes_deferred and not fresh):
            # A rebuild's bulk load (`fresh`) leaves the sort indexes to the next other call.
            self._connection.executescript(sqlite_write.schema(self.table, sort_indexes=not fresh))
            self._ready, self._indexes_deferred = True, fresh
        return self._connection

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._ready = False

    def _read_checkpoint(self) -> int:
        return sqlite_support.read_checkpoint(self._db(), self.name, self.generation)

    def _apply(self, events: list[EventEnvelope], position: int) -> None:
        with sqlite_support.transaction(self._db()) as db:
            keys = {(event.tenant_id, event.customer_id) for event in events}
            loaded = sqlite_write.load(db, self.table, keys)
            current: dict[Key, CustomerDoc | None] = {k: doc for k, (_, doc) in loaded.items()}
            for event in events:
                key = (event.tenant_id, event.customer_id)
                current[key] = evolve(current.get(key), event)
            for key, doc in current.items():
                rid, old = loaded.get(key, (None, None))
                if doc is not old:
                    sqlite_write.write(db, self.table, rid, old, doc)
            sqlite_support.write_checkpoint(db, self.name, self.generation, position)

    def _activate(self) -> None:
        sqlite_support.activate(self._db(), self.name, self.generation)

    def _active_generation(self) -> int:
        return sqlite_support.active_generation(self._db(), self.name)

    def _drop(self) -> None:
        tables = [f"{self.table}_fts", self.table, f"{self.table}_counts"]
        sqlite_support.drop_generation(self._db(), self.name, self.generation, tables)
        self._ready = False
