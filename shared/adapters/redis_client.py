"""Open a Redis client for `CUSTOMERS_REDIS_URL`: a single server, or a Redis Cluster when the
URL says `redis+cluster://` (issue 16 A.3, `shared.redis_urls`).

Every adapter keeps its multi-key work (Lua scripts, MULTI) inside one hash slot: a tenant's
keys carry the hash tag `{tenant}`, and keys that span tenants (checkpoints, lease epochs) get
a slot of their own on a cluster (`read_side.search.redis_keys`). Non-transactional pipelines
may span slots: redis-py splits them per node.
"""

from __future__ import annotations

from typing import TypeAlias

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisClusterException, SlotNotCoveredError
from redis.typing import EncodableT

from shared.redis_urls import is_cluster_url, seed_url


class _Cluster(RedisCluster):
    """A Redis Cluster client that fails like a single server's and learns the cluster's
    layout before its first command.

    - redis-py reports an unreachable cluster (and a slot no live master serves) with
      `RedisClusterException`, which is not a `RedisError`: every adapter that degrades on
      `RedisError` (the cache, the rate limiter, the projection copies) would let it through as
      a 500. Both become `ConnectionError` here, a `RedisError` and a transient one.
    - redis-py 8.1 discovers the cluster lazily, and commands sent concurrently to a client
      that has not yet done so (requests at start-up, a burst of rate-limit hits) race with it:
      the seed node's connections are closed under some of them ("Connection closed by
      server", `AttributeError` on a `None` writer). `initialize()` is idempotent and takes a
      lock, so each command first waits for the one discovery.
    """

    async def initialize(
        self,
        additional_startup_nodes_info: list[tuple[str, int]] | None = None,
        last_failed_node_name: str | None = None,
    ) -> RedisCluster:
        try:
            return await super().initialize(additional_startup_nodes_info, last_failed_node_name)
        except RedisClusterException as error:
            raise ConnectionError(f"Redis Cluster unreachable: {error}") from error

    async def execute_command(self, *args: EncodableT, **kwargs: object) -> object:
        await self.initialize()
        try:
            return await super().execute_command(*args, **kwargs)
        except SlotNotCoveredError as error:
            raise ConnectionError(f"Redis Cluster slot not served: {error}") from error


#: Either client: the adapters use only commands both have.
RedisClient: TypeAlias = redis.Redis | RedisCluster


def open_redis(url: str, *, timeout_seconds: float, retries: int | None = None) -> RedisClient:
    """A RESP2 client of the server or cluster `url` names, not connected yet, that gives up
    on a silent or refusing server after `timeout_seconds` per attempt; `retries` extra
    attempts on a connection error (the library's default when None)."""
    retry = None if retries is None else Retry(NoBackoff(), retries)
    if is_cluster_url(url):
        return _Cluster.from_url(
            seed_url(url),
            protocol=2,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            **({} if retry is None else {"retry": retry}),
        )
    if retry is None:
        return redis.Redis.from_url(
            url, protocol=2, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
    return redis.Redis.from_url(
        url,
        protocol=2,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=retry,
    )


def is_cluster(client: RedisClient) -> bool:
    """True for a Redis Cluster client (its scripts must stay within one slot)."""
    return isinstance(client, RedisCluster)
