"""A projection's documents in MongoDB (or FerretDB v1): collection `{name}_g{generation}`,
one record per (tenant, key) holding the document as JSON text (so no key of a projection's
document needs escaping) and the position of the last event applied to it.

The batch's records are written with one unordered bulk write and only then the checkpoint
moves; a crash in between re-applies the batch, and the per-document positions (see
`read_side.projections.fold`) make that harmless.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec
from pymongo import AsyncMongoClient, InsertOne, UpdateMany
from pymongo.asynchronous.collection import AsyncCollection

from read_side.events import EventEnvelope
from read_side.projections.api import Document, Projection
from read_side.projections.fold import DocKey, Stored, fold, keys_of, wanted
from read_side.projections.redis_mirror import RedisMirror
from read_side.projections.store import KeyedDocument
from read_side.store import table_name
from read_side.store.mongo_checkpoint import write_checkpoint
from read_side.store.mongo_shard import by_key, by_keys
from shared.json_types import JSONObject

CHECKPOINTS = "projection_checkpoints"
GENERATIONS = "projection_generations"
VERSIONS = "projection_versions"


class MongoProjectionStore:
    """`ProjectionStore` on MongoDB; the client belongs to the caller."""

    def __init__(
        self,
        client: AsyncMongoClient[JSONObject],
        database: str,
        projection: Projection,
        *,
        generation: int = 1,
        mirror: RedisMirror | None = None,
    ) -> None:
        self.name = projection.name
        self._mirror = mirror
        self.projection = projection
        self.generation = generation
        self.collection_name = table_name(projection.name, generation)
        db = client[database]
        self._docs: AsyncCollection[JSONObject] = db[self.collection_name]
        self._checkpoints: AsyncCollection[JSONObject] = db[CHECKPOINTS]
        self._generations: AsyncCollection[JSONObject] = db[GENERATIONS]
        self._versions: AsyncCollection[JSONObject] = db[VERSIONS]
        self._checkpoint_id = f"{self.name}:g{generation}"

    async def ensure_indexes(self) -> None:
        """The `_id` (tenant, then key) serves every read: nothing to create."""

    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        found = await self._checkpoints.find_one({"_id": self._checkpoint_id})
        return int(found["position"]) if found else 0

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Fold the batch with one find and one bulk write, then store the checkpoint."""
        chosen = wanted(self.projection, events)
        keys = keys_of(self.projection, chosen)
        loaded: dict[DocKey, Stored] = {}
        if keys:
            ids = [(tenant, _id(tenant, key)) for tenant, key in keys]
            async for raw in self._docs.find(by_keys(ids)):
                found = (str(raw["tenantId"]), str(raw["key"]))
                loaded[found] = Stored(_decode(raw["doc"]), int(raw["position"]))
        changed = fold(self.projection, chosen, loaded, owned=True)
        texts = {doc_key: encode(entry.doc) for doc_key, entry in changed.items()}
        if self._mirror is not None:  # first: a failure of either applies the batch again
            await self._mirror.write(self.generation, texts)
        writes: list[InsertOne[JSONObject] | UpdateMany] = []
        for (tenant, key), entry in changed.items():
            record = {
                "tenantId": tenant,
                "key": key,
                "position": entry.position,
                "doc": texts[(tenant, key)],
            }
            if (tenant, key) in loaded:  # UpdateMany: see read_side.store.mongo_store._write
                update = UpdateMany(by_key(tenant, _id(tenant, key)), {"$set": record}, upsert=True)
                writes.append(update)
            else:
                writes.append(InsertOne({"_id": _id(tenant, key), **record}))
        if writes:
            await self._docs.bulk_write(writes, ordered=False)
        fields = {"name": self.name, "generation": self.generation}
        await write_checkpoint(self._checkpoints, self._checkpoint_id, position, fields)

    async def find(self, tenant_id: str, prefix: str = "") -> list[KeyedDocument]:
        """The tenant's non-empty documents whose key starts with `prefix`, by key."""
        low = _id(tenant_id, prefix)
        query = {"_id": {"$gte": low, "$lt": low + "\U0010ffff"}, "tenantId": tenant_id}
        found = [
            KeyedDocument(str(raw["key"]), _decode(raw["doc"]))
            async for raw in self._docs.find(query)
        ]
        return sorted((item for item in found if item.doc), key=lambda item: item.key)

    async def get(self, tenant_id: str, key: str) -> KeyedDocument | None:
        """One document by its key (None when absent or empty): the Redis copy when there is
        one, else an `_id` equality (which FerretDB's PostgreSQL backend answers by scanning
        the collection: see `redis_mirror`)."""
        if self._mirror is not None:
            copy = await self._mirror.read(self.generation, tenant_id, key)
            if copy is not None:
                return KeyedDocument(key, copy) if copy else None
        raw = await self._docs.find_one(by_key(tenant_id, _id(tenant_id, key)))
        doc = _decode(raw["doc"]) if raw is not None else None
        return KeyedDocument(key, doc) if doc else None

    async def activate(self) -> None:
        """Record the version this generation was built with, then make it the active one."""
        await self._versions.update_one(
            {"_id": self._checkpoint_id},
            {"$set": {"name": self.name, "version": self.projection.version}},
            upsert=True,
        )
        await self._generations.update_one(
            {"_id": self.name}, {"$set": {"active": self.generation}}, upsert=True
        )

    async def active_generation(self) -> int:
        """The active generation (1 when none was recorded)."""
        found = await self._generations.find_one({"_id": self.name})
        return int(found["active"]) if found else 1

    async def active_version(self) -> int | None:
        """The version the active generation was built with (None: never built)."""
        active = await self.active_generation()
        found = await self._versions.find_one({"_id": f"{self.name}:g{active}"})
        return int(found["version"]) if found else None

    async def generations(self) -> set[int]:
        """Every generation with a collection or a checkpoint."""
        pattern = re.compile(rf"^{re.escape(self.name)}_g([0-9]+)$")
        names = await self._docs.database.list_collection_names()
        found = {int(m.group(1)) for name in names if (m := pattern.match(name))}
        async for row in self._checkpoints.find({"name": self.name}, {"generation": 1}):
            if isinstance(row.get("generation"), int):
                found.add(row["generation"])
        return found

    async def drop(self) -> None:
        """Drop this generation's collection, checkpoint and version."""
        await self._docs.drop()
        if self._mirror is not None:
            await self._mirror.drop(self.generation)
        await self._checkpoints.delete_one({"_id": self._checkpoint_id})
        await self._versions.delete_one({"_id": self._checkpoint_id})

    async def close(self) -> None:
        """Nothing: the client belongs to the caller."""


def _id(tenant_id: str, key: str) -> str:
    """Tenant, then key, unambiguous (the tenant's length first), so a key prefix within one
    tenant is a range of `_id`s."""
    return f"{len(tenant_id)}:{tenant_id}:{key}"


def encode(doc: Document) -> str:
    """A document as stored: JSON text, keys sorted, non-ASCII kept (msgspec: a few times
    faster than `json`, whose encoding and decoding were a fifth of the store's CPU)."""
    return msgspec.json.encode(doc, order="sorted").decode()


def _decode(text: str) -> Document:
    doc: Document = msgspec.json.decode(text)
    return doc
