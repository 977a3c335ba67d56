"""A commit in one process wakes the projection runner of another at once (PostgreSQL
LISTEN/NOTIFY), long before its poll would."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.runner import ProjectionRunner
from projectors.wakeup import PostgresWakeup, channel_for, conninfo_for
from read_side.store.sqlite_store import SQLiteViewStore
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.event_store import open_event_store

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


def test_channels_differ_per_schema_and_conninfo_drops_the_schema() -> None:
    url = "postgresql://u:p@h:5432/db?schema=one"
    assert channel_for(url) != channel_for("postgresql://u:p@h:5432/db?schema=two")
    assert conninfo_for(url) == "postgresql://u:p@h:5432/db"


async def test_a_commit_elsewhere_wakes_the_projecting_process(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, event_store_url=postgres_schema_url)
    writer = CustomerCommands(open_event_store(settings), index_key=b"k")  # "process A"
    projecting = open_event_store(settings)  # "process B"
    views = SQLiteViewStore(tmp_path / "views.db")
    runner = ProjectionRunner(
        EventLog(projecting), [views], DeadLetterBook(projecting), poll_interval=30.0
    )
    sender, listener = PostgresWakeup(postgres_schema_url), PostgresWakeup(postgres_schema_url)
    writer.committer.on_commit.append(sender.signal)
    try:
        await runner.start()
        listener.listen(runner.notify)
        await asyncio.sleep(0.5)  # LISTEN is in place, the first catch-up is done
        created = await writer.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Woken"}))
        started = time.monotonic()
        while await views.checkpoint() < created.position:
            assert time.monotonic() - started < 5, "not woken: only the 30 s poll is left"
            await asyncio.sleep(0.02)
        doc = await views.get("acme", str(created.customer.id))
        assert doc is not None and doc["firstName"] == "Woken"
    finally:
        await runner.stop()
        sender.close()
        listener.close()
        await views.close()
        writer.close()
        writer.app.close()
        projecting.close()
