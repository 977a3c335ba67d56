"""Where the security monitor counts: in this process, or in Redis across processes.

Same style as the rate limiter: fixed windows anchored at a key's first hit, expiring with the
key (on the Redis clock), one Lua script per step so concurrent processes never both see the
crossing of a threshold. Redis fails OPEN like the rate limiter: while it is unreachable
nothing is counted or locked (a warning is logged) rather than failing requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from shared.cooldown import Cooldown

logger = logging.getLogger(__name__)


class AlertCounters(Protocol):
    """Port: windowed counters, distinct-member sets and lockouts."""

    async def add(self, key: str, amount: int, window: float) -> int:
        """Add `amount` to the key's count in its window; the count after."""
        ...

    async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
        """Add `member` to the key's set in its window: (was it new, set size after, seconds
        until the set expires)."""
        ...

    async def lock(self, key: str, seconds: float) -> None:
        """Lock `key` for `seconds` (a later lock extends it)."""
        ...

    async def locked(self, keys: list[str]) -> float:
        """Seconds left of the longest lock among `keys` (0: none)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class InMemoryAlertCounters:
    """Embedded profile: this process only; exact under one lock that never awaits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._sets: dict[str, tuple[set[str], float]] = {}
        self._locks: dict[str, float] = {}
        self._guard = threading.Lock()

    def _sweep(self, now: float) -> None:
        if len(self._counts) + len(self._sets) + len(self._locks) > 50_000:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            self._sets = {k: v for k, v in self._sets.items() if v[1] > now}
            self._locks = {k: v for k, v in self._locks.items() if v > now}

    async def add(self, key: str, amount: int, window: float) -> int:
        """See `AlertCounters.add`."""
        with self._guard:
            now = self._clock()
            self._sweep(now)
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window
            self._counts[key] = (count + amount, ends)
            return count + amount

    async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
        """See `AlertCounters.distinct`."""
        with self._guard:
            now = self._clock()
            members, ends = self._sets.get(key, (set(), 0.0))
            if ends <= now:
                members, ends = set(), now + window
            new = member not in members
            members.add(member)
            self._sets[key] = (members, ends)
            return new, len(members), ends - now

    async def lock(self, key: str, seconds: float) -> None:
        """See `AlertCounters.lock`."""
        with self._guard:
            self._locks[key] = max(self._locks.get(key, 0.0), self._clock() + seconds)

    async def locked(self, keys: list[str]) -> float:
        """See `AlertCounters.locked`."""
        with self._guard:
            now = self._clock()
            return max([self._locks.get(key, 0.0) - now for key in keys] + [0.0])

    async def aclose(self) -> None:
        """Nothing to release."""


LUA_ADD = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return count
"""
LUA_DISTINCT = """
local new = redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {new, redis.call('SCARD', KEYS[1]), redis.call('PTTL', KEYS[1])}
"""


class RedisAlertCounters:
    """Counters shared by every API process (keys `<prefix>:…`, expiring with their window)."""

    def __init__(self, client: Any, prefix: str = "customers:alert", backoff: float = 1.0) -> None:
        self.client = client
        self._prefix = prefix
        self._cooldown = Cooldown(backoff)
        self._add = client.register_script(LUA_ADD)
        self._distinct = client.register_script(LUA_DISTINCT)

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float = 0.5) -> RedisAlertCounters:
        """Counters with their own client (RESP2, short timeouts)."""
        import redis.asyncio as redis

        client = redis.Redis.from_url(
            url, protocol=2, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        return cls(client)

    async def _call(self, work: Callable[[], Any], default: Any) -> Any:
        if not self._cooldown.ready():
            return default
        try:
            return await work()
        except Exception as error:
            self._cooldown.failed()
            logger.warning("security counters unavailable, not counting: %r", error)
            return default

    async def add(self, key: str, amount: int, window: float) -> int:
        """See `AlertCounters.add`."""
        args = [amount, int(window * 1000)]
        return int(
            await self._call(lambda: self._add(keys=[f"{self._prefix}:{key}"], args=args), 0)
        )

    async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
        """See `AlertCounters.distinct`."""
        args = [member, int(window * 1000)]
        reply = await self._call(
            lambda: self._distinct(keys=[f"{self._prefix}:{key}"], args=args), [0, 0, 0]
        )
        return bool(int(reply[0])), int(reply[1]), max(0, int(reply[2])) / 1000

    async def lock(self, key: str, seconds: float) -> None:
        """See `AlertCounters.lock`."""
        name, ms = f"{self._prefix}:lock:{key}", int(seconds * 1000)
        await self._call(lambda: self.client.set(name, 1, px=ms), None)

    async def locked(self, keys: list[str]) -> float:
        """See `AlertCounters.locked`."""
        if not keys:
            return 0.0
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(f"{self._prefix}:lock:{key}")
        replies = await self._call(pipe.execute, [])
        return max([int(ms) / 1000 for ms in replies] + [0.0])

    async def aclose(self) -> None:
        """Close the client."""
        await self.client.aclose()
