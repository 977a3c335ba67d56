"""The projection runner on a real event store and real view stores (SQLite and MongoDB)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.runner import ProjectionRunner
from read_side.events import EventEnvelope
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


async def write_history(commands: CustomerCommands, customers: int) -> list[uuid.UUID]:
    ids = []
    for i in range(customers):
        created = await commands.create(
            CommandMeta(ADMIN), ProfileInput({"firstName": f"C{i}", "email": f"c{i}@example.com"})
        )
        ids.append(created.customer.id)
        await commands.update(
            CommandMeta(ADMIN), created.customer.id, ProfileInput({"notes": f"n{i}"})
        )
        if i % 3 == 0:
            await commands.delete(CommandMeta(ADMIN), created.customer.id, "test")
    return ids


async def all_docs(store: Any, ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    return list(await store.get_many("acme", [str(i) for i in ids]))


class CrashingSink:
    """Applies half of one batch, then fails like a process killed before its checkpoint."""

    def __init__(self, inner: Any, crash_on_call: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.crash_on_call = crash_on_call

    async def checkpoint(self) -> int:
        return int(await self.inner.checkpoint())

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        self.calls += 1
        if self.calls == self.crash_on_call:
            half = list(events)[: len(events) // 2]
            await self.inner.apply(half, half[-1].position if half else 0)
            raise asyncio.CancelledError  # the projection task dies mid-batch
        await self.inner.apply(events, position)


async def test_crash_mid_batch_then_resume_equals_a_fresh_replay(
    commands: CustomerCommands, store_at: Any
) -> None:
    ids = await write_history(commands, 40)
    log = EventLog(commands.executor.app)
    live = store_at(1)
    crashing = CrashingSink(live, crash_on_call=2)
    runner = ProjectionRunner(log, [crashing], DeadLetterBook(commands.executor.app), batch_size=25)
    with pytest.raises(asyncio.CancelledError):
        await runner.catch_up()
    resumed = ProjectionRunner(log, [live], DeadLetterBook(commands.executor.app), batch_size=25)
    await resumed.catch_up()
    fresh = store_at(2)
    await ProjectionRunner(
        log, [fresh], DeadLetterBook(commands.executor.app), batch_size=1000
    ).catch_up()
    assert await all_docs(live, ids) == await all_docs(fresh, ids)
    assert await live.checkpoint() == log.head()
    for store in (live, fresh):
        await store.drop()
        await store.close()


class FlakySink:
    """Fails on one customer's events: `times` times, or forever when times is None."""

    def __init__(self, inner: Any, poisoned: str, times: int | None) -> None:
        self.inner, self.poisoned, self.times = inner, poisoned, times
        self.name = inner.name
        self.failures = 0

    async def checkpoint(self) -> int:
        return int(await self.inner.checkpoint())

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        if any(e.customer_id == self.poisoned for e in events) and (
            self.times is None or self.failures < self.times
        ):
            self.failures += 1
            raise RuntimeError("sink refuses this customer")
        await self.inner.apply(events, position)


async def test_transient_failures_are_retried_without_dead_letters(
    commands: CustomerCommands, store_at: Any
) -> None:
    ids = await write_history(commands, 6)
    store = store_at(1)
    sink = FlakySink(store, str(ids[2]), times=2)
    book = DeadLetterBook(commands.executor.app)
    runner = ProjectionRunner(EventLog(commands.executor.app), [sink], book, backoff=0.001)
    await runner.catch_up()
    assert book.parked(store.name) == []
    assert await store.get("acme", str(ids[2])) is not None
    await store.drop()
    await store.close()


async def test_a_poisoned_event_is_parked_and_stops_only_that_projection(
    commands: CustomerCommands, store_at: Any
) -> None:
    ids = await write_history(commands, 6)
    log = EventLog(commands.executor.app)
    book = DeadLetterBook(commands.executor.app)
    poisoned = store_at(1)
    healthy = store_at(2)

    class Renamed:
        def __init__(self, inner: Any) -> None:
            self.inner, self.name = inner, "healthy_copy"

        async def checkpoint(self) -> int:
            return int(await self.inner.checkpoint())

        async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
            await self.inner.apply(events, position)

    runner = ProjectionRunner(
        log,
        [FlakySink(poisoned, str(ids[2]), times=None), Renamed(healthy)],
        book,
        backoff=0.001,
        poll_interval=0.05,
    )
    await runner.start()
    for _ in range(200):
        if (
            runner.status[poisoned.name].state == "stopped"
            and await healthy.checkpoint() == log.head()
        ):
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    status = runner.status[poisoned.name]
    assert status.state == "stopped"
    (letter,) = book.parked(poisoned.name)
    assert letter.customer_id == str(ids[2])
    assert letter.event_type == "customer.created"
    assert await poisoned.checkpoint() < letter.position
    assert await poisoned.get("acme", str(ids[1])) is not None
    assert await healthy.checkpoint() == log.head()
    restarted = ProjectionRunner(log, [poisoned], book)
    await restarted.start()
    await asyncio.sleep(0.05)
    assert restarted.status[poisoned.name].state == "stopped"
    await restarted.stop()
    assert book.clear(poisoned.name, "operator") == 1
    for store in (poisoned, healthy):
        await store.drop()
        await store.close()


async def test_a_stopped_projection_resumes_by_itself_once_its_dead_letters_are_cleared(
    commands: CustomerCommands, store_at: Any
) -> None:
    """`customers projections retry NAME` (another process) clears the dead letters; the
    running service resumes the projection from its checkpoint without a restart."""
    ids = await write_history(commands, 6)
    log = EventLog(commands.executor.app)
    store = store_at(1)
    sink = FlakySink(store, str(ids[2]), times=None)
    runner = ProjectionRunner(
        log, [sink], DeadLetterBook(commands.executor.app), backoff=0.001, poll_interval=0.05,
        parked_poll=0.1,
    )  # fmt: skip
    await runner.start()
    try:
        await until_true(lambda: runner.status[store.name].state == "stopped", 10)
        parked_at = await store.checkpoint()
        await asyncio.sleep(0.3)
        assert await store.checkpoint() == parked_at  # stopped, not skipping the event
        sink.poisoned = ""  # the operator fixed the cause...
        assert (
            DeadLetterBook(commands.executor.app).clear(store.name, "operator") == 1
        )  # ...and retried
        later = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Later"}))
        for _ in range(250):
            if await store.checkpoint() >= later.position:
                break
            await asyncio.sleep(0.02)
        status = runner.status[store.name]
        assert (status.state, status.dead_letters) == ("running", [])
        assert await store.get("acme", str(ids[2])) is not None
        assert await store.get("acme", str(later.customer.id)) is not None
    finally:
        await runner.stop()
        await store.drop()
        await store.close()


async def until_true(condition: Any, seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_commits_wake_the_runner(commands: CustomerCommands, store_at: Any) -> None:
    store = store_at(1)
    runner = ProjectionRunner(
        EventLog(commands.executor.app),
        [store],
        DeadLetterBook(commands.executor.app),
        poll_interval=30,
    )
    commands.executor.committer.on_commit.append(runner.notify)
    await runner.start()
    created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Wake"}))
    for _ in range(100):
        if await store.checkpoint() >= created.position:
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    assert await store.checkpoint() >= created.position
    await store.drop()
    await store.close()


class DownSink:
    """A sink whose backing service is down for the first `outage` calls."""

    def __init__(self, inner: Any, outage: int) -> None:
        self.inner, self.name, self.outage, self.calls = inner, inner.name, outage, 0

    async def checkpoint(self) -> int:
        return int(await self.inner.checkpoint())

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        self.calls += 1
        if self.calls <= self.outage:
            raise ConnectionRefusedError("service down")
        await self.inner.apply(events, position)


async def test_an_unavailable_dependency_is_waited_for_not_parked(
    commands: CustomerCommands, store_at: Any
) -> None:
    ids = await write_history(commands, 5)
    store = store_at(1)
    book = DeadLetterBook(commands.executor.app)
    log = EventLog(commands.executor.app)
    runner = ProjectionRunner(
        log, [DownSink(store, outage=12)], book, backoff=0.001, poll_interval=0.02
    )
    await runner.start()
    for _ in range(300):
        if await store.checkpoint() == log.head():
            break
        await asyncio.sleep(0.02)
    await runner.stop()
    assert book.parked(store.name) == []
    assert runner.status[store.name].state == "running"
    assert await store.get("acme", str(ids[4])) is not None
    await store.drop()
    await store.close()
