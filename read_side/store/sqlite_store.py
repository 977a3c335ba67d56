"""The customer read model in an embedded SQLite file (WAL), one table per generation.

The file may be shared with other adapters (the SQLite search index keeps its own tables).
SQLite is synchronous, so every statement runs on one dedicated worker thread that owns the
adapter's single connection; the event loop only awaits it. `apply` loads, evolves and writes
the batch's documents and stores the checkpoint in ONE `BEGIN IMMEDIATE` transaction, so a
crash leaves either the whole batch with its checkpoint or neither.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

from read_side import sqlite_support
from read_side.events import EventEnvelope
from read_side.rendered_cache import Stamp, read_stamp
from read_side.sqlite_adapter import SQLiteGenerationAdapter
from read_side.store import table_name
from read_side.views import CustomerDoc, evolve

Key = tuple[str, str]
_CHUNK = 400  # ids per `IN (...)`, well below SQLite's bound-parameter limit


class SQLiteViewStore(SQLiteGenerationAdapter):
    """`CustomerViewStore` on SQLite: table `{name}_g{generation}`, shared checkpoint tables.

    Nothing is opened until the first call; `close()` closes the connection and its thread.
    The checkpoint only moves forward (re-applying an older batch never rewinds it).
    """

    def __init__(self, path: Path, *, name: str = "customer_view", generation: int = 1) -> None:
        table = table_name(name, generation)
        super().__init__(path, name=name, generation=generation, table=table)

    def _schema(self, *, complete: bool) -> str:  # noqa: ARG002 - no query indexes to defer
        return f"""
            CREATE TABLE IF NOT EXISTS {self.table} (
                id TEXT NOT NULL, tenant_id TEXT NOT NULL, version INTEGER NOT NULL,
                doc TEXT NOT NULL, PRIMARY KEY (tenant_id, id));
            CREATE TABLE IF NOT EXISTS projection_checkpoints (
                name TEXT NOT NULL, generation INTEGER NOT NULL, position INTEGER NOT NULL,
                PRIMARY KEY (name, generation));
            CREATE TABLE IF NOT EXISTS projection_generations (
                name TEXT PRIMARY KEY, active INTEGER NOT NULL);
            """

    def _tables(self) -> list[str]:
        return [self.table]

    # ---------------------------------------------------------------- the port

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch (in log order) and store `position`, in one transaction (a batch
        with an erasure: its write-ahead log emptied before the checkpoint moves)."""
        await self.apply_and_scrub(events, position, None)

    async def write_fresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Insert final documents of customers this generation does not hold (a rebuild's
        staging): no reads; the checkpoint does not move."""
        rows = await asyncio.to_thread(_fresh_rows, list(docs))
        await self._run(self._write_fresh, rows)

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A document of that tenant (any state), or None."""
        found = await self._run(self._load, {(tenant_id, customer_id)})
        return found.get((tenant_id, customer_id))

    async def get_stamped(
        self, tenant_id: str, customer_id: str
    ) -> tuple[CustomerDoc | None, Stamp | None]:
        """A document and the stamp of the read model it was read from (one read snapshot);
        the stamp is None when this generation is not the active one."""
        return await self._run(self._load_stamped, (tenant_id, customer_id))

    async def get_many(
        self, tenant_id: str, customer_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[CustomerDoc]:
        """Documents for the ids that exist in that tenant, in the order of `customer_ids`
        (with `fields`, only those: SQLite extracts them, Python decodes less)."""
        keys = {(tenant_id, cid) for cid in customer_ids}
        found = await self._run(self._load, keys, tuple(fields) if fields is not None else None)
        return [found[(tenant_id, cid)] for cid in customer_ids if (tenant_id, cid) in found]

    # ---------------------------------------------------------------- management
    async def count(self) -> int:
        """How many documents this generation holds."""
        return await self._run(self._count)

    async def deleted_before(self, cutoff: str) -> list[tuple[str, str, str]]:
        """(tenant, id, deletedAt) of customers deleted before `cutoff` (ISO-8601), any tenant."""
        return await self._run(self._deleted_before, cutoff)

    async def loyalty_due(self, cutoff: str) -> list[tuple[str, str]]:
        """(tenant, id) of customers with unspent points expiring at or before `cutoff`."""
        return await self._run(self._loyalty_due, cutoff)

    # ---------------------------------------------------------------- worker thread
    def _load(
        self, keys: set[Key], fields: tuple[str, ...] | None = None
    ) -> dict[Key, CustomerDoc]:
        db = self._db()
        names = ("id", *(fields or ()))  # `id` first: json_extract of 2+ paths is an array
        value = "doc" if fields is None else f"json_extract(doc, {', '.join('?' * len(names))})"
        paths = () if fields is None else tuple(f'$."{name}"' for name in names)
        by_tenant: dict[str, list[str]] = {}
        for tenant_id, customer_id in keys:
            by_tenant.setdefault(tenant_id, []).append(customer_id)
        found: dict[Key, CustomerDoc] = {}
        for tenant_id, ids in by_tenant.items():
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT id, {value} FROM {self.table} "  # noqa: S608
                    f"WHERE tenant_id = ? AND id IN ({marks})",
                    (*paths, tenant_id, *chunk),
                )
                for customer_id, text in rows:
                    decoded = json.loads(text)
                    doc = decoded if fields is None else dict(zip(names, decoded, strict=True))
                    found[(tenant_id, customer_id)] = doc
        return found

    def _load_stamped(self, key: Key) -> tuple[CustomerDoc | None, Stamp | None]:
        db = self._db()
        db.execute("BEGIN")
        try:
            stamp = read_stamp(db, self.name)
            doc = self._load({key}).get(key)
        finally:
            db.execute("COMMIT")
        return doc, stamp if stamp is not None and stamp[0] == self.generation else None

    def _apply(self, events: list[EventEnvelope], position: int) -> None:
        with sqlite_support.transaction(self._db()) as db:
            loaded = self._load({(e.tenant_id, e.customer_id) for e in events})
            current: dict[Key, CustomerDoc | None] = dict(loaded)
            for event in events:
                key = (event.tenant_id, event.customer_id)
                current[key] = evolve(current.get(key), event)
            rows = [
                (key[1], key[0], doc["version"], json.dumps(doc, ensure_ascii=False))
                for key, doc in current.items()
                if doc is not None and doc is not loaded.get(key)
            ]
            db.executemany(
                f"INSERT INTO {self.table} (id, tenant_id, version, doc) VALUES (?, ?, ?, ?) "  # noqa: S608
                "ON CONFLICT (tenant_id, id) DO UPDATE SET version = excluded.version, "
                "doc = excluded.doc WHERE excluded.version > version OR "
                # The loyalty part has a version of its own (the ledger's), see loyalty_view.
                "(excluded.version = version AND "
                "coalesce(json_extract(excluded.doc, '$.loyalty.version'), 0) > "
                "coalesce(json_extract(doc, '$.loyalty.version'), 0))",
                rows,
            )
            self._write_checkpoint(db, position)

    def _write_fresh(self, rows: list[tuple[str, str, int, str]]) -> None:
        with sqlite_support.transaction(self._db()) as db:
            db.executemany(
                f"INSERT INTO {self.table} (id, tenant_id, version, doc) VALUES (?, ?, ?, ?)",  # noqa: S608
                rows,
            )

    def _deleted_before(self, cutoff: str) -> list[tuple[str, str, str]]:
        rows = self._db().execute(
            f"SELECT tenant_id, id, json_extract(doc, '$.deletedAt') FROM {self.table} "  # noqa: S608
            "WHERE json_extract(doc, '$.state') = 'deleted' "
            "AND json_extract(doc, '$.deletedAt') < ?",
            (cutoff,),
        )
        return [(str(t), str(i), str(d)) for t, i, d in rows]

    def _loyalty_due(self, cutoff: str) -> list[tuple[str, str]]:
        rows = self._db().execute(
            f"SELECT tenant_id, id FROM {self.table} "  # noqa: S608
            "WHERE json_extract(doc, '$.loyalty.nextExpiryAt') <= ?",
            (cutoff,),
        )
        return [(str(t), str(i)) for t, i in rows]

    def _count(self) -> int:
        row = self._db().execute(f"SELECT count(*) FROM {self.table}").fetchone()  # noqa: S608
        return int(row[0])


def _fresh_rows(docs: list[CustomerDoc]) -> list[tuple[str, str, int, str]]:
    return [(d["id"], d["tenantId"], d["version"], json.dumps(d, ensure_ascii=False)) for d in docs]
