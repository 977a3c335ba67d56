"""The broker relay's checkpoint stores (SQLite and MongoDB): a position only moves forward,
per projection, so a relay resumed after a crash never re-reads behind what it confirmed."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from projectors.checkpoints import MongoCheckpointStore, SQLiteCheckpointStore
from read_side.store.sqlite_store import SQLiteViewStore

pytestmark = pytest.mark.services


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        await SQLiteViewStore(tmp_path / "views.db").checkpoint()  # the table exists already
        sqlite_store = SQLiteCheckpointStore(tmp_path / "views.db")
        yield sqlite_store
        await sqlite_store.close()
        with sqlite3.connect(tmp_path / "views.db") as db:
            rows = db.execute("SELECT name, generation, position FROM projection_checkpoints")
            assert sorted(rows) == [("broker_relay", 1, 20), ("other", 1, 3)]
        return
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        request.getfixturevalue("mongo_url")
    )
    database = "relay_" + uuid.uuid4().hex[:10]
    yield MongoCheckpointStore(client, database)
    found = await client[database]["projection_checkpoints"].find_one({"_id": "broker_relay:g1"})
    assert found is not None and found["position"] == 20
    await client.drop_database(database)
    await client.close()


async def test_checkpoints_only_move_forward(store: Any) -> None:
    assert await store.get("broker_relay") == 0
    for position, expected in [(10, 10), (5, 10), (10, 10), (20, 20), (0, 20)]:
        await store.set("broker_relay", position)
        assert await store.get("broker_relay") == expected
    await store.set("other", 3)
    assert (await store.get("other"), await store.get("broker_relay")) == (3, 20)
