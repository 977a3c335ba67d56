"""Blue/green rebuilds under concurrent writes end identical to the live model."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from entrypoints.adapters import Clients
from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog, open_log
from projectors.partitions import Partitioned
from projectors.rebuild import STAGE_LIMIT, rebuild
from projectors.runner import ProjectionRunner
from read_side.generations import ActiveGeneration
from read_side.ports import ListQuery, ManagedGeneration
from shared.principal import Principal, Role
from shared.settings import Settings
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
    log = EventLog(commands.executor.app)
    live = ActiveGeneration(store_at, ttl=0.05)
    runner = ProjectionRunner(
        log, [live], DeadLetterBook(commands.executor.app), poll_interval=0.02
    )
    commands.executor.committer.on_commit.append(runner.notify)
    await runner.start()
    stop = asyncio.Event()
    writer = asyncio.create_task(keep_writing(commands, stop, ids))
    opened: list[Any] = []

    async def sink_at(generation: int) -> Any:
        adapter = store_at(generation)
        opened.append(adapter)
        return adapter

    result = await rebuild(log, sink_at, batch_size=40, grace_seconds=0.5, stage_limit=stage_limit)
    stop.set()
    await writer
    await runner.catch_up()
    await runner.stop()
    assert result.new_generation == 2
    current = await live.current()
    assert current.generation == 2
    assert await current.checkpoint() == log.head()
    fresh = store_at(7)
    await ProjectionRunner(log, [fresh], DeadLetterBook(commands.executor.app)).catch_up()
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


def _sink(kind: str, location: str, generation: int) -> tuple[ManagedGeneration, Clients]:
    """A read-model adapter of one kind (module-level: rebuild workers get it pickled)."""
    if kind == "sqlite_view":
        from read_side.store.sqlite_store import SQLiteViewStore

        return SQLiteViewStore(Path(location), generation=generation), Clients()
    if kind == "sqlite_search":
        from read_side.search.sqlite_index import SQLiteSearchIndex

        return SQLiteSearchIndex(Path(location), generation=generation), Clients()
    if kind == "mongo_view":
        from read_side.store.mongo_store import MongoViewStore

        url, database = location.rsplit("|", 1)
        return MongoViewStore.from_url(url, database, generation=generation), Clients()
    import redis.asyncio as redis

    from read_side.search.redis_index import RedisSearchIndex

    url, prefix = location.rsplit("|", 1)
    client = redis.Redis.from_url(url)
    return RedisSearchIndex(client, prefix=prefix, generation=generation), Clients(redis=client)


async def _seen_by_readers(adapter: Any, ids: list[str]) -> list[Any]:
    """Documents of a view store, or the pages of a few queries of a search index."""
    if hasattr(adapter, "get_many"):
        return list(await adapter.get_many("acme", ids))
    pages = []
    for query in ({}, {"text": "p1"}, {"tags": ("t3",)}, {"sort": "lastName", "limit": 50}):
        page = await adapter.search(ListQuery("acme", **query))
        pages.append((page.ids, page.total))
    return pages


@pytest.mark.parametrize("kind", ["sqlite_view", "mongo_view", "sqlite_search", "redis_search"])
async def test_a_rebuild_staged_by_worker_processes_matches_the_live_model(
    commands: CustomerCommands, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    location = str(tmp_path / "read.db")
    if kind == "mongo_view":
        location = f"{request.getfixturevalue('mongo_url')}|views_{uuid.uuid4().hex[:10]}"
    if kind == "redis_search":
        location = f"{request.getfixturevalue('redis_url')}|rb{uuid.uuid4().hex[:10]}"
    ids: list[uuid.UUID] = []
    for i in range(120):
        created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": f"P{i}"}))
        ids.append(created.customer.id)
        if i % 3 == 0:
            await commands.update(
                CommandMeta(ADMIN), created.customer.id, ProfileInput({"lastName": f"L{i}"})
            )
    log = EventLog(commands.executor.app)
    stop = asyncio.Event()
    writer = asyncio.create_task(keep_writing(commands, stop, ids))
    opened: list[Any] = []

    async def sink_at(generation: int) -> Any:
        adapter, clients = _sink(kind, location, generation)
        opened.append((adapter, clients))
        return adapter

    workers = Partitioned(
        open_log=functools.partial(open_log, Settings(data_dir=tmp_path)),
        open_sink=functools.partial(_sink, kind, location),
        workers=2,
        min_events=0,
    )
    seen: list[int] = []
    result = await rebuild(
        log, sink_at, grace_seconds=0, partitioned=workers, progress=lambda p, h, a: seen.append(a)
    )
    stop.set()
    await writer
    fresh = await sink_at(9)
    await ProjectionRunner(log, [fresh], DeadLetterBook(commands.executor.app)).catch_up()
    rebuilt = await sink_at(result.new_generation)
    await ProjectionRunner(log, [rebuilt], DeadLetterBook(commands.executor.app)).catch_up()
    keys = [str(i) for i in ids]
    expected = await _seen_by_readers(fresh, keys)
    assert expected and all(part[1] if isinstance(part, tuple) else part for part in expected)
    assert await _seen_by_readers(rebuilt, keys) == expected
    assert result.events >= 160 and seen and seen[-1] == result.events
    if kind == "sqlite_search":  # the sort indexes left out during the bulk load are back
        with sqlite3.connect(location) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert f"search_g{result.new_generation}_s_k_created" in names
    for adapter, clients in opened:
        await adapter.drop()
        await adapter.close()
        await clients.close()
