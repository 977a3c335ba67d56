"""A held lease is trusted only `ttl` after its last renewal was sent (issue 16 A.1): a process
that was paused longer renews before writing, and gives up when another took the lease."""

from __future__ import annotations

import asyncio

import pytest

from projectors.leases import HeldLease, LeaseLost, run_leased


class MemoryLeases:
    """Leases in a dict; `now` stands for the database clock."""

    def __init__(self, holder: str = "me", ttl: float = 6.0) -> None:
        self.holder, self.ttl, self.now = holder, ttl, 0.0
        self.rows: dict[str, tuple[str, int, float]] = {}

    async def acquire(
        self, name: str, ttl: float | None = None, holder: str | None = None
    ) -> int | None:
        who = holder or self.holder
        old = self.rows.get(name)
        if old is not None and old[2] > self.now and old[0] != who:
            return None
        epoch = (old[1] if old else 0) + 1
        self.rows[name] = (who, epoch, self.now + (ttl or self.ttl))
        return epoch

    async def renew(self, name: str, epoch: int, ttl: float | None = None) -> bool:
        row = self.rows.get(name)
        if row is None or row[:2] != (self.holder, epoch):
            return False
        self.rows[name] = (self.holder, epoch, self.now + (ttl or self.ttl))
        return True

    async def release(self, name: str, epoch: int) -> None:
        if self.rows.get(name, ("", 0, 0.0))[:2] == (self.holder, epoch):
            self.rows[name] = (self.holder, epoch, float("-inf"))

    async def live(self, prefix: str) -> int:
        return sum(1 for n, row in self.rows.items() if n.startswith(prefix) and row[2] > self.now)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr("projectors.leases.monotonic", lambda: now[0])  # not asyncio's clock
    return now


async def test_a_paused_holder_finds_its_lease_taken_before_writing(clock: list[float]) -> None:
    leases = MemoryLeases()
    held = await HeldLease.take(leases, "search")
    assert held is not None
    await held.check()  # fresh: no round trip needed
    clock[0] += 30  # SIGSTOP for 30 s: the heartbeat could not run
    leases.now += 30
    assert await leases.acquire("search", holder="other") == 2
    with pytest.raises(LeaseLost):
        await held.check()
    await held.release()
    assert leases.rows["search"][:2] == ("other", 2), "a lost lease is not released"


async def test_a_paused_holder_nobody_replaced_keeps_its_lease(clock: list[float]) -> None:
    leases = MemoryLeases()
    held = await HeldLease.take(leases, "search")
    assert held is not None
    clock[0] += 30
    leases.now += 30
    await held.check()  # renewed: same epoch, nobody else took it
    assert leases.rows["search"][1] == held.fence.epoch == 1
    await held.release()
    assert leases.rows["search"][2] == float("-inf")


async def test_a_duty_runs_only_while_its_lease_is_held() -> None:
    leases = MemoryLeases(ttl=0.3)
    await leases.acquire("retention", holder="other")
    started = asyncio.Event()

    async def duty() -> None:
        started.set()

    runner = asyncio.create_task(run_leased(leases, "retention", duty, retry=0.05))
    await asyncio.sleep(0.15)
    assert not started.is_set(), "ran while another process held the lease"
    leases.now += 1.0  # the other holder died: its lease expired
    await asyncio.wait_for(runner, 2)
    assert started.is_set()
