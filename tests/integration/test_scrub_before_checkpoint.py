"""A reader holding an erasure's consistency token waits for the projections' checkpoints: on
SQLite those must not pass the erasure before its bytes are scrubbed (FTS5 segments merged,
the write-ahead log emptied), or the reader could find the erased values still on disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import read_side.sqlite_adapter as sqlite_adapter
from projectors.envelopes import EventLog
from read_side.search.sqlite_index import SQLiteSearchIndex
from read_side.store.sqlite_store import SQLiteViewStore
from shared.adapters.sqlite_wal import truncate_wal
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.privacy import PrivacyCommands

ADMIN = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))


@pytest.mark.parametrize("kind", ["view", "search"])
async def test_the_checkpoint_passes_an_erasure_only_after_the_log_was_emptied(
    commands: CustomerCommands, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "read.db"
    adapter: Any = SQLiteViewStore(path) if kind == "view" else SQLiteSearchIndex(path)
    created = await commands.create(ADMIN, ProfileInput({"firstName": "Scrubbington"}))
    log = EventLog(commands.executor.app)
    first = log.read(0, 100)
    await adapter.apply(first.envelopes, first.last_position)
    await PrivacyCommands(commands.executor).erase(ADMIN, created.customer.id, None)
    batch = log.read(first.last_position, 100)
    assert "customer.erased" in [e.type for e in batch.envelopes]

    seen: list[int] = []

    def truncate_and_look(connection: Any, **kw: Any) -> bool:
        with sqlite3.connect(path) as other:  # what a reader sees meanwhile
            (position,) = other.execute(
                "SELECT position FROM projection_checkpoints WHERE name = ?", (adapter.name,)
            ).fetchone()
        seen.append(int(position))
        return truncate_wal(connection, **kw)

    monkeypatch.setattr(sqlite_adapter, "truncate_wal", truncate_and_look)
    await adapter.apply(batch.envelopes, batch.last_position)
    assert seen == [first.last_position]  # still before the erasure while scrubbing
    assert await adapter.checkpoint() == batch.last_position
    await adapter.close()
