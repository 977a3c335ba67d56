"""One contract suite for the `RateLimiter` port, run against the in-process, SQLite and Redis
adapters."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.crc import key_slot

from shared.adapters.rate_limit_redis import RedisRateLimiter
from shared.adapters.rate_limit_sqlite import PURGE_EVERY, SqliteRateLimiter
from shared.http.rate_limit import InMemoryRateLimiter, Quota, RateLimiter


class RateLimiterContract:
    """The behaviour every `RateLimiter` adapter must have. Keys start with `self.prefix`."""

    prefix: str

    @pytest.fixture
    async def limiter(self, unique_name: str) -> AsyncIterator[RateLimiter]:
        self.prefix = unique_name
        made = await self.make_limiter()
        yield made
        await made.aclose()

    async def make_limiter(self) -> RateLimiter:
        raise NotImplementedError

    def key(self, name: str) -> str:
        return f"{self.prefix}:{{tenant}}:{name}"

    async def test_exactly_n_of_m_concurrent_hits_are_admitted(self, limiter: RateLimiter) -> None:
        quota = [Quota(self.key("s:alice"), 13, 60)]
        decisions = await asyncio.gather(*(limiter.hit(quota) for _ in range(60)))
        admitted = [d for d in decisions if d.allowed]
        assert len(admitted) == 13
        assert sorted(d.remaining for d in admitted) == list(range(13))
        assert all(d.retry_after == 0 for d in admitted)

    async def test_denied_hits_carry_a_retry_after_within_the_window(
        self, limiter: RateLimiter
    ) -> None:
        quota = [Quota(self.key("t"), 2, 30)]
        for _ in range(2):
            assert (await limiter.hit(quota)).allowed
        denied = await limiter.hit(quota)
        assert not denied.allowed
        assert 1 <= denied.retry_after <= 30
        assert (denied.key, denied.limit, denied.remaining) == (quota[0].key, 2, 0)

    async def test_the_window_ends_and_counting_starts_again(self, limiter: RateLimiter) -> None:
        quota = [Quota(self.key("t"), 3, 1)]
        assert [(await limiter.hit(quota)).allowed for _ in range(4)] == [True] * 3 + [False]
        await asyncio.sleep(1.1)
        assert [(await limiter.hit(quota)).allowed for _ in range(4)] == [True] * 3 + [False]

    async def test_keys_are_independent(self, limiter: RateLimiter) -> None:
        first, second = [Quota(self.key("s:a"), 1, 60)], [Quota(self.key("s:b"), 1, 60)]
        assert (await limiter.hit(first)).allowed
        assert not (await limiter.hit(first)).allowed
        assert (await limiter.hit(second)).allowed
        assert not (await limiter.hit(second)).allowed

    async def test_all_quotas_or_none_are_counted(self, limiter: RateLimiter) -> None:
        tenant = Quota(self.key("t"), 10, 60)
        alice, bob = Quota(self.key("s:alice"), 4, 60), Quota(self.key("s:bob"), 100, 60)
        results = await asyncio.gather(*(limiter.hit([tenant, alice]) for _ in range(20)))
        assert sum(d.allowed for d in results) == 4
        results = await asyncio.gather(*(limiter.hit([tenant, bob]) for _ in range(20)))
        assert sum(d.allowed for d in results) == 6  # alice's denied hits took no tenant quota
        denied = await limiter.hit([tenant, bob])
        assert (denied.allowed, denied.key) == (False, tenant.key)

    async def test_the_admitted_decision_names_the_tightest_quota(
        self, limiter: RateLimiter
    ) -> None:
        tenant, subject = Quota(self.key("t"), 100, 60), Quota(self.key("s:x"), 3, 60)
        decision = await limiter.hit([tenant, subject])
        assert (decision.key, decision.limit, decision.remaining) == (subject.key, 3, 2)
        assert 1 <= decision.reset_seconds <= 60


class TestInMemoryRateLimiter(RateLimiterContract):
    async def make_limiter(self) -> RateLimiter:
        return InMemoryRateLimiter()


class TestSqliteRateLimiter(RateLimiterContract):
    @pytest.fixture(autouse=True)
    def _path(self, tmp_path: Path) -> None:
        self.path = tmp_path / "rate_limits.db"

    async def make_limiter(self) -> RateLimiter:
        return SqliteRateLimiter(self.path)

    async def test_limiters_on_one_file_share_one_exact_count(self, limiter: RateLimiter) -> None:
        """Each limiter has its own connection and thread, as each worker process has."""
        others = [SqliteRateLimiter(self.path) for _ in range(3)]
        quota = [Quota(self.key("s:shared"), 25, 60)]
        try:
            every = [limiter, *others]
            decisions = await asyncio.gather(*(every[i % 4].hit(quota) for i in range(120)))
        finally:
            for other in others:
                await other.aclose()
        assert sum(d.allowed for d in decisions) == 25
        assert sorted(d.remaining for d in decisions if d.allowed) == list(range(25))

    async def test_a_lock_held_by_another_process_is_waited_for_off_the_event_loop(
        self, limiter: RateLimiter
    ) -> None:
        quota = [Quota(self.key("s:late"), 5, 60)]
        assert (await limiter.hit(quota)).allowed  # the file exists
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # what a second worker holds while it counts
        try:
            pending = asyncio.ensure_future(limiter.hit(quota))
            started = time.perf_counter()
            await asyncio.sleep(0.3)
            assert time.perf_counter() - started < 0.45  # the loop kept running
            assert not pending.done()
        finally:
            other.execute("COMMIT")
            other.close()
        decision = await asyncio.wait_for(pending, 5)
        assert (decision.allowed, decision.limit, decision.remaining) == (True, 5, 3)

    async def test_it_outlives_a_lifespan_that_runs_again(self, limiter: RateLimiter) -> None:
        """Test clients restart an app's lifespan per test: close, count (also waiting for
        the lock on its thread), close again. The second close raised on a stopped thread."""
        quota = [Quota(self.key("s:again"), 5, 60)]
        assert (await limiter.hit(quota)).allowed
        await limiter.aclose()
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            pending = asyncio.ensure_future(limiter.hit(quota))
            await asyncio.sleep(0.1)
        finally:
            other.execute("COMMIT")
            other.close()
        decision = await asyncio.wait_for(pending, 5)
        assert (decision.allowed, decision.remaining) == (True, 3)
        await limiter.aclose()

    async def test_ended_windows_are_purged(self, limiter: RateLimiter) -> None:
        assert isinstance(limiter, SqliteRateLimiter)
        for n in range(3):
            await limiter.hit([Quota(self.key(f"s:{n}"), 5, 1)])
        await asyncio.sleep(1.1)
        limiter._hits = PURGE_EVERY - 1
        await limiter.hit([Quota(self.key("s:last"), 5, 60)])
        with sqlite3.connect(self.path) as db:
            keys = [row[0] for row in db.execute("SELECT key FROM rate_limit_windows")]
        assert keys == [self.key("s:last")]


async def test_sqlite_limiter_fails_open_when_its_file_is_unusable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "rate_limits.db").mkdir()  # a folder where the database should be
    limiter = SqliteRateLimiter(tmp_path / "rate_limits.db")
    try:
        with caplog.at_level(logging.WARNING, logger="shared.adapters.rate_limit_sqlite"):
            decisions = [await limiter.hit([Quota("k", 1, 60)]) for _ in range(5)]
    finally:
        await limiter.aclose()
    assert all(d.allowed and d.limit == 0 for d in decisions)
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1


@pytest.mark.services
class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture(autouse=True)
    def _redis(self, redis_url: str) -> None:
        self.redis_url = redis_url

    async def make_limiter(self) -> RateLimiter:
        return RedisRateLimiter.from_url(self.redis_url)

    async def test_limiters_with_separate_connections_share_one_exact_count(
        self, limiter: RateLimiter
    ) -> None:
        others = [RedisRateLimiter.from_url(self.redis_url) for _ in range(3)]
        quota = [Quota(self.key("s:shared"), 25, 60)]
        try:
            every = [limiter, *others]
            hits = [every[i % 4].hit(quota) for i in range(120)]
            decisions = await asyncio.gather(*hits)
        finally:
            for other in others:
                await other.aclose()
        assert sum(d.allowed for d in decisions) == 25

    async def test_keys_expire_with_their_window(self, limiter: RateLimiter) -> None:
        assert isinstance(limiter, RedisRateLimiter)
        key = self.key("t")
        await limiter.hit([Quota(key, 5, 30)])
        assert 29_000 < await limiter.client.pttl(key) <= 30_000


@pytest.mark.services
class TestRedisClusterRateLimiter(TestRedisRateLimiter):
    """On a 3-master cluster: a hit's quotas share the tenant's slot (`{tenant}`)."""

    @pytest.fixture(autouse=True)
    def _redis(self, redis_cluster_url: str) -> None:
        self.redis_url = redis_cluster_url

    async def test_every_tenant_is_counted_on_its_own_slot(self, limiter: RateLimiter) -> None:
        assert isinstance(limiter, RedisRateLimiter)
        quotas = {
            tenant: [Quota(f"{self.prefix}:{{{tenant}}}:t", 1, 60)]
            for tenant in ("acme", "globex", "initech", "umbrella")
        }
        slots = {key_slot(quota[0].key.encode()) for quota in quotas.values()}
        assert len(slots) > 1, "the tenants must land on different slots for this test"
        assert all([(await limiter.hit(q)).allowed for q in quotas.values()])
        assert not any([(await limiter.hit(q)).allowed for q in quotas.values()])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("scheme", ["redis", "redis+cluster"])
async def test_redis_limiter_fails_open_when_redis_is_unreachable(
    caplog: pytest.LogCaptureFixture, scheme: str
) -> None:
    limiter = RedisRateLimiter.from_url(f"{scheme}://127.0.0.1:{_closed_port()}/0")
    try:
        with caplog.at_level(logging.WARNING, logger="shared.http.rate_limit"):
            decisions = [await limiter.hit([Quota("k", 1, 60)]) for _ in range(5)]
    finally:
        await limiter.aclose()
    assert all(d.allowed and d.limit == 0 for d in decisions)
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1  # then Redis is left alone for the back-off period
