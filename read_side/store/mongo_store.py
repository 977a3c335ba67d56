"""The customer read model in MongoDB (or FerretDB v1), one collection per generation.

Documents are keyed `_id = "{tenantId}:{id}"` (customer ids are UUIDs, so the key is
unambiguous), and every read and write names `tenantId` too (the shard key, `mongo_shard`).
`apply` loads the batch's documents with one `$in` find (not those created in the batch),
evolves them, writes the changed ones with one unordered `bulk_write` (inserts and upserts,
see `_write`), and only then moves the checkpoint (forward only, `$max`). A crash in between
re-applies the batch harmlessly (`evolve` is version-guarded). FerretDB v1 suffices."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import overload

from pymongo import AsyncMongoClient, IndexModel, InsertOne, UpdateMany
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from read_side.events import EventEnvelope
from read_side.store import table_name
from read_side.store.mongo_checkpoint import write_checkpoint
from read_side.store.mongo_shard import by_key, by_keys
from read_side.views import CustomerDoc, evolve
from shared.json_types import JSONObject

Document = JSONObject
CHECKPOINTS = "projection_checkpoints"
GENERATIONS = "projection_generations"

_T, _S, _ID = ("tenantId", 1), ("state", 1), ("id", 1)
# Every index starts with tenantId; sort indexes end with `id`, the tie-breaker of pages.
# (`attr` and `consent` filter on dynamic keys, which would need a wildcard index that
# FerretDB v1 lacks: the search index serves them.)
INDEXES = [
    # GET /customers (default sort -createdAt, state filter) and createdFrom/createdTo ranges
    IndexModel([_T, _S, ("createdAt", -1), _ID], name="t_state_createdAt"),
    IndexModel([_T, _S, ("updatedAt", -1), _ID], name="t_state_updatedAt"),  # sort=updatedAt
    IndexModel([_T, _S, ("firstName", 1), _ID], name="t_state_firstName"),  # sort=firstName
    IndexModel([_T, _S, ("lastName", 1), _ID], name="t_state_lastName"),  # sort=lastName
    IndexModel([_T, _S, ("email", 1), _ID], name="t_state_email"),  # sort=email
    IndexModel([_T, _S, ("lastVisitAt", -1), _ID], name="t_state_lastVisitAt"),  # sort=lastVisitAt
    IndexModel([_T, ("email", 1), _S], name="t_email"),  # ?email=, attendee match by email
    IndexModel([_T, ("phone", 1), _S], name="t_phone"),  # ?phone=, attendee match by phone
    IndexModel([_T, ("type", 1), _S, ("createdAt", -1)], name="t_type"),  # ?type=
    IndexModel([_T, ("tags", 1), _S], name="t_tags"),  # ?tag= (multikey on the array)
]
_ESCAPED = re.compile("%(25|2E|24)")
_DECODE = {"25": "%", "2E": ".", "24": "$"}


class MongoViewStore:
    """`CustomerViewStore` on MongoDB: collection `{name}_g{generation}` in `database`.

    The client belongs to the caller unless the store was made with `from_url`. Call
    `ensure_indexes()` once at start-up (idempotent).
    """

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        *,
        name: str = "customer_view",
        generation: int = 1,
    ) -> None:
        self.name = name
        self.generation = generation
        self.collection_name = table_name(name, generation)
        self._client = client
        self._owns_client = False
        db = client[database]
        self._docs: AsyncCollection[Document] = db[self.collection_name]
        self._checkpoints: AsyncCollection[Document] = db[CHECKPOINTS]
        self._generations: AsyncCollection[Document] = db[GENERATIONS]
        self._checkpoint_id = f"{name}:g{generation}"

    @classmethod
    def from_url(
        cls, url: str, database: str, *, name: str = "customer_view", generation: int = 1
    ) -> MongoViewStore:
        """A store with a client of its own (connected lazily), closed by `close()`."""
        store = cls(AsyncMongoClient(url), database, name=name, generation=generation)
        store._owns_client = True
        return store

    async def ensure_indexes(self) -> None:
        """Create the collection's query indexes that are missing (idempotent)."""
        # One createIndexes per missing index: FerretDB v1.24 panics (and drops the
        # connection) when one createIndexes call names several indexes that already exist.
        existing = await self._docs.index_information()
        for index in INDEXES:
            if index.document["name"] not in existing:
                await self._docs.create_indexes([index])

    # ---------------------------------------------------------------- the port
    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        found = await self._checkpoints.find_one({"_id": self._checkpoint_id})
        return int(found["position"]) if found else 0

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch (in log order) with one find and one bulk write, then the checkpoint.

        Customers created within the batch are not looked up (nothing can be stored yet): a
        projector's common case, creates, then costs no read. If one was stored after all (a
        batch re-applied after a crash), the insert fails and the batch is applied again with
        every document loaded, which the version guard makes harmless.
        """
        try:
            await self._apply(events, position, trust_creates=True)
        except (BulkWriteError, _BulkFailed):
            await self._apply(events, position, trust_creates=False)

    async def _apply(
        self, events: Sequence[EventEnvelope], position: int, *, trust_creates: bool
    ) -> None:
        first: dict[str, EventEnvelope] = {}
        for event in events:
            first.setdefault(_key(event.tenant_id, event.customer_id), event)
        keys = [
            (event.tenant_id, key)
            for key, event in first.items()
            if not (trust_creates and event.type == "customer.created")
        ]
        loaded: dict[str, CustomerDoc] = {}
        if keys:
            async for raw in self._docs.find(by_keys(keys)):
                loaded[raw["_id"]] = _from_mongo(raw)
        current: dict[str, CustomerDoc | None] = dict(loaded)
        for event in events:
            key = _key(event.tenant_id, event.customer_id)
            current[key] = evolve(current.get(key), event)
        writes: list[InsertOne[Document] | UpdateMany] = [
            _write(key, loaded.get(key), doc)
            for key, doc in current.items()
            if doc is not None and doc is not loaded.get(key)
        ]
        if writes:
            try:
                await self._docs.bulk_write(writes, ordered=False)
            except KeyError as error:
                # FerretDB v1 omits `n`/`nModified` from a reply carrying writeErrors and
                # pymongo then fails with KeyError: report it as what it is.
                raise _BulkFailed(f"bulk_write on {self.collection_name} failed") from error
        await self._write_checkpoint(position)

    async def write_fresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Insert final documents of customers this generation does not hold (a rebuild's
        staging) with one unordered `insert_many`: no reads; the checkpoint does not move."""
        if docs:
            rows = [{"_id": _key(d["tenantId"], d["id"]), **_escape(d)} for d in docs]
            await self._docs.insert_many(rows, ordered=False)

    async def _write_checkpoint(self, position: int) -> None:
        fields = {"name": self.name, "generation": self.generation}
        await write_checkpoint(self._checkpoints, self._checkpoint_id, position, fields)

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A document of that tenant (any state), or None."""
        raw = await self._docs.find_one(by_key(tenant_id, _key(tenant_id, customer_id)))
        doc = _from_mongo(raw) if raw else None
        return doc if doc is not None and doc.get("tenantId") == tenant_id else None

    async def get_many(
        self, tenant_id: str, customer_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[CustomerDoc]:
        """Documents for the ids that exist in that tenant, in the order of `customer_ids`
        (with `fields`, a projection: only those fields leave the server)."""
        keys = list(dict.fromkeys((tenant_id, _key(tenant_id, cid)) for cid in customer_ids))
        if not keys:
            return []
        wanted = None if fields is None else {"id", "tenantId", *map(_escape_key, fields)}
        found: dict[str, CustomerDoc] = {}
        async for raw in self._docs.find(by_keys(keys), projection=wanted):
            doc = _from_mongo(raw)
            if doc.get("tenantId") != tenant_id:
                continue
            if fields is not None:
                doc = {name: doc.get(name) for name in ("id", *fields)}
            found[doc["id"]] = doc
        return [found[cid] for cid in customer_ids if cid in found]

    # ---------------------------------------------------------------- management
    async def activate(self) -> None:
        """Make this generation the active one for `name`."""
        await self._generations.update_one(
            {"_id": self.name}, {"$set": {"active": self.generation}}, upsert=True
        )

    async def active_generation(self) -> int:
        """The active generation for `name` (1 when none was recorded)."""
        found = await self._generations.find_one({"_id": self.name})
        return int(found["active"]) if found else 1

    async def drop(self) -> None:
        """Drop this generation's collection and delete its checkpoint."""
        await self._docs.drop()
        await self._checkpoints.delete_one({"_id": self._checkpoint_id})

    async def generations(self) -> set[int]:
        """Every generation of `name` that has a collection or a checkpoint (a rebuild killed
        before dropping one leaves it behind: `ActiveGeneration.sweep` drops it)."""
        pattern = re.compile(rf"^{re.escape(self.name)}_g([0-9]+)$")
        database = self._docs.database
        names = await database.list_collection_names()
        found = {int(m.group(1)) for name in names if (m := pattern.match(name))}
        async for row in self._checkpoints.find({"name": self.name}, {"generation": 1}):
            if isinstance(row.get("generation"), int):
                found.add(row["generation"])
        return found

    async def count(self) -> int:
        """How many documents this generation holds."""
        return await self._docs.count_documents({})

    async def deleted_before(self, cutoff: str) -> list[tuple[str, str, str]]:
        """(tenant, id, deletedAt) of customers deleted before `cutoff` (ISO-8601), any tenant."""
        cursor = self._docs.find(
            {"state": "deleted", "deletedAt": {"$lt": cutoff}},
            {"tenantId": 1, "id": 1, "deletedAt": 1},
        )
        return [(d["tenantId"], d["id"], d["deletedAt"]) async for d in cursor]

    async def loyalty_due(self, cutoff: str) -> list[tuple[str, str]]:
        """(tenant, id) of customers with unspent points expiring at or before `cutoff`."""
        cursor = self._docs.find(
            {"loyalty.nextExpiryAt": {"$lte": cutoff}}, {"tenantId": 1, "id": 1}
        )
        return [(d["tenantId"], d["id"]) async for d in cursor]

    async def close(self) -> None:
        """Close the client if this store created it (`from_url`); otherwise nothing."""
        if self._owns_client:
            await self._client.close()


class _BulkFailed(RuntimeError):
    """A bulk write failed in a way pymongo could not parse (FerretDB v1's replies)."""


def _write(key: str, old: CustomerDoc | None, new: CustomerDoc) -> InsertOne[Document] | UpdateMany:
    """The write that turns `old` (None: not stored) into `new` at `key`.

    New documents are inserted: FerretDB v1 batches inserts, but scans the whole collection
    for every update. (A concurrent writer's insert makes `apply` fail with a duplicate key
    before the checkpoint moves; the retry then loads and updates the document.)
    Stored documents get `$set` of every field and `$unset` of vanished ones, not a
    `ReplaceOne`: FerretDB v1.24 (PostgreSQL) holds one pooled connection per *matched*
    single-document update until the command ends, so 50+ replacements of existing
    documents in one bulk exhaust its 50-connection pool and wedge it for every client.
    """
    if old is None:
        return InsertOne({"_id": key, **_escape(new)})
    update: Document = {"$set": _escape(new)}
    vanished = set(old) - set(new)
    if vanished:
        update["$unset"] = {_escape_key(field): "" for field in sorted(vanished)}
    return UpdateMany(by_key(new["tenantId"], key), update, upsert=True)


def _key(tenant_id: str, customer_id: str) -> str:
    return f"{tenant_id}:{customer_id}"


def _from_mongo(raw: Document) -> CustomerDoc:
    doc: CustomerDoc = _map_keys({k: v for k, v in raw.items() if k != "_id"}, _unescape_key)
    return doc


def _escape(doc: CustomerDoc) -> Document:
    """Percent-encode `.`, `$` and `%` in keys: FerretDB v1 refuses dotted and `$` field
    names, and custom attribute keys may contain dots."""
    escaped: Document = _map_keys(doc, _escape_key)
    return escaped


@overload
def _map_keys(value: JSONObject, rename: Callable[[str], str]) -> JSONObject: ...
@overload
def _map_keys(value: object, rename: Callable[[str], str]) -> object: ...
def _map_keys(value: object, rename: Callable[[str], str]) -> object:
    """`value` with every object key renamed, at any depth (lists walked, scalars kept)."""
    if isinstance(value, dict):
        return {rename(k): _map_keys(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_keys(item, rename) for item in value]
    return value


def _escape_key(key: str) -> str:
    if not any(char in key for char in ".$%"):
        return key
    return key.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _unescape_key(key: str) -> str:
    if "%" not in key:
        return key
    return _ESCAPED.sub(lambda match: _DECODE[match.group(1)], key)
