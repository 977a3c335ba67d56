"""The Redis rate limiter: exact across processes, one Lua script checks and counts."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.exceptions import RedisError

from shared.adapters.redis_client import RedisClient, open_redis
from shared.cooldown import Cooldown
from shared.http.rate_limit import UNCHECKED, Decision, Quota, decide

logger = logging.getLogger(__name__)

# KEYS: one counter per quota. ARGV: limit_1, window_ms_1, limit_2, window_ms_2, ...
# Reply: {allowed (1|0), count_1, ttl_ms_1, count_2, ttl_ms_2, ...}; counts after the increment.
LUA_HIT = """
local allowed, counts, reply = 1, {}, {}
for i, key in ipairs(KEYS) do
  counts[i] = tonumber(redis.call('GET', key) or '0')
  if counts[i] >= tonumber(ARGV[2 * i - 1]) then allowed = 0 end
end
reply[1] = allowed
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  if allowed == 1 then counts[i] = redis.call('INCR', key) end
  local ttl = redis.call('PTTL', key)
  if ttl == -1 then redis.call('PEXPIRE', key, window) end
  if ttl < 0 then ttl = window end
  reply[2 * i] = counts[i]
  reply[2 * i + 1] = ttl
end
return reply
"""


class RedisRateLimiter:
    """Counters in Redis, shared by every API process; one Lua script (`LUA_HIT`) per hit.

    Fails OPEN: when Redis errs or is unreachable the hit is admitted unchecked and a warning is
    logged, and Redis is not asked again for `backoff_seconds`. Rate limiting protects capacity;
    refusing every request because its counter store is down would turn a degraded limiter into
    a full outage (the contract forbids 500s caused by clients, and 429s would be a lie).
    """

    def __init__(
        self, client: RedisClient, *, owns_client: bool = False, backoff_seconds: float = 1.0
    ) -> None:
        self.client = client
        self._owns_client = owns_client
        self._cooldown = Cooldown(backoff_seconds)
        self._script = client.register_script(LUA_HIT)

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float = 0.5) -> RedisRateLimiter:
        """A limiter with its own client (RESP2, short timeouts, one quick retry); on a Redis
        Cluster a hit's counters share the tenant's slot (`{tenant}` in every key)."""
        client = open_redis(url, timeout_seconds=timeout_seconds, retries=1)
        return cls(client, owns_client=True)

    async def hit(self, quotas: Sequence[Quota]) -> Decision:
        """See `RateLimiter.hit`; admits unchecked while Redis is unavailable."""
        if not quotas or not self._cooldown.ready():
            return UNCHECKED
        args: list[int] = []
        for quota in quotas:
            args += [quota.limit, quota.window_seconds * 1000]
        try:
            reply = await self._script(keys=[q.key for q in quotas], args=args)
        except (RedisError, OSError) as exc:
            self._cooldown.failed()
            logger.warning("rate limiter unavailable, admitting requests unchecked: %r", exc)
            return UNCHECKED
        values = [int(v) for v in reply]
        pairs = [(values[i], float(values[i + 1])) for i in range(1, len(values), 2)]
        return decide(quotas, values[0] == 1, pairs)

    async def aclose(self) -> None:
        """Close the client when this limiter created it."""
        if self._owns_client:
            await self.client.aclose()
