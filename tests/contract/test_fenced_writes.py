"""A former lease holder cannot move a checkpoint after a newer holder wrote (issue 16 A.1).

Every store a leased projection writes to keeps the largest lease epoch with its checkpoint
and refuses, in the same condition as the checkpoint write, a write under a smaller one
(`shared.fencing`). Run against the stores of the shared profile: MongoDB (view store, added
projections' stores, the broker relay's checkpoints) and Redis (search index).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from projectors.checkpoints import MongoCheckpointStore
from shared.fencing import Fence, Fenced, fenced
from tests.contract.conftest import _adapters
from tests.contract.view_contract_base import Log
from tests.services import redis_client


@pytest.fixture(params=["mongo_view", "redis_search", "redis_cluster_search"])
async def sink_at(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async for at in _adapters(request, tmp_path):
        yield at


async def test_a_smaller_epoch_is_refused_and_the_checkpoint_stays(sink_at: Any) -> None:
    sink, log = sink_at(1), Log()
    first, second = (log.created("acme", str(uuid.uuid4())) for _ in range(2))
    with fenced(Fence(sink.name, 1)):
        await sink.apply([first], first.position)
    with fenced(Fence(sink.name, 2)):  # the new holder's claim, before its first batch
        await sink.apply([], first.position)
    with fenced(Fence(sink.name, 1)), pytest.raises(Fenced):  # the paused one wakes up
        await sink.apply([second], second.position)
    assert await sink.checkpoint() == first.position
    with fenced(Fence(sink.name, 2)):
        await sink.apply([second], second.position)
    assert await sink.checkpoint() == second.position
    await sink.apply([], second.position)  # unfenced (a rebuild, a test) still writes


@pytest.fixture(params=["redis", "redis_cluster"])
def any_redis_url(request: pytest.FixtureRequest) -> str:
    """A single Redis server's URL, then a Redis Cluster's."""
    return str(request.getfixturevalue(f"{request.param}_url"))


async def test_the_search_index_refuses_the_whole_stale_batch(
    any_redis_url: str, unique_name: str
) -> None:
    from read_side.ports import ListQuery
    from read_side.search.redis_index import RedisSearchIndex

    client = redis_client(any_redis_url)
    index, log = RedisSearchIndex(client, prefix=unique_name), Log()
    try:
        with fenced(Fence(index.name, 5)):
            await index.apply([], 0)
        stale = log.created("acme", str(uuid.uuid4()), firstName="Zelda")
        with fenced(Fence(index.name, 4)), pytest.raises(Fenced):
            await index.apply([stale], stale.position)
        page = await index.search(ListQuery(tenant_id="acme", text="zelda"))
        assert page.ids == [], "a fenced batch must not index anything"
    finally:
        await index.drop()
        await client.aclose()


async def test_the_relay_checkpoint_is_fenced(mongo_url: str, unique_name: str) -> None:
    from pymongo import AsyncMongoClient

    client: Any = AsyncMongoClient(mongo_url)
    store = MongoCheckpointStore(client, unique_name)
    try:
        with fenced(Fence("broker_relay", 3)):
            await store.set("broker_relay", 10)
        with fenced(Fence("broker_relay", 2)), pytest.raises(Fenced):
            await store.set("broker_relay", 20)
        assert await store.get("broker_relay") == 10
    finally:
        await client.drop_database(unique_name)
        await client.close()


async def test_on_a_cluster_each_tenant_refuses_a_holder_older_than_its_last_writer(
    redis_cluster_url: str, unique_name: str
) -> None:
    """A holder that passed the claim on the checkpoint's slot and then paused (simulated by
    putting the claim back) still cannot overwrite a tenant a newer holder wrote meanwhile."""
    from read_side.ports import ListQuery
    from read_side.search.redis_index import RedisSearchIndex

    client = redis_client(redis_cluster_url)
    index, log = RedisSearchIndex(client, prefix=unique_name), Log()
    customer = str(uuid.uuid4())
    try:
        first = log.created("acme", customer, firstName="Ann")
        with fenced(Fence(index.name, 5)):
            await index.apply([first], first.position)
        await client.set(index.keys.epoch, 4)  # as if epoch 4 claimed before 5 did
        stale = log.changed("acme", customer, firstName="Zelda")
        with fenced(Fence(index.name, 4)), pytest.raises(Fenced):
            await index.apply([stale], stale.position)
        assert (await index.search(ListQuery(tenant_id="acme", text="zelda"))).ids == []
        assert (await index.search(ListQuery(tenant_id="acme", text="ann"))).ids == [customer]
        assert await index.checkpoint() == first.position
    finally:
        await index.drop()
        await client.aclose()
