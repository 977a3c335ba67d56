"""View-store contract: a crash anywhere in a batch, then a replay, equals a fresh replay."""

from __future__ import annotations

from typing import Any

import pytest

from read_side.events import EventEnvelope
from read_side.store import ManagedViewStore
from tests.contract.view_contract_base import Crash, Log, ViewStoreHarness, fold, new_id, snapshot


class CrashContract(ViewStoreHarness):
    """Re-applying after a crash is harmless on every adapter."""

    async def _replay_matches_fresh(self, crash: Crash) -> None:
        """Create customers, then break the store mid-way through one batch with `crash`,
        replay the batch from the old checkpoint and compare with a fresh generation."""
        store, log, ids = await self.make_store(), Log(), [new_id() for _ in range(6)]
        first = [log.created("t1", i) for i in ids]
        batch = [log.changed("t1", i, lastName="A") for i in ids[:4]]
        batch += [log.event("deleted", "t1", ids[1])]
        batch += [log.changed("t1", i, lastName="B") for i in ids[2:]]
        await store.apply(first, first[-1].position)
        old_checkpoint = await store.checkpoint()
        await crash(store, batch, old_checkpoint)
        assert await store.checkpoint() == old_checkpoint

        await store.apply(batch, batch[-1].position)  # the runner replays from its checkpoint
        fresh = await self.make_store(generation=2)
        everything = first + batch
        await fresh.apply(everything, everything[-1].position)
        keys = [("t1", i) for i in ids]
        assert await snapshot(store, keys) == await snapshot(fresh, keys)
        assert await snapshot(store, keys) == [fold(everything)[k] for k in keys]
        assert await store.checkpoint() == await fresh.checkpoint() == everything[-1].position

    async def test_crash_before_checkpoint_then_replay_equals_fresh_replay(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def crash(store: ManagedViewStore, batch: list[EventEnvelope], _: int) -> None:
            # The documents may or may not be durable (adapter-specific), the checkpoint is not.
            def fail(*args: Any) -> None:
                raise RuntimeError("crash before the checkpoint")

            monkeypatch.setattr(store, "_write_checkpoint", fail)
            with pytest.raises(RuntimeError):
                await store.apply(batch, batch[-1].position)
            monkeypatch.undo()

        await self._replay_matches_fresh(crash)

    async def test_half_a_batch_written_then_replay_equals_fresh_replay(self) -> None:
        async def crash(store: ManagedViewStore, batch: list[EventEnvelope], old: int) -> None:
            # The first half of the batch reached the store; the checkpoint stayed put.
            await store.apply(batch[: len(batch) // 2], old)

        await self._replay_matches_fresh(crash)

    async def test_a_batch_of_creates_reapplied_after_a_crash_equals_fresh_replay(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store, log, ids = await self.make_store(), Log(), [new_id() for _ in range(4)]
        batch = [log.created("t1", i, firstName="Ann") for i in ids]
        batch += [log.changed("t1", i, lastName="Lee") for i in ids[:2]]

        def fail(*args: Any) -> None:
            raise RuntimeError("crash before the checkpoint")

        monkeypatch.setattr(store, "_write_checkpoint", fail)
        with pytest.raises(RuntimeError):
            await store.apply(batch, batch[-1].position)  # documents stored, checkpoint not
        monkeypatch.undo()
        await store.apply(batch, batch[-1].position)  # the creates meet stored documents
        keys = [("t1", i) for i in ids]
        assert await snapshot(store, keys) == [fold(batch)[k] for k in keys]
        assert await store.checkpoint() == batch[-1].position
