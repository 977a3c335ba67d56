"""An added projection whose backfill fails is backfilled again (issue 13.4): on a fresh
embedded store several backfills at once met SQLite's "database is locked", and the failed
ones stayed `pending` — never running — until the service restarted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from entrypoints import plugins
from entrypoints.plugins import Plugin, start_plugins
from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.rebuild_jobs import RebuildJobs
from projectors.runner import ProjectionRunner
from read_side.analytics.overview import OverviewProjection
from read_side.generations import ActiveGeneration
from read_side.projections.sqlite_store import SQLiteProjectionStore
from read_side.projections.store import ProjectionStore
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))


async def test_a_failed_backfill_is_started_again_until_it_is_built(
    commands: CustomerCommands, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugins, "BACKFILL_RETRY_SECONDS", 0.05, raising=False)
    created = await commands.create(ADMIN, ProfileInput({"firstName": "Ann"}))
    projection = OverviewProjection()
    failures = [RuntimeError("database is locked")] * 2

    def factory(generation: int) -> ProjectionStore:
        if generation > 1 and failures:  # the backfill's new generation, twice
            raise failures.pop()
        return SQLiteProjectionStore(tmp_path / "read.db", projection, generation=generation)

    plugin = Plugin(projection, "test", ActiveGeneration(factory), factory)
    log = EventLog(commands.executor.app)
    runner = ProjectionRunner(log, [], DeadLetterBook(commands.executor.app), poll_interval=30)
    jobs = RebuildJobs(tmp_path)
    await start_plugins({projection.name: plugin}, runner, jobs, log, grace_seconds=0)
    for _ in range(500):
        if projection.name in runner.status:
            break
        await asyncio.sleep(0.02)
    assert failures == [], "both failures were met"
    assert projection.name in runner.status, jobs.results
    live = await plugin.live.current()
    assert await live.active_version() == projection.version
    assert await live.checkpoint() >= created.position
    await jobs.stop()
    await runner.stop()
