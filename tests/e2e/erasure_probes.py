"""What the erasure proof reads and drives: a profile's settings and RabbitMQ names, the
broker objects of one test, and a text dump of every place the service keeps bytes (read
models, Redis, the data dir, PostgreSQL tables, the relay's messages, an event-store backup)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import psycopg
from litestar import Litestar
from litestar.testing import TestClient
from psycopg import sql

from projectors.broker_relay import BrokerRelay
from projectors.envelopes import EventLog
from shared.integration import encode, is_published, to_integration_event
from shared.settings import Settings
from tests.integration.raw_event_store import RawStore
from tests.integration.test_generation_sweep import redis_dump
from write_side.inbound.consumer import InboundConsumer, Subscription

Client = TestClient[Litestar]


@dataclass
class Profile:
    """One profile's settings and the RabbitMQ names of this test (none when embedded)."""

    settings: Settings
    names: dict[str, str] = field(default_factory=dict)


def relay_on(exchange: str) -> type[BrokerRelay]:
    class Relay(BrokerRelay):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, exchange=exchange, **kwargs)

    return Relay


def consumer_on(names: dict[str, str]) -> type[InboundConsumer]:
    subscriptions = (
        Subscription(names["orders"], names["orders_queue"], "order.*"),
        Subscription(names["payments"], names["payments_queue"], "payment.*"),
    )

    class Consumer(InboundConsumer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, subscriptions=subscriptions, **kwargs)

    return Consumer


async def declare_subscriber(settings: Settings, names: dict[str, str]) -> None:
    """A subscriber's queue bound to every outbound event, declared before the service runs."""
    assert settings.amqp_url
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(names["events"], "topic", durable=True)
        queue = await channel.declare_queue(names["subscriber"], durable=True)
        await queue.bind(exchange, "#")


async def delete_broker_objects(settings: Settings, names: dict[str, str]) -> None:
    assert settings.amqp_url
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in ("subscriber", "orders_queue", "payments_queue"):
            await channel.queue_delete(names[queue])
            if queue != "subscriber":
                await channel.queue_delete(f"{names[queue]}.dlq")
        for exchange in ("events", "orders", "payments"):
            await channel.exchange_delete(names[exchange])


async def publish(settings: Settings, exchange: str, key: str, body: dict[str, Any]) -> None:
    assert settings.amqp_url
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.declare_exchange(exchange, "topic", durable=True)
        message = aio_pika.Message(
            json.dumps(body).encode(), message_id=uuid.uuid4().hex, content_type="application/json"
        )
        await target.publish(message, routing_key=key)


async def drain(settings: Settings, queue_names: list[str]) -> dict[str, list[bytes]]:
    """Every message still queued in these queues (consumed: the test owns them)."""
    assert settings.amqp_url
    drained: dict[str, list[bytes]] = {}
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in queue_names:
            queue = await channel.declare_queue(name, passive=True)
            bodies = drained.setdefault(name, [])
            while (message := await queue.get(fail=False, no_ack=True)) is not None:
                bodies.append(message.body)
    return drained


# ------------------------------------------------------------------------------ the dumps
def everything_in_read_models(client: Client) -> str:
    """A text dump of every read model, search index and cache of the running profile: every
    MongoDB collection, every Redis key, the SQLite read models and the in-process cache."""
    runtime = client.app.state.runtime
    settings = runtime.settings
    parts: list[str] = []
    if settings.mongo_url:
        mongo = runtime.read.clients.mongo

        async def dump_mongo() -> str:
            database = mongo.get_default_database()
            texts = []
            for name in await database.list_collection_names():
                texts += [json.dumps(doc, default=str) async for doc in database[name].find({})]
            return "\n".join(texts)

        parts.append(client.blocking_portal.call(dump_mongo))
    if settings.redis_url:
        import redis

        parts.append(redis_dump(redis.Redis.from_url(settings.redis_url, decode_responses=True)))
    read_db = settings.data_dir / "read_models.db"
    if read_db.exists():
        with sqlite3.connect(read_db) as source:
            # one read transaction: a snapshot of the tables listed, so a generation a backfill
            # drops meanwhile is still read (the CI met "no such table: timeline_g1")
            source.execute("BEGIN")
            parts.append("\n".join(source.iterdump()))
            source.rollback()
        files = settings.data_dir.glob("read_models.db*")  # free pages and logs too
        parts += [path.read_bytes().decode("latin-1") for path in files]
    cache = getattr(runtime.read.cache, "_entries", None)
    if cache is not None:
        parts.append(json.dumps(list(cache.values()), default=str))
    return "\n".join(parts)


def data_dir_files(settings: Settings) -> str:
    """Every file of the data dir, byte for byte (SQLite databases with -wal and -shm)."""
    files = sorted(p for p in settings.data_dir.rglob("*") if p.is_file())
    assert not settings.event_store_url or not any(p.name == "events.db" for p in files)
    return "\n".join(f"{p.name}\n" + p.read_bytes().decode("latin-1") for p in files)


def postgres_tables(settings: Settings) -> str:
    """Every table of the event store's schema, as `COPY ... TO STDOUT` writes it (text, and
    binary so that BYTEA values are compared as stored, not hex-escaped): the event store's
    and the segment membership store's (`read_side/segments/pg_store.py`) live rows."""
    if not settings.event_store_url:
        return ""
    conninfo, _, query = settings.event_store_url.partition("?")
    schema = query.split("schema=", 1)[1].split("&", 1)[0]
    parts: list[bytes] = []
    with psycopg.connect(conninfo, autocommit=True) as db:
        tables = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        assert len(tables) >= 3
        # the segment membership store's documents (names: `q`) live here on PostgreSQL
        assert any(str(name).startswith("segment_membership_g") for (name,) in tables)
        for (table,) in tables:
            name = sql.Identifier(schema, table)
            for form in (sql.SQL(""), sql.SQL(" (FORMAT binary)")):
                statement = sql.SQL("COPY {} TO STDOUT{}").format(name, form)
                try:
                    with db.cursor().copy(statement) as copy:
                        parts += [bytes(chunk) for chunk in copy]
                except psycopg.errors.UndefinedTable:  # a generation a backfill just dropped
                    break
    return b"\n".join(parts).decode("latin-1")


def integration_messages(client: Client) -> str:
    """What the broker relay would publish now (after erasure) for every stored event."""
    log = EventLog(client.app.state.runtime.store)
    batch = log.read(0, 100_000)
    published = [e for e in batch.envelopes if is_published(e.type)]
    return "\n".join(encode(to_integration_event(e)).decode() for e in published)


def event_store_backup(client: Client) -> str:
    raw = RawStore(client.app.state.runtime.settings)
    return "\n".join(part.decode("latin-1") for part in raw.dump())


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def every_projection_at_head(client: Any) -> None:
    """Wait until every projection — the built-in ones and each added one, a backfilling one
    too — has applied the whole log: an erased value may stay in a lagging projection until
    it reaches the erasure, and a grep before that finds it (the CI met the timeline's and
    contactability's copies)."""
    runtime = client.app.state.runtime
    head = runtime.log.head()

    def caught_up() -> bool:
        positions = runtime.runner.positions()
        running = set(runtime.plugins) <= set(positions)
        return running and min(positions.values()) >= head

    wait_until(caught_up, "every projection at the head of the log", timeout=60)
