"""Every projection store (SQLite embedded, MongoDB-wire) folds batches the same way: each
event reaches each document once (a batch re-applied after a crash changes nothing), tenants
stay apart, and generations are built, versioned, activated and dropped like the read models'."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from read_side.events import EventEnvelope
from read_side.projections.api import Documents
from read_side.projections.store import ProjectionStore


class Tally:
    """Counts created customers per type and per tenant-wide total (two documents)."""

    name = "tally"
    version = 3
    description = "test"
    events = frozenset({"customer.created"})

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        return (f"type:{event.data['customer_type']}", "total")

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        for doc in docs.values():
            doc["n"] = doc.get("n", 0) + 1


def created(position: int, tenant: str = "acme", kind: str = "new") -> EventEnvelope:
    return EventEnvelope(
        position=position, event_id=f"e{position}", type="customer.created",
        customer_id=f"c{position}", version=1, occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id=tenant, data={"customer_type": kind},
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "mongo"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[int], ProjectionStore]]:
    opened: list[ProjectionStore] = []
    mongo: Any = None
    if request.param == "sqlite":
        from read_side.projections.sqlite_store import SQLiteProjectionStore

        def make(generation: int) -> ProjectionStore:
            store = SQLiteProjectionStore(tmp_path / "read.db", Tally(), generation=generation)
            opened.append(store)
            return store
    else:
        from pymongo import AsyncMongoClient

        from read_side.projections.mongo_store import MongoProjectionStore

        database = request.getfixturevalue("unique_name")
        mongo = AsyncMongoClient(request.getfixturevalue("mongo_url"))

        def make(generation: int) -> ProjectionStore:
            store = MongoProjectionStore(mongo, database, Tally(), generation=generation)
            opened.append(store)
            return store

    yield make
    for store in opened:
        await store.close()
    if mongo is not None:
        await mongo.drop_database(database)
        await mongo.close()


async def counts(store: ProjectionStore, tenant: str = "acme") -> dict[str, int]:
    return {item.key: item.doc["n"] for item in await store.find(tenant)}


async def test_a_batch_applied_twice_counts_once(stores: Callable[[int], ProjectionStore]) -> None:
    store = stores(1)
    batch = [created(1), created(2, kind="regular"), created(3)]
    await store.apply(batch, 3)
    await store.apply(batch, 3)  # a crash after the write, before the checkpoint moved on
    await store.apply([*batch[1:], created(4)], 4)  # a batch overlapping the last one
    assert await counts(store) == {"total": 4, "type:new": 3, "type:regular": 1}
    assert await store.checkpoint() == 4


async def test_tenants_and_prefixes_stay_apart(stores: Callable[[int], ProjectionStore]) -> None:
    store = stores(1)
    await store.apply([created(1), created(2, tenant="globex"), created(3, tenant="acme2")], 3)
    assert await counts(store) == {"total": 1, "type:new": 1}
    assert [item.key for item in await store.find("acme", "type:")] == ["type:new"]
    assert await counts(store, "globex") == {"total": 1, "type:new": 1}
    total = await store.get("acme", "total")
    assert total is not None and total.doc == {"n": 1}
    assert await store.get("acme", "type:regular") is None
    assert await store.get("nobody", "total") is None


async def test_generations_carry_the_version_they_were_built_with(
    stores: Callable[[int], ProjectionStore],
) -> None:
    first, second = stores(1), stores(2)
    assert await first.active_version() is None  # never built
    await second.apply([created(1)], 1)
    await second.activate()
    assert await first.active_generation() == 2
    assert await first.active_version() == 3
    assert 2 in await first.generations()
    await second.drop()
    assert await stores(3).find("acme") == []
    assert await second.checkpoint() == 0
