"""The security monitor's counters in Redis: shared by every API process.

Fixed windows anchored at a key's first hit, expiring with the key (on the Redis clock), one
Lua script per step so concurrent processes never both see the crossing of a threshold. Fails
OPEN like the rate limiter: while Redis is unreachable nothing is counted or locked (a warning
is logged) rather than failing requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.adapters.redis_client import open_redis
from shared.cooldown import Cooldown

logger = logging.getLogger(__name__)

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
    def from_url(
        cls, url: str, *, prefix: str = "customers:alert", timeout_seconds: float = 0.5
    ) -> RedisAlertCounters:
        """Counters with their own client (RESP2, short timeouts). Each script touches one
        key, so a Redis Cluster needs no hash tag here."""
        return cls(open_redis(url, timeout_seconds=timeout_seconds), prefix)

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
