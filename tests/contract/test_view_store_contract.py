"""One contract suite for the `CustomerViewStore` port, run against SQLite and MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from read_side.events import EventEnvelope
from read_side.store import ManagedViewStore
from read_side.store.mongo_store import MongoViewStore
from read_side.store.sqlite_store import SQLiteViewStore
from read_side.views import CustomerDoc, evolve
from tests.contract.view_contract_base import Log, fold, new_id
from tests.contract.view_contract_crashes import CrashContract
from tests.contract.view_contract_loyalty import LoyaltyContract


class ViewStoreContract(CrashContract, LoyaltyContract):
    """The behaviour every `CustomerViewStore` adapter must have."""

    async def test_apply_then_get_equals_evolve(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        events = [
            log.created("t1", c, attributes={"loyalty.tier": "gold", "$x": 1, "a%2E": True}),
            log.changed("t1", c, lastName="Lovelace", tags=["vip", "b"]),
        ]
        await store.apply(events, events[-1].position)
        assert await store.get("t1", c) == fold(events)[("t1", c)]
        assert await store.get("t1", new_id()) is None

    async def test_tenant_isolation(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        events = [log.created("t1", c, firstName="One"), log.created("t2", c, firstName="Two")]
        await store.apply(events, 2)
        assert (await store.get("t1", c) or {})["firstName"] == "One"
        assert (await store.get("t2", c) or {})["firstName"] == "Two"
        only_t1 = [log.created("t1", new_id())]
        await store.apply(only_t1, 3)
        assert await store.get("t2", only_t1[0].customer_id) is None
        assert await store.get_many("t2", [only_t1[0].customer_id]) == []
        assert [d["tenantId"] for d in await store.get_many("t2", [c])] == ["t2"]

    async def test_get_many_keeps_order_and_skips_missing(self) -> None:
        store, log = await self.make_store(), Log()
        ids = [new_id() for _ in range(5)]
        await store.apply([log.created("t1", i) for i in ids], 5)
        wanted = [ids[3], new_id(), ids[0], ids[4], new_id()]
        assert [d["id"] for d in await store.get_many("t1", wanted)] == [ids[3], ids[0], ids[4]]
        assert await store.get_many("t1", []) == []

    async def test_get_many_reads_only_the_fields_asked_for(self) -> None:
        store, log = await self.make_store(), Log()
        ids = [new_id() for _ in range(3)]
        await store.apply([log.created("t1", i) for i in ids], 3)
        whole = await store.get_many("t1", ids)
        docs = await store.get_many("t1", [ids[2], ids[0]], ["firstName", "tags", "noSuchField"])
        assert [d["id"] for d in docs] == [ids[2], ids[0]]
        assert docs[1] == {
            "id": ids[0], "firstName": whole[0]["firstName"], "tags": whole[0]["tags"],
            "noSuchField": None,
        }  # fmt: skip
        assert await store.get_many("t2", ids, ["firstName"]) == []

    async def test_checkpoint_starts_at_zero_and_moves_only_with_apply(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        assert await store.checkpoint() == 0
        await store.apply([log.created("t1", c)], 7)
        assert await store.checkpoint() == 7
        await store.get("t1", c)
        await store.get_many("t1", [c])
        assert await store.checkpoint() == 7
        await store.apply([], 9)
        assert await store.checkpoint() == 9

    async def test_reapplying_same_or_older_batch_changes_nothing(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        older = [log.created("t1", c), log.changed("t1", c, firstName="Old")]
        newer = [log.changed("t1", c, firstName="New"), log.event("deleted", "t1", c)]
        await store.apply(older, 2)
        await store.apply(newer, 4)
        expected = fold(older + newer)[("t1", c)]
        await store.apply(newer, 4)
        assert await store.get("t1", c) == expected
        await store.apply(older, 2)
        assert await store.get("t1", c) == expected
        assert await store.checkpoint() == 4
        assert await store.count() == 1

    async def test_generations_are_isolated_and_switchable(self) -> None:
        blue, green, log, c = await self.make_store(1), await self.make_store(2), Log(), new_id()
        assert await blue.active_generation() == 1
        await green.apply([log.created("t1", c)], 1)
        assert await blue.get("t1", c) is None
        assert (await blue.count(), await blue.checkpoint()) == (0, 0)
        assert (await green.count(), await green.checkpoint()) == (1, 1)
        await green.activate()
        assert await blue.active_generation() == 2
        assert await green.active_generation() == 2
        await blue.activate()
        assert await green.active_generation() == 1
        await green.drop()
        assert (await green.count(), await green.checkpoint()) == (0, 0)
        assert await green.get("t1", c) is None

    async def test_drop_leaves_other_generations_alone(self) -> None:
        blue, green, log = await self.make_store(1), await self.make_store(2), Log()
        c = new_id()
        await blue.apply([log.created("t1", c)], 1)
        await green.apply([log.created("t1", new_id())], 2)
        await green.drop()
        assert await blue.get("t1", c) is not None
        assert (await blue.count(), await blue.checkpoint()) == (1, 1)

    async def test_state_and_type_changes_evolve_through_the_store(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        steps = [
            log.created("t1", c),
            log.changed("t1", c, firstName="Grace", phone="+14155552671"),
            log.event("type_changed", "t1", c, previous="new", to="regular"),
            log.event("deleted", "t1", c, reason="asked"),
        ]
        await store.apply(steps, 4)
        doc = await store.get("t1", c)
        assert doc is not None
        assert (doc["state"], doc["type"], doc["firstName"]) == ("deleted", "regular", "Grace")
        assert doc["deletedAt"] is not None and doc["version"] == 4
        restored = log.event("restored", "t1", c)
        await store.apply([restored], 5)
        doc = await store.get("t1", c)
        assert doc == fold([*steps, restored])[("t1", c)]
        assert doc is not None and (doc["state"], doc["deletedAt"]) == ("active", None)
        assert [h["state"] for h in doc["stateHistory"]] == ["active", "deleted", "active"]
        assert doc["stateHistory"][1]["reason"] == "asked"

    async def test_batch_of_2000_events_for_500_customers_then_500_rewrites(self) -> None:
        store, log = await self.make_store(), Log()
        keys = [(f"t{n % 3}", new_id()) for n in range(500)]
        events = [log.created(t, c) for t, c in keys]
        for round_ in range(3):
            events += [log.changed(t, c, notes=f"round {round_}") for t, c in keys]
        assert len(events) == 2000
        await store.apply(events, events[-1].position)
        expected = fold(events)
        assert await store.count() == 500
        assert await store.checkpoint() == 2000
        for tenant in ("t0", "t1", "t2"):
            ids = [c for t, c in keys if t == tenant]
            docs = await store.get_many(tenant, ids)
            assert docs == [expected[(tenant, c)] for c in ids]
            assert {d["version"] for d in docs} == {4}

        # A second batch rewrites all 500 existing documents (FerretDB once wedged on 50+).
        more = [log.changed(t, c, tags=["again"]) for t, c in keys]
        await store.apply(more, more[-1].position)
        expected = fold(events + more)
        assert await store.get_many("t1", [c for t, c in keys if t == "t1"]) == [
            expected[(t, c)] for t, c in keys if t == "t1"
        ]
        assert (await store.count(), await store.checkpoint()) == (500, 2500)


class TestSQLiteViewStore(ViewStoreContract):
    """The contract on the embedded SQLite adapter (one file shared by all generations)."""

    @pytest.fixture(autouse=True)
    async def _storage(self, tmp_path: Path) -> AsyncIterator[None]:
        self.path = tmp_path / "read.db"
        self.stores: list[SQLiteViewStore] = []
        yield
        for store in self.stores:
            await store.close()

    async def make_store(self, generation: int = 1) -> ManagedViewStore:
        store = SQLiteViewStore(self.path, generation=generation)
        self.stores.append(store)
        return store

    async def test_documents_and_checkpoint_commit_together(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        await store.apply([log.created("t1", c)], 1)
        before = await store.get("t1", c)

        def fail(*args: Any) -> None:
            raise RuntimeError("crash before the checkpoint")

        monkeypatch.setattr(store, "_write_checkpoint", fail)
        with pytest.raises(RuntimeError):
            await store.apply([log.changed("t1", c, notes="x"), log.created("t1", new_id())], 3)
        assert (await store.get("t1", c), await store.count()) == (before, 1)

    async def test_reopens_after_close(self) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        await store.apply([log.created("t1", c)], 1)
        await store.close()
        assert (await store.get("t1", c) or {}).get("id") == c


class TestMongoViewStore(ViewStoreContract):
    """The contract on MongoDB / FerretDB, in a database of its own per test."""

    @pytest.fixture(autouse=True)
    async def _storage(self, mongo_url: str, unique_name: str) -> AsyncIterator[None]:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        self.database = unique_name
        yield
        await self.client.drop_database(unique_name)
        await self.client.close()

    async def make_store(self, generation: int = 1) -> ManagedViewStore:
        store = MongoViewStore(self.client, self.database, generation=generation)
        await store.ensure_indexes()
        return store

    async def test_indexes_start_with_tenant_and_keys_are_tenant_scoped(self) -> None:
        store, log, c = MongoViewStore(self.client, self.database), Log(), new_id()
        await store.ensure_indexes()
        await store.ensure_indexes()  # idempotent
        await store.apply([log.created("t1", c)], 1)
        collection = self.client[self.database]["customer_view_g1"]
        indexes = await collection.index_information()
        assert len(indexes) > 8
        for name, info in indexes.items():
            assert name == "_id_" or info["key"][0][0] == "tenantId", name
        assert await collection.find_one({"_id": f"t1:{c}"}) is not None

    async def test_fields_an_evolve_drops_are_unset(self, monkeypatch: pytest.MonkeyPatch) -> None:
        store, log, c = await self.make_store(), Log(), new_id()
        await store.apply([log.created("t1", c, notes="secret")], 1)

        def forgetful(doc: CustomerDoc | None, event: EventEnvelope) -> CustomerDoc | None:
            result = evolve(doc, event)
            return {k: v for k, v in result.items() if k != "notes"} if result else None

        monkeypatch.setattr("read_side.store.mongo_store.evolve", forgetful)
        await store.apply([log.changed("t1", c, firstName="Eve")], 2)
        doc = await store.get("t1", c)
        assert doc is not None and "notes" not in doc and doc["firstName"] == "Eve"

    async def test_from_url_owns_its_client(self, mongo_url: str) -> None:
        store = MongoViewStore.from_url(mongo_url, self.database)
        assert await store.checkpoint() == 0
        await store.close()
