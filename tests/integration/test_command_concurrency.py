"""Application-level guarantees on both event stores: atomic uniqueness, retries, restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from shared.errors import Conflict
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))
Opener = Callable[[], CustomerCommands]


@pytest.fixture(params=["sqlite", "postgres"])
def open_commands(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    settings = Settings(data_dir=tmp_path, event_store_url=url)

    def opener() -> CustomerCommands:
        return CustomerCommands(CommandExecutor(open_event_store(settings), index_key=b"test-key"))

    return opener


@pytest.fixture
async def commands(open_commands: Opener) -> AsyncIterator[CustomerCommands]:
    handlers = open_commands()
    yield handlers
    handlers.executor.close()


async def test_concurrent_creates_with_one_email_make_exactly_one_customer(
    commands: CustomerCommands,
) -> None:
    attempts = [
        commands.create(
            CommandMeta(ADMIN), ProfileInput({"firstName": f"N{i}", "email": "Same@Example.com"})
        )
        for i in range(24)
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    created = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1
    assert len(conflicts) == 23
    assert {c.extra["existingId"] for c in conflicts} == {str(created[0].customer.id)}


async def test_concurrent_updates_without_if_match_are_retried_not_lost(
    commands: CustomerCommands,
) -> None:
    first = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Ann"}))
    customer_id = first.customer.id
    updates = [
        commands.update(CommandMeta(ADMIN), customer_id, ProfileInput({"attributes": {f"k{i}": i}}))
        for i in range(16)
    ]
    results = await asyncio.gather(*updates)
    assert sorted(r.customer.version for r in results) == list(range(2, 18))
    final = commands.executor.repository.get("acme", customer_id)
    assert final.version == 17


async def test_stale_if_match_under_concurrency_is_412_for_the_losers(
    commands: CustomerCommands,
) -> None:
    first = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Ann"}))
    meta = CommandMeta(ADMIN, expected_version=1)
    updates = [
        commands.update(meta, first.customer.id, ProfileInput({"notes": f"n{i}"})) for i in range(8)
    ]
    results = await asyncio.gather(*updates, return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(
        type(r).__name__ == "VersionMismatch" for r in results if isinstance(r, BaseException)
    )


async def test_uniqueness_and_idempotency_survive_a_restart(open_commands: Opener) -> None:
    before = open_commands()
    meta = CommandMeta(ADMIN, idempotency_key="key-1", fingerprint="body-1")
    first = await before.create(meta, ProfileInput({"email": "ann@example.com"}))
    before.executor.close()
    after = open_commands()
    try:
        replay = await after.create(meta, ProfileInput({"email": "ann@example.com"}))
        assert replay.replayed
        assert replay.customer.id == first.customer.id
        with pytest.raises(Conflict):
            await after.create(CommandMeta(ADMIN), ProfileInput({"email": "ANN@example.com"}))
        other = CommandMeta(ADMIN, idempotency_key="key-1", fingerprint="body-2")
        with pytest.raises(Exception, match="different request"):
            await after.create(other, ProfileInput({"email": "bob@example.com"}))
    finally:
        after.executor.close()


async def test_group_commit_batches_concurrent_commands(commands: CustomerCommands) -> None:
    creates = [
        commands.create(
            CommandMeta(ADMIN), ProfileInput({"email": f"u{i}-{uuid.uuid4().hex[:6]}@example.com"})
        )
        for i in range(64)
    ]
    results = await asyncio.gather(*creates)
    assert len({r.customer.id for r in results}) == 64
    assert commands.executor.committer.batches < 64
    positions = sorted(r.position for r in results)
    assert len(set(positions)) == 64
