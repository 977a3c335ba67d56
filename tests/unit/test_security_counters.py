"""The security monitor's counters (in-process and SQLite, Redis in the e2e tests): windows
expire, locks run out, Redis down fails open."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shared.adapters.alert_counters_redis import RedisAlertCounters
from shared.adapters.alert_counters_sqlite import SqliteAlertCounters
from shared.principal import Principal, Role
from shared.security.counters import AlertCounters, InMemoryAlertCounters
from shared.security.monitor import AlertRules, Outcome, SecurityMonitor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_windows_and_locks_expire(kind: str, tmp_path: Path) -> None:
    clock = Clock()
    counters: AlertCounters = (
        InMemoryAlertCounters(clock)
        if kind == "memory"
        else SqliteAlertCounters(tmp_path / "counters.db", clock=clock)
    )

    async def scenario() -> None:
        assert [await counters.add("k", 2, 60) for _ in range(3)] == [2, 4, 6]
        assert await counters.distinct("s", "a", 60) == (True, 1, 60)
        clock.now += 10
        assert await counters.distinct("s", "a", 60) == (False, 1, 50)
        await counters.lock("x", 30)
        assert await counters.locked(["y", "x"]) == 30
        clock.now += 61
        assert await counters.add("k", 1, 60) == 1
        assert await counters.distinct("s", "a", 60) == (True, 1, 60)
        assert await counters.locked(["x"]) == 0
        await counters.aclose()

    asyncio.run(scenario())


def test_an_alert_is_raised_once_per_window() -> None:
    clock = Clock()
    monitor = SecurityMonitor(AlertRules(burst=3, window=60), InMemoryAlertCounters(clock))

    async def scenario() -> None:
        for _ in range(10):
            await monitor.observe(Outcome(401, None, "10.0.0.1", None))
        assert monitor.raised["unauthenticated_burst"] == 1
        clock.now += 61
        for _ in range(3):
            await monitor.observe(Outcome(401, None, "10.0.0.1", None))
        assert monitor.raised["unauthenticated_burst"] == 2

    asyncio.run(scenario())


def test_redis_down_counts_nothing_and_refuses_nobody() -> None:
    async def scenario() -> None:
        counters = RedisAlertCounters.from_url("redis://127.0.0.1:1/0", timeout_seconds=0.2)
        monitor = SecurityMonitor(AlertRules(burst=1), counters)
        await monitor.observe(Outcome(401, None, "10.0.0.1", None))
        assert await monitor.refusal(["a:10.0.0.1"]) == 0
        assert monitor.raised["unauthenticated_burst"] == 0
        await counters.aclose()

    asyncio.run(scenario())


def test_a_known_token_address_pair_is_not_counted_again() -> None:
    """Steady traffic (one token, one address) costs no counter call after the first."""
    calls: list[str] = []

    class Counting(InMemoryAlertCounters):
        async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
            calls.append(member)
            return await super().distinct(key, member, window)

    monitor = SecurityMonitor(AlertRules(token_addresses=2), Counting())
    principal = Principal("s", "acme", frozenset({Role.VIEWER}))

    async def scenario() -> None:
        for address in ("10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2"):
            await monitor.observe(Outcome(200, principal, address, "fp"))

    asyncio.run(scenario())
    assert calls == ["10.0.0.1", "10.0.0.2"]
    assert monitor.raised["token_addresses"] == 1


def test_a_lock_stored_by_another_process_refuses_at_once_without_a_query_per_request(
    tmp_path: Path,
) -> None:
    """Each worker keeps the live locks in memory; the shared change stamp tells it when
    another worker stored one, so the next request there is refused too."""
    clock = Clock()
    path = tmp_path / "security_counters.db"
    here, there = SqliteAlertCounters(path, clock=clock), SqliteAlertCounters(path, clock=clock)
    reads: list[int] = []
    load = here._live_locks

    async def counted() -> dict[str, float]:
        reads.append(1)
        return await load()

    here._live_locks = counted  # type: ignore[method-assign]

    async def scenario() -> None:
        for _ in range(50):
            assert await here.locked(["a:10.0.0.1", "s:4:acme/x"]) == 0
        assert len(reads) == 1
        await there.lock("s:4:acme/x", 30)
        assert await here.locked(["a:10.0.0.1", "s:4:acme/x"]) == 30
        assert await here.locked(["a:10.0.0.2"]) == 0
        assert len(reads) == 2
        clock.now += 31
        assert await here.locked(["s:4:acme/x"]) == 0
        await here.aclose()
        await there.aclose()

    asyncio.run(scenario())
