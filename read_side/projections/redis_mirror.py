"""A copy in Redis of an internal projection's documents (the timeline, contactability), read
before the MongoDB-wire store, which FerretDB answers by scanning the collection even for an
`_id` equality (its PostgreSQL backend filters `_jsonb->'_id' @> value`, which no index serves:
a read by key costs in proportion to the collection).

Written through by the projection's only writer (the runner, or a rebuild filling a new
generation), *before* the durable write: a failure of either fails the batch, which is applied
again from the durable documents and gives the same result, so the copy is never behind what
the store committed. Keys carry the generation, so a rebuild fills its own and the switch
needs no copy; dropping a generation deletes its keys. A key absent from Redis (never written,
or Redis restarted empty) reads the store: absence is never taken as "no document".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import msgspec
from redis.exceptions import RedisError

from read_side.projections.api import Document
from read_side.projections.fold import DocKey
from shared.adapters.redis_client import RedisClient

logger = logging.getLogger(__name__)
READ_TIMEOUT_SECONDS = 0.25
_DROP_CHUNK = 500


class RedisMirror:
    """The documents of one projection, every generation under its own keys."""

    def __init__(self, client: RedisClient, prefix: str, name: str) -> None:
        self._redis = client
        self._base = f"{prefix}:projection:{name}"

    def _key(self, generation: int, tenant_id: str, key: str) -> str:
        return f"{self._base}:g{generation}:{{{tenant_id}}}:{key}"

    async def write(self, generation: int, changed: Mapping[DocKey, str]) -> None:
        """Store the batch's documents, as the store's JSON text (encoded once for both; an
        emptied one as `{}`); raises when Redis fails."""
        if not changed:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for (tenant_id, key), text in changed.items():
                pipe.set(self._key(generation, tenant_id, key), text)
            await pipe.execute()

    async def read(self, generation: int, tenant_id: str, key: str) -> Document | None:
        """The copy (`{}` for a document emptied), None when absent or Redis fails."""
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                raw = await self._redis.get(self._key(generation, tenant_id, key))
        except (RedisError, OSError, TimeoutError) as error:
            logger.warning("projection copy unavailable, reading the store: %r", error)
            return None
        if raw is None:
            return None
        doc: Document = msgspec.json.decode(raw)
        return doc

    async def drop(self, generation: int) -> None:
        """Delete every key of `generation`."""
        keys: list[bytes] = []
        async for key in self._redis.scan_iter(match=f"{self._base}:g{generation}:*", count=1000):
            keys.append(key)
            if len(keys) >= _DROP_CHUNK:
                await self._redis.unlink(*keys)
                keys.clear()
        if keys:
            await self._redis.unlink(*keys)
