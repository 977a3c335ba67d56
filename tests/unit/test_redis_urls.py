"""How the operator asks for a Redis Cluster (issue 16 A.3): the URL's scheme, checked at
start-up; every Redis user then opens its client through one factory."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis, RedisCluster

from shared.adapters.redis_client import is_cluster, open_redis
from shared.errors import ConfigurationError
from shared.redis_urls import is_cluster_url, seed_url
from shared.settings import Settings


def test_the_scheme_says_cluster() -> None:
    assert is_cluster_url("redis+cluster://h:7000") and is_cluster_url("REDISS+CLUSTER://h:1")
    assert not is_cluster_url("redis://h:7000/0") and not is_cluster_url("unix:///tmp/r.sock")
    assert seed_url("redis+cluster://u:p@h:7000/0?ssl_ca_certs=/ca") == (
        "redis://u:p@h:7000?ssl_ca_certs=/ca"
    )
    assert seed_url("rediss+cluster://h:7000") == "rediss://h:7000"


@pytest.mark.parametrize("url", ["redis+cluster://h:7000/1", "redis+cluster://h:7000/x"])
def test_a_database_other_than_0_is_refused_at_start_up(url: str) -> None:
    with pytest.raises(ConfigurationError, match="only database 0"):
        Settings.from_env({"CUSTOMERS_REDIS_URL": url})


def test_settings_accept_cluster_urls() -> None:
    settings = Settings.from_env({"CUSTOMERS_REDIS_URL": "rediss+cluster://:pw@c.example:7000"})
    assert settings.redis_url == "rediss+cluster://:pw@c.example:7000"


async def test_the_factory_opens_the_client_the_url_names() -> None:
    cluster = open_redis("rediss+cluster://c.example:7000", timeout_seconds=1)
    single = open_redis("redis://r.example:6379/2", timeout_seconds=1)
    try:
        assert isinstance(cluster, RedisCluster) and is_cluster(cluster)
        assert isinstance(single, Redis) and not is_cluster(single)
        assert cluster.get_default_node() is None  # not connected: nothing was sent yet
    finally:
        await cluster.aclose()
        await single.aclose()


def test_a_cluster_failing_over_is_transient_a_cross_slot_script_is_not() -> None:
    from redis.exceptions import ClusterCrossSlotError, ClusterDownError, TryAgainError

    from shared.transient import is_transient

    assert is_transient(ClusterDownError("CLUSTERDOWN The cluster is down"))
    assert is_transient(TryAgainError("TRYAGAIN"))
    assert not is_transient(ClusterCrossSlotError("CROSSSLOT Keys in request don't hash"))


async def test_an_unreachable_cluster_fails_like_an_unreachable_server() -> None:
    """A `RedisError` (`ConnectionError`), which the cache, the rate limiter and the
    projection copies degrade on, not redis-py's `RedisClusterException` (a 500)."""
    from redis.exceptions import ConnectionError

    from shared.transient import is_transient

    client = open_redis("redis+cluster://127.0.0.1:1/0", timeout_seconds=0.5)
    try:
        with pytest.raises(ConnectionError) as command:
            await client.get("k")
        pipe = client.pipeline(transaction=False)
        pipe.get("a:{t}")
        pipe.get("b:{u}")
        with pytest.raises(ConnectionError):
            await pipe.execute()
        assert is_transient(command.value)
    finally:
        await client.aclose()
