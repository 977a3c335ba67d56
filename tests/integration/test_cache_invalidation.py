"""The document cache never serves what the projection invalidated: a reader that read the old
document just before the projection wrote the new one cannot cache it again (a tombstone holds
the place), and after a failed invalidation this process's readers skip the cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from read_side.cache import DocCache, MemoryDocCache, RedisDocCache
from shared.cooldown import Cooldown
from tests.e2e.conftest import fresh_redis_database

OLD = {"tenantId": "acme", "id": "c1", "firstName": "Zebold", "version": 1}


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[DocCache]:
    if request.param == "memory":
        yield MemoryDocCache()
        return
    client: Any = redis.Redis.from_url(
        fresh_redis_database(request.getfixturevalue("redis_url"), 12)
    )
    yield RedisDocCache(client)
    await client.aclose()


async def test_a_reader_racing_the_projection_cannot_cache_the_old_document(
    cache: DocCache,
) -> None:
    await cache.vouch()  # the projecting process says the cache holds nothing stale
    await cache.add(OLD)
    assert await cache.get("acme", "c1") == OLD
    stale = await cache.get("acme", "c1")  # a reader holds the old document ...
    await cache.forget("acme", ["c1"])  # ... the projection erases and invalidates ...
    assert stale is not None
    await cache.add(stale)  # ... and the reader caches what it read
    assert await cache.get("acme", "c1") is None


async def test_after_a_failed_invalidation_readers_skip_the_cache_until_one_succeeds(
    redis_url: str,
) -> None:
    client: Any = redis.Redis.from_url(fresh_redis_database(redis_url, 12))
    cache = RedisDocCache(client)
    await cache.vouch()
    await cache.add(OLD)
    unreachable: Any = redis.Redis.from_url("redis://127.0.0.1:1/0")
    broken = RedisDocCache(unreachable)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any connection error
        await broken.forget("acme", ["c1"])
    assert broken.suspect
    broken._redis = client  # Redis is back, the entry is still there ...
    assert await broken.get("acme", "c1") is None  # ... but not served
    await broken.forget("acme", ["c1"])  # the projector's retry
    assert not broken.suspect
    assert await broken.get("acme", "c1") is None
    await client.aclose()
    await unreachable.aclose()


async def test_other_processes_stop_using_the_cache_when_an_invalidation_failed(
    redis_url: str,
) -> None:
    """Another process cannot see the projector's failed invalidation: it serves entries only
    while the projecting process keeps vouching for the cache, and after a Redis failure of
    its own only under a vouch made after that failure."""
    client: Any = redis.Redis.from_url(fresh_redis_database(redis_url, 12))
    unreachable: Any = redis.Redis.from_url("redis://127.0.0.1:1/0")
    projector = RedisDocCache(unreachable, lease_seconds=0.3)
    reader = RedisDocCache(client, cooldown=Cooldown(0))
    projector._redis = client
    await projector.vouch()
    await reader.add(OLD)
    assert await reader.get("acme", "c1") == OLD

    projector._redis = unreachable  # Redis cut for the projector: the erasure's forget fails
    with pytest.raises(Exception):  # noqa: B017, PT011 - any connection error
        await projector.forget("acme", ["c1"])
    projector._redis = client  # back, but the projector has not retried yet
    await projector.vouch()  # no renewal while the invalidation is outstanding
    await asyncio.sleep(0.4)  # the last vouch expires
    assert await reader.get("acme", "c1") is None  # the stale entry is not served

    reader._redis = unreachable  # the reader sees Redis fail itself ...
    assert await reader.get("acme", "c1") is None
    reader._redis = client
    await client.set("customers:cache:vouched", 1, px=60_000)  # ... an old vouch is not enough
    assert await reader.get("acme", "c1") is None
    await projector.forget("acme", ["c1"])  # the retry succeeds and vouches anew at once
    assert await reader.get("acme", "c1") is None  # the tombstone
    other = OLD | {"id": "c2", "firstName": "Other"}
    await reader.add(other)
    assert await reader.get("acme", "c2") == other  # the cache serves again
    await client.aclose()
    await unreachable.aclose()
