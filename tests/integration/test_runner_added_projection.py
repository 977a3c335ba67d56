"""A projection added to a running runner (a plug-in whose backfill just switched) starts at
once from its checkpoint and follows later commits like the others."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.runner import ProjectionRunner
from read_side.store.sqlite_store import SQLiteViewStore
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


async def until(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


async def test_an_added_projection_catches_up_and_follows(
    commands: CustomerCommands, tmp_path: Path
) -> None:
    first = SQLiteViewStore(tmp_path / "read.db")
    added = SQLiteViewStore(tmp_path / "read.db", name="added_view")
    runner = ProjectionRunner(
        EventLog(commands.executor.app), [first], DeadLetterBook(commands.executor.app),
        poll_interval=30,
    )  # fmt: skip
    commands.executor.committer.on_commit.append(runner.notify)
    await runner.start()
    early = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Early"}))
    await until(lambda: _reached(first, early.position))
    runner.add(added)
    await until(lambda: _reached(added, early.position))
    late = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Late"}))
    await until(lambda: _reached(added, late.position))
    with pytest.raises(ValueError, match="already runs"):
        runner.add(added)
    assert runner.status["added_view"].position >= late.position
    await runner.stop()
    for store in (first, added):
        await store.drop()
        await store.close()


async def _reached(store: Any, position: int) -> bool:
    return bool(await store.checkpoint() >= position)
