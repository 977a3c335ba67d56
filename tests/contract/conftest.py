"""Fixtures shared by the contract suites: adapters of every kind on isolated storage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.services import redis_client

# The shared contract bodies live in helper modules: give their asserts pytest's messages.
pytest.register_assert_rewrite(
    "tests.contract.event_builder",
    "tests.contract.search_contract_base",
    "tests.contract.search_contract_matching",
    "tests.contract.search_contract_ordering",
    "tests.contract.view_contract_base",
    "tests.contract.view_contract_crashes",
)

VIEW_KINDS = ("sqlite_view", "mongo_view")
SEARCH_KINDS = ("sqlite_search", "redis_search", "redis_cluster_search")


async def _adapters(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """generation → an adapter of the parametrised kind (one storage for all generations)."""
    opened: list[Any] = []
    make: Callable[[int], Any]
    cleanup: Callable[[], Any] | None = None
    kind = request.param
    if kind == "sqlite_view":
        from read_side.store.sqlite_store import SQLiteViewStore

        make = lambda g: SQLiteViewStore(tmp_path / "read.db", generation=g)  # noqa: E731
    elif kind == "sqlite_search":
        from read_side.search.sqlite_index import SQLiteSearchIndex

        make = lambda g: SQLiteSearchIndex(tmp_path / "read.db", generation=g)  # noqa: E731
    elif kind == "mongo_view":
        from pymongo import AsyncMongoClient

        from read_side.store.mongo_store import MongoViewStore

        name = request.getfixturevalue("unique_name")
        mongo: Any = AsyncMongoClient(request.getfixturevalue("mongo_url"))
        make = lambda g: MongoViewStore(mongo, name, generation=g)  # noqa: E731

        async def cleanup() -> None:
            await mongo.drop_database(name)
            await mongo.close()
    else:
        from read_side.search.redis_index import RedisSearchIndex

        prefix = request.getfixturevalue("unique_name")
        server = "redis_cluster_url" if kind == "redis_cluster_search" else "redis_url"
        client = redis_client(request.getfixturevalue(server))
        make = lambda g: RedisSearchIndex(client, prefix=prefix, generation=g)  # noqa: E731

        async def cleanup() -> None:
            await client.aclose()

    def at(generation: int) -> Any:
        adapter = make(generation)
        opened.append(adapter)
        return adapter

    yield at
    for adapter in opened:
        await adapter.drop()
        await adapter.close()
    if cleanup is not None:
        await cleanup()


@pytest.fixture(params=VIEW_KINDS + SEARCH_KINDS)
async def adapter_at(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """generation → a view store or search index of the parametrised kind."""
    async for at in _adapters(request, tmp_path):
        yield at


@pytest.fixture(params=SEARCH_KINDS)
async def index_at(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """generation → a search index of the parametrised kind."""
    async for at in _adapters(request, tmp_path):
        yield at
