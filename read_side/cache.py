"""Cache-aside for `GET /customers/{id}`, refreshed by the customer-view projection.

Readers fill the cache with SET-if-absent and a short TTL; the projection deletes the entries of
every customer it changed right after the view store stored them (no extra read of the store).
A reader racing the projection can at worst re-cache an old document for the TTL; reads that
carry an `X-Consistency-Token` bypass the cache.

The cache is optional for readers: when Redis errs or does not answer within a short timeout,
`get` is a miss and `add` does nothing (then Redis is left alone for a cooldown), so a Redis
outage costs `GET /customers/{id}` a read of the view store, not a 500. The projection's
`refresh`/`forget` do raise: its checkpoint must not pass an invalidation that failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from redis.exceptions import RedisError

from read_side.events import EventEnvelope
from read_side.views import CustomerDoc
from shared.cooldown import Cooldown

TTL_SECONDS = 60
#: How long a reader waits for the cache before reading the view store instead.
READ_TIMEOUT_SECONDS = 0.5
#: After a failure, readers skip the cache for this long.
COOLDOWN_SECONDS = 5.0
logger = logging.getLogger(__name__)


class DocCache(Protocol):
    """A cache of customer documents keyed by tenant and id."""

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A cached document or None."""
        ...

    async def add(self, doc: CustomerDoc) -> None:
        """Cache `doc` unless an entry exists."""
        ...

    async def refresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Overwrite the entries of these documents."""
        ...

    async def forget(self, tenant_id: str, customer_ids: Sequence[str]) -> None:
        """Remove entries (erasure)."""
        ...


class MemoryDocCache:
    """In-process LRU (embedded profile)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: OrderedDict[tuple[str, str], CustomerDoc] = OrderedDict()
        self._capacity = capacity

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A cached document or None."""
        doc = self._entries.get((tenant_id, customer_id))
        if doc is not None:
            self._entries.move_to_end((tenant_id, customer_id))
        return doc

    async def add(self, doc: CustomerDoc) -> None:
        """Cache `doc` unless an entry exists."""
        self._entries.setdefault((doc["tenantId"], doc["id"]), doc)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    async def refresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Overwrite entries that exist (absent ones are filled by readers)."""
        for doc in docs:
            key = (doc["tenantId"], doc["id"])
            if key in self._entries:
                self._entries[key] = doc

    async def forget(self, tenant_id: str, customer_ids: Sequence[str]) -> None:
        """Remove entries."""
        for customer_id in customer_ids:
            self._entries.pop((tenant_id, customer_id), None)


class RedisDocCache:
    """Redis cache; keys hash-tagged by tenant: `customers:cache:{tenant}:id`."""

    def __init__(
        self,
        client: Any,
        prefix: str = "customers",
        *,
        timeout: float = READ_TIMEOUT_SECONDS,
        cooldown: Cooldown | None = None,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._timeout = timeout
        self._cooldown = cooldown or Cooldown(COOLDOWN_SECONDS)

    async def _optional(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """`work()`'s result, or None when Redis fails or is slow (readers do without)."""
        if not self._cooldown.ready():
            return None
        try:
            async with asyncio.timeout(self._timeout):
                return await work()
        except (RedisError, OSError, TimeoutError) as error:
            self._cooldown.failed()
            logger.warning("document cache unavailable, reading the view store: %r", error)
            return None

    def _key(self, tenant_id: str, customer_id: str) -> str:
        return f"{self._prefix}:cache:{{{tenant_id}}}:{customer_id}"

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A cached document or None."""
        raw = await self._optional(lambda: self._redis.get(self._key(tenant_id, customer_id)))
        return json.loads(raw) if raw else None

    async def add(self, doc: CustomerDoc) -> None:
        """Cache `doc` unless an entry exists."""
        key = self._key(doc["tenantId"], doc["id"])
        await self._optional(lambda: self._redis.set(key, json.dumps(doc), nx=True, ex=TTL_SECONDS))

    async def refresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Overwrite the entries of these documents (one pipeline)."""
        if not docs:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc in docs:
                pipe.set(self._key(doc["tenantId"], doc["id"]), json.dumps(doc), ex=TTL_SECONDS)
            await pipe.execute()

    async def forget(self, tenant_id: str, customer_ids: Sequence[str]) -> None:
        """Remove entries."""
        if customer_ids:
            await self._redis.delete(*(self._key(tenant_id, i) for i in customer_ids))


class CachingViewSink:
    """Wraps the view store's projection: store the batch, then refresh cached entries."""

    def __init__(self, store: Any, cache: DocCache) -> None:
        self._store = store
        self._cache = cache
        self.name: str = store.name

    async def checkpoint(self) -> int:
        """The store's checkpoint."""
        return int(await self._store.checkpoint())

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply to the store, then drop the cached entries of the changed customers."""
        await self._store.apply(events, position)
        by_tenant: dict[str, list[str]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant_id, []).append(event.customer_id)
        for tenant_id, ids in by_tenant.items():
            await self._cache.forget(tenant_id, list(dict.fromkeys(ids)))

    async def close(self) -> None:
        """Nothing of its own to close."""
