"""What both SQLite read-model adapters are made of: one generation's tables in a shared file,
one connection owned by one worker thread (SQLite is synchronous; the event loop only
awaits it), the checkpoint, and the generation pointer."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from read_side import sqlite_support
from read_side.events import EventEnvelope
from shared.adapters.sqlite_wal import truncate_wal

T = TypeVar("T")


class SQLiteGenerationAdapter:
    """Base of the SQLite adapters. Subclasses give `_schema` and `_tables`; nothing is opened
    until the first call, and `close()` closes the connection and its thread (a later call
    reopens them)."""

    def __init__(self, path: Path, *, name: str, generation: int, table: str) -> None:
        self.path = Path(path)
        self.name = name
        self.generation = generation
        self.table = table
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._ready = False
        self._indexes_deferred = False

    def _schema(self, *, complete: bool) -> str:
        """The DDL of this generation (idempotent); without query indexes when not complete."""
        raise NotImplementedError

    def _tables(self) -> list[str]:
        """The tables of this generation, dropped by `drop()`."""
        raise NotImplementedError

    def _apply(self, events: list[EventEnvelope], position: int) -> None:
        """Apply a batch and store `position` in one transaction (on the worker thread)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- shared operations
    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        return await self._run(self._read_checkpoint)

    async def activate(self) -> None:
        """Make this generation the active one for `name`."""
        await self._run(self._activate)

    async def active_generation(self) -> int:
        """The active generation for `name` (1 when none was recorded)."""
        return await self._run(self._active_generation)

    async def drop(self) -> None:
        """Drop this generation's tables and delete its checkpoint."""
        await self._run(self._drop)

    async def generations(self) -> set[int]:
        """Every generation of `name` that has a table or a checkpoint in the file (a rebuild
        killed before dropping one leaves it behind: `ActiveGeneration.sweep` drops it)."""
        return await self._run(self._generations)

    async def apply_and_scrub(
        self,
        events: Sequence[EventEnvelope],
        position: int,
        scrub: Callable[[], None] | None,
        *,
        erasing: bool | None = None,
    ) -> None:
        """Apply a batch and store `position`. A batch with an erasure (`erasing`; by default
        one among `events`) is scrubbed before the checkpoint passes it: `scrub` (on the
        worker thread), then the shared file's write-ahead log is emptied (it still holds page
        images with the erased values). A reader holding the erasure's consistency token thus
        finds those bytes gone."""
        if erasing is None:
            erasing = any(event.type == "customer.erased" for event in events)
        if not erasing:
            await self._run(self._apply, list(events), position)
            return
        await self._run(self._apply, list(events), 0)  # 0: the checkpoint stays where it was
        if scrub is not None:
            await self._run(scrub)
        await self._run(lambda: truncate_wal(self._db()))
        await self._run(self._apply, [], position)

    async def ensure_indexes(self) -> None:
        """Nothing to do: the schema, created on first use, carries the query indexes."""

    async def close(self) -> None:
        """Close the connection and stop the worker thread."""
        if self._executor is None:
            return
        await self._run(self._close_connection)
        self._executor.shutdown(wait=True)
        self._executor = None

    # ---------------------------------------------------------------- worker thread
    async def _run(self, function: Callable[..., T], *args: object) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-{self.table}")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _db(self, *, fresh: bool = False) -> sqlite3.Connection:
        """The connection, with the schema in place. A rebuild's bulk load (`fresh`) leaves
        the query indexes to the next call of any other kind (built once, not row by row)."""
        if self._connection is None:
            self._connection = sqlite_support.open_connection(self.path)
        if not self._ready or (self._indexes_deferred and not fresh):
            self._connection.executescript(self._schema(complete=not fresh))
            self._ready, self._indexes_deferred = True, fresh
        return self._connection

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._ready = False

    def _read_checkpoint(self) -> int:
        return sqlite_support.read_checkpoint(self._db(), self.name, self.generation)

    def _write_checkpoint(self, db: sqlite3.Connection, position: int) -> None:
        sqlite_support.write_checkpoint(db, self.name, self.generation, position)

    def _activate(self) -> None:
        sqlite_support.activate(self._db(), self.name, self.generation)

    def _active_generation(self) -> int:
        return sqlite_support.active_generation(self._db(), self.name)

    def _generations(self) -> set[int]:
        """Generations with a checkpoint or a row in their main table: an empty table is
        what opening an adapter creates (readers probe generation 1), nothing to sweep."""
        db = self._db()
        pattern = re.compile(rf"^{re.escape(self.name)}_g([0-9]+)$")
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        found = {
            int(m.group(1))
            for (table,) in tables
            if (m := pattern.match(table))
            and db.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0]  # noqa: S608
        }
        rows = db.execute(
            "SELECT generation FROM projection_checkpoints WHERE name = ?", (self.name,)
        )
        return found | {int(generation) for (generation,) in rows}

    def _drop(self) -> None:
        sqlite_support.drop_generation(self._db(), self.name, self.generation, self._tables())
        truncate_wal(self._db())  # a dropped generation's rows stay in logged page images
        self._ready = False
