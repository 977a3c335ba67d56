"""Retention erases customers deleted longer than the retention period (injected clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from entrypoints.retention import run_retention
from entrypoints.runtime import Runtime, start_runtime
from shared.clock import utc_now
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.commands import ProfileInput
from write_side.application.decisions import CommandMeta

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """Projections are driven by hand (`catch_up`) so the read model lags exactly as planned."""
    started = await start_runtime(Settings(data_dir=tmp_path, retention_days=30), projections=False)
    yield started
    await started.stop()


async def test_only_customers_deleted_before_the_period_are_erased(runtime: Runtime) -> None:
    commands = runtime.commands
    gone = await commands.create(
        CommandMeta(ADMIN), ProfileInput({"firstName": "Gone", "email": "gone@example.com"})
    )
    kept = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Kept"}))
    active = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Active"}))
    await commands.delete(CommandMeta(ADMIN), gone.customer.id, "left")
    await runtime.runner.catch_up()

    too_early = await run_retention(runtime, clock=lambda: utc_now() + timedelta(days=29))
    assert too_early == []

    later = lambda: utc_now() + timedelta(days=31)  # noqa: E731
    planned = await run_retention(runtime, clock=later, dry_run=True)
    assert [row["customerId"] for row in planned] == [str(gone.customer.id)]
    assert planned[0]["erased"] is False
    assert commands.executor.repository.get("acme", gone.customer.id).state == "deleted"

    restored_meanwhile = await commands.delete(CommandMeta(ADMIN), kept.customer.id, None)
    await runtime.runner.catch_up()
    await commands.restore(
        CommandMeta(ADMIN), kept.customer.id, None
    )  # read model still says deleted

    done = await run_retention(runtime, clock=later)
    by_id = {row["customerId"]: row["erased"] for row in done}
    assert by_id[str(gone.customer.id)] is True
    assert by_id.get(str(kept.customer.id)) is False
    assert commands.executor.repository.get("acme", gone.customer.id).state == "erased"
    assert commands.executor.repository.get("acme", gone.customer.id).profile["firstName"] is None
    assert commands.executor.repository.get("acme", kept.customer.id).state == "active"
    assert commands.executor.repository.get("acme", active.customer.id).state == "active"
    assert restored_meanwhile.customer.state == "deleted"
    await runtime.runner.catch_up()
    assert await run_retention(runtime, clock=later) == []
