"""A projection's documents in the embedded SQLite file: table `{name}_g{generation}` with
`(tenant_id, key, position, doc)`; the batch, its documents and the checkpoint are written in
one transaction. The version a generation was built with is kept in `projection_versions`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from read_side import sqlite_support
from read_side.events import EventEnvelope
from read_side.projections.api import Projection
from read_side.projections.fold import DocKey, Stored, fold, keys_of, wanted
from read_side.projections.store import KeyedDocument
from read_side.sqlite_adapter import SQLiteGenerationAdapter
from read_side.store import table_name

_CHUNK = 400  # keys per `IN (...)`


class SQLiteProjectionStore(SQLiteGenerationAdapter):
    """`ProjectionStore` on SQLite."""

    def __init__(self, path: Path, projection: Projection, *, generation: int = 1) -> None:
        table = table_name(projection.name, generation)
        super().__init__(path, name=projection.name, generation=generation, table=table)
        self.projection = projection

    def _schema(self, *, complete: bool) -> str:  # noqa: ARG002 - the primary key serves reads
        return f"""
            CREATE TABLE IF NOT EXISTS {self.table} (
                tenant_id TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
                doc TEXT NOT NULL, PRIMARY KEY (tenant_id, key));
            CREATE TABLE IF NOT EXISTS projection_checkpoints (
                name TEXT NOT NULL, generation INTEGER NOT NULL, position INTEGER NOT NULL,
                PRIMARY KEY (name, generation));
            CREATE TABLE IF NOT EXISTS projection_generations (
                name TEXT PRIMARY KEY, active INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS projection_versions (
                name TEXT NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,
                PRIMARY KEY (name, generation));
            """

    def _tables(self) -> list[str]:
        return [self.table]

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Fold the batch and store `position`, in one transaction; a batch holding an
        erasure is scrubbed from the file's write-ahead log before the checkpoint passes it,
        as the view store's is (the CI found a timezone and quiet hours of an erased customer
        in the WAL pages of the contactability projection)."""
        erasing = any(event.type == "customer.erased" for event in events)
        chosen = wanted(self.projection, events)
        await self.apply_and_scrub(chosen, position, None, erasing=erasing)

    async def find(self, tenant_id: str, prefix: str = "") -> list[KeyedDocument]:
        """The tenant's non-empty documents whose key starts with `prefix`, by key."""
        return await self._run(self._find, tenant_id, prefix)

    async def get(self, tenant_id: str, key: str) -> KeyedDocument | None:
        """One document by its key (None when absent or empty)."""
        found = await self._run(self._load, {(tenant_id, key)})
        stored = found.get((tenant_id, key))
        return KeyedDocument(key, stored.doc) if stored is not None and stored.doc else None

    async def active_version(self) -> int | None:
        """The version the active generation was built with (None: never built)."""
        return await self._run(self._active_version)

    def _apply(self, events: list[EventEnvelope], position: int) -> None:
        with sqlite_support.transaction(self._db()) as db:
            loaded = self._load(keys_of(self.projection, events))
            changed = fold(self.projection, events, loaded, owned=True)
            db.executemany(
                f"INSERT INTO {self.table} (tenant_id, key, position, doc) VALUES (?, ?, ?, ?) "  # noqa: S608
                "ON CONFLICT (tenant_id, key) DO UPDATE SET position = excluded.position, "
                "doc = excluded.doc WHERE excluded.position > position",
                [
                    (tenant, key, entry.position, json.dumps(entry.doc, ensure_ascii=False))
                    for (tenant, key), entry in changed.items()
                ],
            )
            self._write_checkpoint(db, position)

    def _load(self, keys: set[DocKey]) -> dict[DocKey, Stored]:
        db, found = self._db(), {}
        by_tenant: dict[str, list[str]] = {}
        for tenant_id, key in keys:
            by_tenant.setdefault(tenant_id, []).append(key)
        for tenant_id, names in by_tenant.items():
            for start in range(0, len(names), _CHUNK):
                chunk = names[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, position, doc FROM {self.table} "  # noqa: S608
                    f"WHERE tenant_id = ? AND key IN ({marks})",
                    (tenant_id, *chunk),
                )
                for key, position, text in rows:
                    found[(tenant_id, key)] = Stored(json.loads(text), int(position))
        return found

    def _find(self, tenant_id: str, prefix: str) -> list[KeyedDocument]:
        rows = self._db().execute(
            f"SELECT key, doc FROM {self.table} WHERE tenant_id = ? "  # noqa: S608
            "AND key >= ? AND key < ? AND doc != '{}' ORDER BY key",
            (tenant_id, prefix, prefix + "\U0010ffff"),
        )
        return [KeyedDocument(key, json.loads(text)) for key, text in rows]

    def _activate(self) -> None:
        with sqlite_support.transaction(self._db()) as db:
            db.execute(
                "INSERT INTO projection_versions (name, generation, version) VALUES (?, ?, ?) "
                "ON CONFLICT (name, generation) DO UPDATE SET version = excluded.version",
                (self.name, self.generation, self.projection.version),
            )
            sqlite_support.activate(db, self.name, self.generation)

    def _active_version(self) -> int | None:
        db = self._db()
        active = sqlite_support.active_generation(db, self.name)
        row = db.execute(
            "SELECT version FROM projection_versions WHERE name = ? AND generation = ?",
            (self.name, active),
        ).fetchone()
        return int(row[0]) if row else None

    def _drop(self) -> None:
        super()._drop()
        self._db().execute(
            "DELETE FROM projection_versions WHERE name = ? AND generation = ?",
            (self.name, self.generation),
        )
