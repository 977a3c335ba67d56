"""Projections deferring to a busy API (`projectors.pacing`) on a real event store: nothing is
applied while the process is busy (up to the bound), everything exactly once after it, one
projection at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.pacing import Pacer
from projectors.runner import ProjectionRunner
from read_side.events import EventEnvelope
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


class RecordingSink:
    """Keeps every position applied, and how many sinks applied at once at most."""

    active = 0
    most = 0

    def __init__(self, name: str) -> None:
        self.name = name
        self.position = 0
        self.applied: list[int] = []

    async def checkpoint(self) -> int:
        return self.position

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        RecordingSink.active += 1
        RecordingSink.most = max(RecordingSink.most, RecordingSink.active)
        await asyncio.sleep(0.005)
        self.applied += [event.position for event in events]
        self.position = position
        RecordingSink.active -= 1


async def write(commands: CustomerCommands, count: int) -> int:
    last = 0
    for i in range(count):
        created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": f"P{i}"}))
        last = created.position
    return last


async def until(condition: Any, seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)


async def test_busy_defers_then_everything_lands_exactly_once(commands: CustomerCommands) -> None:
    app = commands.executor.app
    pacer = Pacer(turns=1, max_defer=30.0)
    pacer.in_flight.count = 5  # a burst
    sinks = [RecordingSink("one"), RecordingSink("two"), RecordingSink("three")]
    runner = ProjectionRunner(EventLog(app), sinks, DeadLetterBook(app), pacer=pacer)
    commands.executor.committer.on_commit.append(runner.notify)
    await runner.start()
    try:
        head = await write(commands, 12)
        await asyncio.sleep(0.3)
        assert all(not sink.applied for sink in sinks)  # deferred while busy
        pacer.in_flight.count = 0  # the burst ends
        await until(lambda: all(sink.position >= head for sink in sinks), 5.0)
    finally:
        await runner.stop()
    stored = [event.position for event in EventLog(app).read(0, 1000).envelopes]
    for sink in sinks:
        assert sink.applied == stored  # all of them, in order, none twice
    assert RecordingSink.most == 1  # one projection at a time


async def test_a_reader_waiting_for_a_token_hurries_them(commands: CustomerCommands) -> None:
    app = commands.executor.app
    pacer = Pacer(max_defer=30.0)
    pacer.in_flight.count = 5
    sink = RecordingSink("hurried")
    runner = ProjectionRunner(EventLog(app), [sink], DeadLetterBook(app), pacer=pacer)
    commands.executor.committer.on_commit.append(runner.notify)
    await runner.start()
    try:
        head = await write(commands, 3)
        await asyncio.sleep(0.2)
        assert sink.position < head
        runner.wanted()  # what a reader waiting for a consistency token calls
        await until(lambda: sink.position >= head, 2.0)
    finally:
        await runner.stop()
    assert sink.position >= head
