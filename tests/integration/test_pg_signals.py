"""Processes of one PostgreSQL deployment signal each other (LISTEN/NOTIFY): a commit wakes
the projecting process long before its poll would, and an erasure evicts the customer's key
from another process's cache at once instead of after the cache's time-to-live. A listener
whose connection was lost (cut by a TCP proxy) recovers by itself and makes up for what it
missed meanwhile."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from yarl import URL

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.runner import ProjectionRunner
from read_side.store.sqlite_store import SQLiteViewStore
from shared.adapters.pg_notify import PgChannel, channel_for, conninfo_for
from shared.principal import Principal, Role
from shared.settings import Settings
from tests.integration.tcp_proxy import TcpProxy
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


def test_channels_differ_per_schema_and_name_and_conninfo_drops_the_schema() -> None:
    url = "postgresql://u:p@h:5432/db?schema=one"
    assert channel_for(url, "events") != channel_for(
        "postgresql://u:p@h:5432/db?schema=two", "events"
    )
    assert channel_for(url, "events") != channel_for(url, "shredded")
    assert conninfo_for(url) == "postgresql://u:p@h:5432/db"


async def until(condition: Callable[[], bool], seconds: float, why: str) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, why
        await asyncio.sleep(0.02)


async def test_a_commit_elsewhere_wakes_the_projecting_process(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, event_store_url=postgres_schema_url)
    writer = CustomerCommands(
        CommandExecutor(open_event_store(settings), index_key=b"k")
    )  # "process A"
    projecting = open_event_store(settings)  # "process B"
    views = SQLiteViewStore(tmp_path / "views.db")
    runner = ProjectionRunner(
        EventLog(projecting), [views], DeadLetterBook(projecting), poll_interval=30.0
    )
    sender, listener = (
        PgChannel(postgres_schema_url, "events"),
        PgChannel(postgres_schema_url, "events"),
    )
    writer.executor.committer.on_commit.append(lambda: sender.send())
    try:
        await runner.start()
        listener.listen(lambda _payload: runner.notify())
        await asyncio.sleep(0.5)  # LISTEN is in place, the first catch-up is done
        created = await writer.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Woken"}))
        position = created.position
        checkpoints: list[int] = [0]

        async def caught_up() -> None:
            while checkpoints[-1] < position:
                checkpoints.append(await views.checkpoint())
                await asyncio.sleep(0.02)

        await asyncio.wait_for(caught_up(), timeout=5)  # not woken: only the 30 s poll is left
        doc = await views.get("acme", str(created.customer.id))
        assert doc is not None and doc["firstName"] == "Woken"
    finally:
        await runner.stop()
        sender.close()
        listener.close()
        await views.close()
        writer.executor.close()
        writer.executor.app.close()
        projecting.close()


async def test_an_erasure_evicts_the_key_in_other_processes_at_once(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, event_store_url=postgres_schema_url)
    eraser, reader = open_event_store(settings), open_event_store(settings)
    sent, heard = (
        PgChannel(postgres_schema_url, "shredded"),
        PgChannel(postgres_schema_url, "shredded"),
    )
    eraser.keys.on_shred.append(lambda customer_id: sent.send(str(customer_id)))
    heard.listen(lambda payload: reader.keys.forget(uuid.UUID(payload)))
    try:
        customer_id = uuid.uuid4()
        key = eraser.keys.get_or_create(customer_id)
        assert reader.keys.get(customer_id) == key  # now cached in the reader for 5 minutes
        await asyncio.sleep(0.5)  # LISTEN is in place
        eraser.keys.shred(customer_id)
        await until(lambda: reader.keys.get(customer_id) is None, 5, "the reader still decrypts")
    finally:
        sent.close()
        heard.close()
        eraser.close()
        reader.close()


async def test_a_lost_listen_connection_recovers_and_catches_up_by_itself(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    """The projecting process's LISTEN connection is cut (proxy), a customer is created while
    it is away (its notification is lost), then the connection comes back: the projection
    catches up by itself, in seconds, not at its next 30 s poll."""
    settings = Settings(data_dir=tmp_path, event_store_url=postgres_schema_url)
    writer = CustomerCommands(CommandExecutor(open_event_store(settings), index_key=b"k"))
    projecting = open_event_store(settings)
    views = SQLiteViewStore(tmp_path / "views.db")
    runner = ProjectionRunner(
        EventLog(projecting), [views], DeadLetterBook(projecting), poll_interval=30.0
    )
    proxy = TcpProxy(URL(postgres_schema_url))
    await proxy.start()
    sender, listener = PgChannel(postgres_schema_url, "events"), PgChannel(proxy.url(), "events")
    writer.executor.committer.on_commit.append(lambda: sender.send())
    try:
        await runner.start()
        listener.listen(lambda _payload: runner.notify(), on_reconnect=runner.notify)
        await asyncio.sleep(0.5)  # LISTEN is in place, the first catch-up is done
        await proxy.cut()
        created = await writer.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Missed"}))
        await asyncio.sleep(0.5)  # the notification went out to nobody
        assert await views.checkpoint() < created.position
        await proxy.start()
        await until_async(lambda: _has(views, created.customer.id), 8, "never caught up")
    finally:
        await runner.stop()
        sender.close()
        listener.close()
        await proxy.cut()
        await views.close()
        writer.executor.close()
        writer.executor.app.close()


async def test_an_erasure_signalled_while_the_listener_was_away_still_evicts_the_key(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, event_store_url=postgres_schema_url)
    eraser, reader = open_event_store(settings), open_event_store(settings)
    proxy = TcpProxy(URL(postgres_schema_url))
    await proxy.start()
    sent, heard = PgChannel(postgres_schema_url, "shredded"), PgChannel(proxy.url(), "shredded")
    eraser.keys.on_shred.append(lambda customer_id: sent.send(str(customer_id)))
    heard.listen(
        lambda payload: reader.keys.forget(uuid.UUID(payload)),
        on_reconnect=reader.keys.forget_all,
    )
    try:
        customer_id = uuid.uuid4()
        key = eraser.keys.get_or_create(customer_id)
        assert reader.keys.get(customer_id) == key  # now cached in the reader for 5 minutes
        await asyncio.sleep(0.5)  # LISTEN is in place
        await proxy.cut()
        eraser.keys.shred(customer_id)
        await asyncio.sleep(0.5)  # the signal went out to nobody
        await proxy.start()
        await until(lambda: reader.keys.get(customer_id) is None, 8, "the reader still decrypts")
    finally:
        sent.close()
        heard.close()
        await proxy.cut()
        eraser.close()
        reader.close()


async def _has(views: SQLiteViewStore, customer_id: uuid.UUID) -> bool:
    return await views.get("acme", str(customer_id)) is not None


async def until_async(condition: Callable[[], Awaitable[bool]], seconds: float, why: str) -> None:
    started = time.monotonic()
    while not await condition():
        assert time.monotonic() - started < seconds, why
        await asyncio.sleep(0.05)


async def test_a_signal_sent_as_the_connection_drops_is_sent_again_once_it_is_back(
    postgres_schema_url: str,
) -> None:
    proxy = TcpProxy(URL(postgres_schema_url))
    await proxy.start()
    sender, listener = PgChannel(proxy.url(), "events"), PgChannel(postgres_schema_url, "events")
    heard: list[str] = []
    listener.listen(heard.append)
    try:
        await asyncio.sleep(0.5)  # LISTEN is in place
        sender.send("first")
        await until(lambda: heard == ["first"], 5, "the first signal never arrived")
        await proxy.cut()  # the sender's open connection is gone; it does not know yet
        sender.send("second")
        await asyncio.sleep(0.5)
        await proxy.start()
        await until(lambda: "second" in heard, 8, "the signal was dropped with the connection")
    finally:
        sender.close()
        listener.close()
        await proxy.cut()
