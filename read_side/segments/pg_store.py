"""The membership store in PostgreSQL, used whenever the event store is PostgreSQL: any host
may hold the projection's lease (`projectors.leased_runner`), so its tables live in the event
store's schema where every host reads them, instead of a file in one host's data dir.

The fold and the queries are the SQLite store's (`fold.MembershipFold`, `reads`); what is
PostgreSQL's own:

- **One writer at a time per generation.** Every write transaction (a batch, the sweep —
  another leased job, maybe on another host) first takes a transaction-scoped advisory lock on
  the generation, as SQLite's `BEGIN IMMEDIATE` takes the file's write lock.
- **Fencing.** Under a lease (`shared.fencing`), the checkpoint row stores the lease's epoch
  and the write matches only a row whose epoch is not above ours, in the batch's transaction:
  a paused holder that wakes after a takeover is refused (`Fenced`) and its whole batch —
  pairs, counts, outbox, documents — rolls back.
- **Threads.** psycopg is used synchronously on the store's worker thread, as SQLite is; the
  fence (a contextvar of the applying task) travels with the call's context. Connections come
  from one pool per process and event store (`pg_tables.borrow_pool`).
- **Erasure.** An erasure's batch rewrites the customer's rows (the erased document, no
  personal value) and the checkpoint passes it in the same transaction; PostgreSQL keeps the
  old row versions in its files until (auto)vacuum reuses them, like every other table of the
  event store's schema (docs/operations.md, "Free space inside the stores you run").
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from read_side.events import EventEnvelope
from read_side.segments.pg_tables import (
    PgDb,
    Pool,
    borrow_pool,
    pg_schema,
    return_pool,
    schema_of,
)
from read_side.segments.port import SegmentStore
from read_side.segments.tables import Db, Tables
from read_side.store import table_name
from shared.clock import utc_now
from shared.fencing import Fenced, current_fence

if TYPE_CHECKING:
    from read_side.segments.projection import SegmentMembershipProjection

T = TypeVar("T")
_CHECKPOINT = (
    "INSERT INTO projection_checkpoints AS p (name, generation, position, epoch) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (name, generation) DO UPDATE SET "
    "position = GREATEST(p.position, excluded.position), epoch = COALESCE(excluded.epoch, p.epoch)"
)
_FENCED = " WHERE p.epoch IS NULL OR p.epoch <= excluded.epoch RETURNING p.position"


class PgMembershipStore(SegmentStore):
    """`ProjectionStore` of `segment_membership` in PostgreSQL, plus its queries, sweep and
    outbox (the SQLite store's interface)."""

    def __init__(
        self,
        url: str,
        projection: SegmentMembershipProjection,
        *,
        generation: int = 1,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self.projection = projection
        self.name = projection.name
        self.generation = generation
        self.table = table_name(projection.name, generation)
        self.tables = Tables(self.table)
        self.clock = clock
        self._filters = None
        self._definitions = ""
        self._executor: ThreadPoolExecutor | None = None
        self._pool: Pool | None = None
        self._ready = False
        digest = hashlib.sha256(f"segments|{self.table}".encode()).digest()
        self._lock_key = int.from_bytes(digest[:8], "big", signed=True)

    # ---------------------------------------------------------------- the port
    async def apply_and_scrub(
        self,
        events: Sequence[EventEnvelope],
        position: int,
        scrub: Callable[[], None] | None,
        *,
        erasing: bool | None = None,
    ) -> None:
        """Apply a batch and store `position` in one transaction (an erasure's rows are
        rewritten there: nothing to scrub from files this process owns)."""
        del scrub, erasing
        await self._run(self._apply, list(events), position)

    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        return await self._run(self._read_checkpoint)

    async def activate(self) -> None:
        """Record the version this generation was built with and make it the active one."""
        await self._run(self._activate)

    async def active_generation(self) -> int:
        """The active generation (1 when none was recorded)."""
        return await self._run(self._active_generation)

    async def active_version(self) -> int | None:
        """The version the active generation was built with (None: never built)."""
        return await self._run(self._active_version)

    async def generations(self) -> set[int]:
        """Every generation with rows in its main table or a checkpoint."""
        return await self._run(self._generations)

    async def ensure_indexes(self) -> None:
        """Nothing to do: the schema, created on first use, carries the query indexes."""

    async def drop(self) -> None:
        """Drop this generation's tables, checkpoint and version."""
        await self._run(self._drop)

    async def close(self) -> None:
        """Stop the worker thread and give the pool back (a later call takes it again)."""
        if self._executor is None:
            return
        self._executor.shutdown(wait=True)
        self._executor, self._pool = None, None
        return_pool(self.url)

    # ---------------------------------------------------------------- worker thread
    async def _run(self, function: Callable[..., T], *args: object) -> T:
        if self._executor is None:
            self._pool = borrow_pool(self.url)
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"pg-{self.table}")
        context = contextvars.copy_context()  # the applying task's fence, on the worker
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, context.run, function, *args)

    @contextmanager
    def _reading(self) -> Iterator[PgDb]:
        """A pooled connection (autocommit), with this generation's tables in place."""
        assert self._pool is not None  # taken by `_run`, whose thread calls this
        with self._pool.connection() as connection:
            db = PgDb(connection)
            if not self._ready:
                with connection.transaction():
                    db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_of(self.url)}"')
                    db.execute("SELECT pg_advisory_xact_lock(?)", (self._lock_key,))
                    for statement in pg_schema(self.tables):
                        db.execute(statement)
                self._ready = True
            yield db

    @contextmanager
    def _begin(self) -> Iterator[PgDb]:
        with self._reading() as db, db.connection.transaction():
            db.execute("SELECT pg_advisory_xact_lock(?)", (self._lock_key,))
            yield db

    def _write_checkpoint(self, db: Db, position: int) -> None:
        fence = current_fence()
        epoch = fence.epoch if fence is not None else None
        row = db.execute(_CHECKPOINT + (_FENCED if fence else " RETURNING p.position"),
                         (self.name, self.generation, position, epoch)).fetchone()  # fmt: skip
        if row is None and fence is not None:
            raise Fenced(fence)  # the transaction, batch included, rolls back

    def _read_checkpoint(self) -> int:
        with self._reading() as db:
            row = db.execute(
                "SELECT position FROM projection_checkpoints WHERE name = ? AND generation = ?",
                (self.name, self.generation),
            ).fetchone()
        return int(row[0]) if row else 0

    def _activate(self) -> None:
        with self._begin() as db:
            db.execute(
                "INSERT INTO projection_versions (name, generation, version) VALUES (?, ?, ?) "
                "ON CONFLICT (name, generation) DO UPDATE SET version = excluded.version",
                (self.name, self.generation, self.projection.version),
            )
            db.execute(
                "INSERT INTO projection_generations (name, active) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET active = excluded.active",
                (self.name, self.generation),
            )

    def _active_generation(self) -> int:
        with self._reading() as db:
            row = db.execute(
                "SELECT active FROM projection_generations WHERE name = ?", (self.name,)
            ).fetchone()
        return int(row[0]) if row else 1

    def _active_version(self) -> int | None:
        active = self._active_generation()
        with self._reading() as db:
            row = db.execute(
                "SELECT version FROM projection_versions WHERE name = ? AND generation = ?",
                (self.name, active),
            ).fetchone()
        return int(row[0]) if row else None

    def _generations(self) -> set[int]:
        pattern = re.compile(rf"^{re.escape(self.name)}_g([0-9]+)$")
        with self._reading() as db:
            tables = db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchall()
            found = {
                int(m.group(1))
                for (table,) in tables
                if (m := pattern.match(table))
                and db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # noqa: S608
            }
            rows = db.execute(
                "SELECT generation FROM projection_checkpoints WHERE name = ?", (self.name,)
            ).fetchall()
        return found | {int(generation) for (generation,) in rows}

    def _drop(self) -> None:
        with self._begin() as db:
            for table in self.tables.all:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for table in ("projection_checkpoints", "projection_versions"):
                db.execute(f"DELETE FROM {table} WHERE name = ? AND generation = ?",  # noqa: S608
                           (self.name, self.generation))  # fmt: skip
        self._ready = False
