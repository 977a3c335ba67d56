"""Cache-aside for `GET /customers/{id}`, invalidated by the customer-view projection.

Readers fill the cache with SET-if-absent and a short TTL; the projection replaces the entries
of every customer it changed with a short-lived *tombstone* right after the view store stored
them (no extra read of the store), and only then moves its checkpoint. The tombstone makes the
reader's SET-if-absent fail, so a reader that read the old document just before the projection
wrote the new one cannot cache it again (an erased customer's name would be served for the
TTL). Reads that carry an `X-Consistency-Token` bypass the cache.

The cache is optional for readers: when Redis errs or does not answer within a short timeout,
`get` is a miss and `add` does nothing (then Redis is left alone for a cooldown), so a Redis
outage costs `GET /customers/{id}` a read of the view store, not a 500. The projection's
`forget` does raise: its checkpoint must not pass an invalidation that failed (the projector
retries the batch), and until a `forget` succeeds again this process's readers do not use the
cache at all, since it may hold entries the failed invalidation should have removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from redis.exceptions import RedisError

from read_side.events import EventEnvelope
from read_side.ports import ProjectionSink
from read_side.views import CustomerDoc
from shared.adapters.redis_client import RedisClient
from shared.cooldown import Cooldown

TTL_SECONDS = 60
#: How long an invalidated entry refuses to be cached again: longer than any reader's read of
#: the view store (bounded by `CUSTOMERS_SERVICE_TIMEOUT`, 2 s by default).
TOMBSTONE_SECONDS = 10
#: How long a reader waits for the cache before reading the view store instead.
READ_TIMEOUT_SECONDS = 0.5
#: After a failure, readers skip the cache for this long.
COOLDOWN_SECONDS = 5.0
#: How long the projecting process's word that the cache holds nothing stale lasts; it renews
#: it (at most every `VOUCH_EVERY_SECONDS`) only while every invalidation succeeds.
LEASE_SECONDS = 3.0
VOUCH_EVERY_SECONDS = 0.5
logger = logging.getLogger(__name__)
R = TypeVar("R")


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

    async def vouch(self) -> None:
        """The projecting process says every invalidation so far was carried out."""
        ...


class MemoryDocCache:
    """In-process LRU (embedded profile)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: OrderedDict[tuple[str, str], CustomerDoc] = OrderedDict()
        self._tombstones: dict[tuple[str, str], float] = {}  # key -> monotonic end
        self._capacity = capacity

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A cached document or None."""
        doc = self._entries.get((tenant_id, customer_id))
        if doc is not None:
            self._entries.move_to_end((tenant_id, customer_id))
        return doc

    async def add(self, doc: CustomerDoc) -> None:
        """Cache `doc` unless an entry or a fresh tombstone exists."""
        key = (doc["tenantId"], doc["id"])
        if self._tombstones.get(key, 0.0) > time.monotonic():
            return
        self._entries.setdefault(key, doc)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    async def refresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Overwrite entries that exist (absent ones are filled by readers)."""
        for doc in docs:
            key = (doc["tenantId"], doc["id"])
            if key in self._entries:
                self._entries[key] = doc

    async def forget(self, tenant_id: str, customer_ids: Sequence[str]) -> None:
        """Replace entries with tombstones."""
        now = time.monotonic()
        if len(self._tombstones) > self._capacity:
            self._tombstones = {k: end for k, end in self._tombstones.items() if end > now}
        for customer_id in customer_ids:
            self._entries.pop((tenant_id, customer_id), None)
            self._tombstones[(tenant_id, customer_id)] = now + TOMBSTONE_SECONDS

    async def vouch(self) -> None:
        """Nothing to do: this process's own invalidations cannot fail."""


class NoDocCache:
    """No cache: a process that does not run the projections cannot keep an in-process cache,
    since nothing would ever invalidate it (an erased customer would be served until evicted)."""

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:  # noqa: ARG002
        """Always a miss."""
        return None

    async def add(self, doc: CustomerDoc) -> None:
        """Nothing to do."""

    async def refresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Nothing to do."""

    async def forget(self, tenant_id: str, customer_ids: Sequence[str]) -> None:
        """Nothing to do."""

    async def vouch(self) -> None:
        """Nothing to do."""


class RedisDocCache:
    """Redis cache; keys hash-tagged by tenant: `customers:cache:{tenant}:id`.

    Processes that do not run the projections cannot see a failed invalidation, so readers
    serve an entry only under a live *vouch*: `customers:cache:vouched`, the time the
    projecting process last confirmed that every invalidation succeeded, expiring after
    `LEASE_SECONDS`. A failed invalidation stops the renewals; a reader that saw Redis fail
    itself also waits for a vouch made after its failure.
    """

    def __init__(
        self,
        client: RedisClient,
        prefix: str = "customers",
        *,
        timeout: float = READ_TIMEOUT_SECONDS,
        cooldown: Cooldown | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._timeout = timeout
        self._cooldown = cooldown or Cooldown(COOLDOWN_SECONDS)
        self._vouch_key = f"{prefix}:cache:vouched"
        self._lease_ms = max(1, int(lease_seconds * 1000))
        self._failed_at_us = 0  # wall clock of this process's last Redis failure
        self._vouched_at = -VOUCH_EVERY_SECONDS
        #: an invalidation failed and was not carried out since: entries may be stale
        self.suspect = False

    async def _optional(self, work: Callable[[], Awaitable[R]]) -> R | None:
        """`work()`'s result, or None when Redis fails or is slow (readers do without), or
        while an invalidation is outstanding (the cache may hold what it should have lost)."""
        if self.suspect or not self._cooldown.ready():
            return None
        try:
            async with asyncio.timeout(self._timeout):
                return await work()
        except (RedisError, OSError, TimeoutError) as error:
            self._cooldown.failed()
            self._failed_at_us = _now_us()
            logger.warning("document cache unavailable, reading the view store: %r", error)
            return None

    def _key(self, tenant_id: str, customer_id: str) -> str:
        return f"{self._prefix}:cache:{{{tenant_id}}}:{customer_id}"

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A cached document, or None (also without a vouch newer than our last failure)."""

        async def read() -> bytes | None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._key(tenant_id, customer_id))
                pipe.get(self._vouch_key)
                raw, vouched = await pipe.execute()
            return raw if vouched is not None and int(vouched) > self._failed_at_us else None

        raw = await self._optional(read)
        return json.loads(raw) if raw else None  # b"" is a tombstone

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
        """Replace entries with tombstones (one pipeline); raises when Redis fails, and the
        readers of this process then skip the cache until a `forget` succeeds."""
        if not customer_ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for customer_id in customer_ids:
                    pipe.set(self._key(tenant_id, customer_id), b"", ex=TOMBSTONE_SECONDS)
                await pipe.execute()
        except BaseException:
            self.suspect = True
            raise
        recovered, self.suspect = self.suspect, False
        await self.vouch(now=recovered)

    async def vouch(self, *, now: bool = False) -> None:
        """Renew the vouch (at most every `VOUCH_EVERY_SECONDS` unless `now`), unless an
        invalidation is outstanding; a Redis error only means readers do without the cache."""
        moment = time.monotonic()
        if self.suspect or (not now and moment - self._vouched_at < VOUCH_EVERY_SECONDS):
            return
        self._vouched_at = moment
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            async with asyncio.timeout(self._timeout):
                await self._redis.set(self._vouch_key, _now_us(), px=self._lease_ms)


def _now_us() -> int:
    """Wall clock in microseconds: a vouch and a failure in the same millisecond are ordinary
    on a quiet machine, and a vouch must compare as newer than the failure it follows."""
    return time.time_ns() // 1000


#: A checkpoint only moves forward, so storing position 0 leaves it where it was.
KEEP_CHECKPOINT = 0


class CachingViewSink:
    """Wraps the view store's projection: store the batch, then refresh cached entries."""

    def __init__(self, store: ProjectionSink, cache: DocCache) -> None:
        self._store = store
        self._cache = cache
        self.name: str = store.name

    async def checkpoint(self) -> int:
        """The store's checkpoint (the runner asks before every catch-up, idle or not: the
        moment to renew the cache's vouch)."""
        await self._cache.vouch()
        return int(await self._store.checkpoint())

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Store the documents, invalidate the cached entries of the changed customers, and
        only then move the checkpoint: a failed invalidation leaves the checkpoint before the
        batch, so the projector retries it (documents are version-guarded, so re-applying
        them is harmless) until the cache has forgotten every changed customer."""
        if events:
            await self._store.apply(events, KEEP_CHECKPOINT)
            by_tenant: dict[str, list[str]] = {}
            for event in events:
                by_tenant.setdefault(event.tenant_id, []).append(event.customer_id)
            for tenant_id, ids in by_tenant.items():
                await self._cache.forget(tenant_id, list(dict.fromkeys(ids)))
        await self._store.apply([], position)

    async def close(self) -> None:
        """Nothing of its own to close."""
