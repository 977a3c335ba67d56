"""A rebuild killed mid-build or mid-switch leaves a generation nobody reads and erasure never
reaches; the sweep (at projector start and before every rebuild) drops it, on every adapter."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from entrypoints.adapters import Clients
from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.rebuild_lock import rebuild_lock
from projectors.runner import ProjectionRunner
from read_side.generations import ActiveGeneration
from shared.principal import Principal, Role
from tests.integration.test_rebuild import _sink
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.privacy import PrivacyCommands

ADMIN = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))
PROFILE = {
    "firstName": "Zebulonsweep",
    "lastName": "Quaxtergen",
    "email": "zebulon.sweep@example.org",
    "notes": "sweepnote kiwi",
}
NEEDLES = ["zebulonsweep", "quaxtergen", "zebulon.sweep@example.org", "sweepnote"]


def raw_dump(kind: str, location: str) -> str:
    """Every byte the adapter's storage holds, as text (files, collections, keys)."""
    if kind.startswith("sqlite"):
        path = Path(location)
        parts = [p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*")]
        with sqlite3.connect(path) as db:
            parts.append("\n".join(db.iterdump()))
        return "\n".join(parts).lower()
    if kind == "mongo_view":
        from pymongo import MongoClient

        url, database = location.rsplit("|", 1)
        mongo: MongoClient[dict[str, Any]] = MongoClient(url)
        with mongo:
            mdb = mongo[database]
            docs = [
                json.dumps(row, default=str)
                for name in mdb.list_collection_names()
                for row in mdb[name].find({})
            ]
        return "\n".join(docs).lower()
    import redis

    url, prefix = location.rsplit("|", 1)
    return redis_dump(redis.Redis.from_url(url, decode_responses=True), f"{prefix}*")


def redis_dump(store: Any, match: str = "*") -> str:
    """The keys and values of every key matching `match`, as lower-case text."""
    readers = {
        "string": store.get,
        "hash": store.hgetall,
        "set": store.smembers,
        "zset": lambda key: store.zrange(key, 0, -1, withscores=True),
        "list": lambda key: store.lrange(key, 0, -1),
    }
    parts = [f"{key} {readers[store.type(key)](key)!r}" for key in store.scan_iter(match=match)]
    store.close()
    return "\n".join(parts).lower()


@pytest.mark.parametrize("kind", ["sqlite_view", "sqlite_search", "mongo_view", "redis_search"])
async def test_generations_left_by_a_killed_rebuild_are_swept_and_hold_no_erased_value(
    commands: CustomerCommands, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    location = str(tmp_path / "read.db")
    if kind == "mongo_view":
        location = f"{request.getfixturevalue('mongo_url')}|sweep_{uuid.uuid4().hex[:10]}"
    if kind == "redis_search":
        location = f"{request.getfixturevalue('redis_url')}|sw{uuid.uuid4().hex[:10]}"
    opened: list[Clients] = []

    def at(generation: int) -> Any:
        adapter, clients = _sink(kind, location, generation)
        opened.append(clients)
        return adapter

    log = EventLog(commands.executor.app)
    live = ActiveGeneration(at, ttl=0)
    zeb = (await commands.create(ADMIN, ProfileInput(PROFILE))).customer.id
    await commands.create(ADMIN, ProfileInput({"firstName": "Other"}))
    await ProjectionRunner(log, [live], DeadLetterBook(commands.executor.app)).catch_up()
    # A rebuild killed after it switched to generation 2 (generation 1 not dropped yet) ...
    switched = at(2)
    await ProjectionRunner(log, [switched], DeadLetterBook(commands.executor.app)).catch_up()
    await switched.activate()
    # ... and a later one killed while it was building generation 3 (never activated).
    partial = at(3)
    await ProjectionRunner(log, [partial], DeadLetterBook(commands.executor.app)).catch_up()
    for adapter in (switched, partial):
        await adapter.close()
    before = raw_dump(kind, location)
    assert "zebulonsweep" in before
    assert "quaxtergen" in before

    await PrivacyCommands(commands.executor).erase(ADMIN, zeb, "asked")
    await ProjectionRunner(log, [live], DeadLetterBook(commands.executor.app)).catch_up()
    with rebuild_lock(tmp_path, live.name, wait=False) as free:
        assert free
        assert await live.sweep() == [1, 3]
    assert [needle for needle in NEEDLES if needle in raw_dump(kind, location)] == []
    current = await live.current()
    assert current.generation == 2
    assert await current.generations() == {2}
    assert await current.checkpoint() == log.head()
    assert await live.sweep() == []  # nothing else to drop; the active generation stays
    await current.drop()
    await live.close()
    for clients in opened:
        await clients.close()


def test_the_sweep_waits_for_a_live_rebuild(tmp_path: Path) -> None:
    """A live rebuild holds its lock: a sweep meanwhile is told so (it must not drop the
    generation being built), and the lock is free again once the rebuild ends."""
    with rebuild_lock(tmp_path, "search", wait=True):
        with rebuild_lock(tmp_path, "search", wait=False) as free:
            assert not free
        with rebuild_lock(tmp_path, "customer_view", wait=False) as free:
            assert free
    with rebuild_lock(tmp_path, "search", wait=False) as free:
        assert free
