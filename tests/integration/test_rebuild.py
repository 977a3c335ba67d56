"""Blue/green rebuilds under concurrent writes end identical to the live model."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.rebuild import STAGE_LIMIT, rebuild
from projectors.runner import ProjectionRunner
from read_side.generations import ActiveGeneration
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


async def keep_writing(
    commands: CustomerCommands, stop: asyncio.Event, ids: list[uuid.UUID]
) -> None:
    number = 0
    while not stop.is_set():
        created = await commands.create(
            CommandMeta(ADMIN), ProfileInput({"firstName": f"W{number}"})
        )
        ids.append(created.customer.id)
        await commands.update(
            CommandMeta(ADMIN), created.customer.id, ProfileInput({"tags": [f"t{number % 5}"]})
        )
        number += 1
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "stage_limit",
    [STAGE_LIMIT, 60, 0],
    ids=["staged in memory", "staging overflows into apply", "apply only"],
)
async def test_rebuild_under_concurrent_writes_matches_the_live_model(
    commands: CustomerCommands, store_at: Any, stage_limit: int
) -> None:
    ids: list[uuid.UUID] = []
    for i in range(150):
        created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": f"Seed{i}"}))
        ids.append(created.customer.id)
    log = EventLog(commands.app)
    live = ActiveGeneration(store_at, ttl=0.05)
    runner = ProjectionRunner(log, [live], DeadLetterBook(commands.app), poll_interval=0.02)
    commands.committer.on_commit.append(runner.notify)
    await runner.start()
    stop = asyncio.Event()
    writer = asyncio.create_task(keep_writing(commands, stop, ids))
    opened: list[Any] = []

    async def sink_at(generation: int) -> Any:
        adapter = store_at(generation)
        opened.append(adapter)
        return adapter

    result = await rebuild(log, sink_at, batch_size=40, grace_seconds=0.2, stage_limit=stage_limit)
    stop.set()
    await writer
    await runner.catch_up()
    await runner.stop()
    assert result.new_generation == 2
    current = await live.current()
    assert current.generation == 2
    assert await current.checkpoint() == log.head()
    fresh = store_at(7)
    await ProjectionRunner(log, [fresh], DeadLetterBook(commands.app)).catch_up()
    keys = [str(i) for i in ids]
    assert await current.get_many("acme", keys) == await fresh.get_many("acme", keys)
    assert len(await current.get_many("acme", keys)) == len(ids)
    old = store_at(1)
    assert await old.get_many("acme", keys) == []
    for adapter in (fresh, old, current):
        await adapter.drop()
    await live.close()
    for adapter in [*opened, fresh, old]:
        await adapter.close()
