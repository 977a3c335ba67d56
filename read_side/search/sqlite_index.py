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
from collections.abc import Sequence
from pathlib import Path

from read_side import sqlite_support
from read_side.events import EventEnvelope
from read_side.ports import ListQuery, Page
from read_side.search import check_generation, check_name, sqlite_query, sqlite_write
from read_side.search.model import plan
from read_side.sqlite_adapter import SQLiteGenerationAdapter
from read_side.views import CustomerDoc, evolve

Key = tuple[str, str]


class SQLiteSearchIndex(SQLiteGenerationAdapter):
    """`SearchIndex` on SQLite. Nothing is opened until the first call."""

    def __init__(self, path: Path, *, name: str = "search", generation: int = 1) -> None:
        super().__init__(
            path,
            name=check_name(name),
            generation=check_generation(generation),
            table=f"{name}_g{generation}",
        )

    def _schema(self, *, complete: bool) -> str:
        return sqlite_write.schema(self.table, sort_indexes=complete)

    def _tables(self) -> list[str]:
        return [f"{self.table}_fts", self.table, f"{self.table}_counts", f"{self.table}_mk"]

    # ---------------------------------------------------------------- the port
    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch (in log order) and store `position`, in one transaction.

        After an erasure the full-text index is optimised (FTS5 keeps a deleted row's tokens
        in older segments until they merge, and erased names must not survive anywhere) and
        the write-ahead log emptied, both before the checkpoint moves past the erasure.
        """
        await self.apply_and_scrub(events, position, self._purge_deleted_tokens)

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

    async def candidates(self, tenant_id: str, keys: Sequence[str]) -> list[str]:
        """Ids filed under the match keys (`{table}_mk`, one index range per key)."""
        wanted = list(keys)
        return await self._run(
            lambda: sqlite_query.candidates(self._db(), self.table, tenant_id, wanted)
        )

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
            self._write_checkpoint(db, position)
