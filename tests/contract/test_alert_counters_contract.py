"""The security monitor's Redis counters on a single server and on a Redis Cluster: each
script touches one key, and a lockout check reads keys of several slots in one pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.adapters.alert_counters_redis import RedisAlertCounters


@pytest.fixture(params=["redis", "redis_cluster"])
async def counters(
    request: pytest.FixtureRequest, unique_name: str
) -> AsyncIterator[RedisAlertCounters]:
    url = request.getfixturevalue(f"{request.param}_url")
    if request.param == "redis_cluster":
        assert url.startswith("redis+cluster://"), "the cluster's URL says so in its scheme"
    made = RedisAlertCounters.from_url(url, prefix=f"{unique_name}:alert", timeout_seconds=2)
    yield made
    await made.aclose()


async def test_counts_distinct_members_and_lockouts(counters: RedisAlertCounters) -> None:
    assert [await counters.add("burst:10.0.0.1", 2, 60) for _ in range(3)] == [2, 4, 6]
    assert await counters.add("burst:10.0.0.2", 1, 60) == 1
    new, size, left = await counters.distinct("token:abc", "10.0.0.1", 60)
    assert (new, size) == (True, 1) and 59 < left <= 60
    assert (await counters.distinct("token:abc", "10.0.0.1", 60))[:2] == (False, 1)
    assert (await counters.distinct("token:abc", "10.0.0.2", 60))[:2] == (True, 2)
    keys = [f"subject:{n}" for n in range(8)]  # spread over the cluster's slots
    assert await counters.locked(keys) == 0
    await counters.lock(keys[5], 30)
    assert 29 < await counters.locked(keys) <= 30
