"""A hold (an import running in this process) keeps the projections idle; a reader waiting
on a consistency token lifts it, and the projections catch up once it is released."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.runner import ProjectionRunner
from read_side.consistency import ConsistencyWaiter
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


async def create(commands: CustomerCommands, i: int) -> int:
    data = ProfileInput({"firstName": f"C{i}", "email": f"c{i}@example.com"})
    return (await commands.create(CommandMeta(ADMIN), data)).position


async def reaches(store: Any, position: int, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if await store.checkpoint() >= position:
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.parametrize("store_at", ["sqlite"], indirect=True)
async def test_held_projections_wait_and_catch_up_after(
    commands: CustomerCommands, store_at: Any
) -> None:
    log, live = EventLog(commands.executor.app), store_at(1)
    runner = ProjectionRunner(
        log, [live], DeadLetterBook(commands.executor.app), poll_interval=0.02
    )
    commands.executor.committer.on_commit.append(runner.notify)
    await runner.start()
    try:
        assert await reaches(live, await create(commands, 0))
        with runner.hold():
            held = await create(commands, 1)
            await asyncio.sleep(0.3)
            assert await live.checkpoint() < held  # idle while held
        assert await reaches(live, held)  # released: caught up
    finally:
        await runner.stop()


@pytest.mark.parametrize("store_at", ["sqlite"], indirect=True)
async def test_a_reader_waiting_on_a_token_lifts_the_hold(
    commands: CustomerCommands, store_at: Any
) -> None:
    log, live = EventLog(commands.executor.app), store_at(1)
    runner = ProjectionRunner(
        log, [live], DeadLetterBook(commands.executor.app), poll_interval=0.02
    )
    waiter = ConsistencyWaiter([live.checkpoint], timeout=10.0, on_wait=runner.wanted)
    await runner.start()
    try:
        with runner.hold():
            position = await create(commands, 2)
            await asyncio.sleep(0.3)
            assert await live.checkpoint() < position
            await asyncio.wait_for(waiter.wait(str(position)), timeout=10.0)
            assert await live.checkpoint() >= position
    finally:
        await runner.stop()
