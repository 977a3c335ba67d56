"""One contract suite for the `SearchIndex` port, run against SQLite and Redis (the shared
behaviour lives in `search_contract_matching`, `_ordering` and `_candidates`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from read_side.search import ManagedSearchIndex
from read_side.search.redis_index import RedisSearchIndex
from read_side.search.sqlite_index import SQLiteSearchIndex
from read_side.search.sqlite_write import write
from tests.contract.search_contract_base import Log, cid
from tests.contract.search_contract_candidates import CandidatesContract
from tests.contract.search_contract_matching import MatchingContract
from tests.contract.search_contract_ordering import OrderingContract
from tests.services import redis_client


class SearchIndexContract(MatchingContract, OrderingContract, CandidatesContract):
    """The behaviour every `SearchIndex` adapter must have."""


class TestSQLiteSearchIndex(SearchIndexContract):
    """The contract on the embedded SQLite adapter (one file shared by all generations)."""

    @pytest.fixture(autouse=True)
    async def _storage(self, tmp_path: Path) -> AsyncIterator[None]:
        self.path = tmp_path / "read.db"
        self.indexes: list[SQLiteSearchIndex] = []
        yield
        for index in self.indexes:
            await index.close()

    async def make_index(self, generation: int = 1) -> ManagedSearchIndex:
        index = SQLiteSearchIndex(self.path, generation=generation)
        self.indexes.append(index)
        return index

    async def test_rows_and_checkpoint_commit_together(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        log = Log()
        index = await self.loaded(log.created(cid(1), firstName="Ann"))
        calls = []

        def fail_second(*args: Any) -> None:
            calls.append(args)
            if len(calls) == 2:
                raise RuntimeError("crash in the middle of a batch")
            write(*args)

        monkeypatch.setattr("read_side.search.sqlite_write.write", fail_second)
        batch = [log.changed(cid(1), firstName="Bob"), log.created(cid(2), firstName="Bob")]
        with pytest.raises(RuntimeError):
            await index.apply(batch, 3)
        assert await index.checkpoint() == 1
        assert await self.ids(index, text="ann") == [cid(1)]
        assert await self.ids(index, text="bob") == []
        monkeypatch.undo()
        await index.apply(batch, 3)
        assert await self.ids(index, text="bob", sort="firstName") == [cid(1), cid(2)]


class TestRedisSearchIndex(SearchIndexContract):
    """The contract on Redis, under a key prefix of its own per test."""

    @pytest.fixture
    def server(self, redis_url: str) -> str:
        return redis_url

    @pytest.fixture(autouse=True)
    async def _storage(self, server: str, unique_name: str) -> AsyncIterator[None]:
        self.client = redis_client(server)
        self.prefix = unique_name
        yield
        keys = [key async for key in self.client.scan_iter(match=f"{unique_name}:*", count=500)]
        if keys:
            await self.client.unlink(*keys)
        await self.client.aclose()

    async def make_index(self, generation: int = 1) -> ManagedSearchIndex:
        return RedisSearchIndex(self.client, prefix=self.prefix, generation=generation)

    async def test_keys_are_hash_tagged_by_tenant(self) -> None:
        log = Log()
        await self.loaded(log.created(cid(1), "acme", firstName="Ann", phone="+14155552671"))
        keys = [key.decode() async for key in self.client.scan_iter(match=f"{self.prefix}:*")]
        tenant_keys = [key for key in keys if ":projection:" not in key]
        assert tenant_keys and all(
            key.startswith(f"{self.prefix}:g1:{{acme}}:") for key in tenant_keys
        )
        assert f"{self.prefix}:projection:search:g1:checkpoint" in keys

    async def test_works_with_resp2_and_decoded_responses(self, server: str) -> None:
        log = Log()
        client = redis_client(server, protocol=2, decode_responses=True)
        try:
            index = RedisSearchIndex(client, prefix=self.prefix, generation=3)
            await index.apply([log.created(cid(n), firstName="Zoë") for n in (1, 2, 3)], 3)
            assert await self.ids(index, limit=2, text="zoe", sort="-firstName") == [
                cid(3),
                cid(2),
                cid(1),
            ]
            await index.activate()
            assert (await index.checkpoint(), await index.active_generation()) == (3, 3)
            await index.drop()
            assert await index.checkpoint() == 0 and await self.ids(index) == []
        finally:
            await client.aclose()


class TestRedisClusterSearchIndex(TestRedisSearchIndex):
    """The contract on a 3-master Redis Cluster: a batch spans tenants (a slot each)."""

    @pytest.fixture
    def server(self, redis_cluster_url: str) -> str:
        return redis_cluster_url

    async def test_keys_are_hash_tagged_by_tenant(self) -> None:
        log = Log()
        await self.loaded(
            log.created(cid(1), "acme", firstName="Ann", phone="+14155552671"),
            log.created(cid(2), "globex", firstName="Bob"),
        )
        keys = [key.decode() async for key in self.client.scan_iter(match=f"{self.prefix}:*")]
        slots = {key: self.client.keyslot(key) for key in keys}
        for tenant in ("acme", "globex"):
            mine = {slots[k] for k in keys if k.startswith(f"{self.prefix}:g1:{{{tenant}}}:")}
            assert len(mine) == 1, f"{tenant}'s keys must share one slot"
        meta = f"{self.prefix}:projection:{{search}}"
        assert f"{meta}:g1:checkpoint" in keys
        assert self.client.keyslot(f"{meta}:epoch") == slots[f"{meta}:g1:checkpoint"]
        assert len({slots[k] for k in keys if ":g1:{" in k}) == 2, "two tenants, two slots"
