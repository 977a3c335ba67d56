"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from tests.integration.broker_fixtures import broker, handlers, subscriptions  # noqa: F401
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands
from write_side.application.executor import CommandExecutor


@pytest.fixture
async def commands(tmp_path: Path) -> AsyncIterator[CustomerCommands]:
    """Command handlers on a fresh embedded (SQLite) event store."""
    customer_commands = CustomerCommands(
        CommandExecutor(open_event_store(Settings(data_dir=tmp_path)), index_key=b"k")
    )
    yield customer_commands
    customer_commands.executor.close()


@pytest.fixture(params=["sqlite", "mongo"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """generation → a fresh view store adapter of the parametrised kind."""
    if request.param == "sqlite":
        from read_side.store.sqlite_store import SQLiteViewStore

        return lambda generation: SQLiteViewStore(tmp_path / "views.db", generation=generation)
    from read_side.store.mongo_store import MongoViewStore

    url = request.getfixturevalue("mongo_url")
    database = "views_" + uuid.uuid4().hex[:10]
    return lambda generation: MongoViewStore.from_url(url, database, generation=generation)
