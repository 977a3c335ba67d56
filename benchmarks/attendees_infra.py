"""The attendees benchmark's surroundings: the shared broker (what existed before, what to
remove), the service subprocess and its stores, CPU and /metrics readings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import aiormq
from aio_pika.abc import AbstractConnection

from benchmarks.attendees_workload import (
    INBOUND_QUEUES,
    ORDERS_QUEUE,
    REDIS_DB,
    SECRET,
    SHARED_EXCHANGES,
    SHARED_QUEUES,
)
from benchmarks.service import KEYS, wait_for_health


# ------------------------------------------------------------------------------- broker
@dataclass
class BrokerState:
    """Which shared queues and exchanges existed before the run."""

    queues: dict[str, tuple[int, int] | None]
    exchanges: dict[str, bool]


async def queue_state(connection: AbstractConnection, name: str) -> tuple[int, int] | None:
    """(messages, consumers) of a queue, or None when it does not exist (passive declare)."""
    channel = await connection.channel()
    try:
        queue = await channel.declare_queue(name, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return None
    finally:
        if not channel.is_closed:
            await channel.close()
    result = queue.declaration_result
    return int(result.message_count or 0), int(result.consumer_count or 0)


async def exchange_exists(connection: AbstractConnection, name: str) -> bool:
    """True when the exchange exists (passive declare)."""
    channel = await connection.channel()
    try:
        await channel.get_exchange(name, ensure=True)
    except aiormq.exceptions.ChannelNotFoundEntity:
        return False
    finally:
        if not channel.is_closed:
            await channel.close()
    return True


async def inspect_broker(connection: AbstractConnection) -> BrokerState:
    """Snapshot the shared entities; refuse to run beside another `customers.orders` consumer;
    purge the inbound queues so that nothing left over is processed during the run."""
    queues = {name: await queue_state(connection, name) for name in SHARED_QUEUES}
    exchanges = {name: await exchange_exists(connection, name) for name in SHARED_EXCHANGES}
    orders = queues[ORDERS_QUEUE]
    if orders is not None and orders[1]:
        raise SystemExit(
            f"{ORDERS_QUEUE} already has {orders[1]} consumer(s): another service would take "
            "part of the orders. Stop it first."
        )
    channel = await connection.channel()
    for name in INBOUND_QUEUES:
        if queues[name] is not None:
            queue = await channel.declare_queue(name, passive=True)
            await queue.purge()
    await channel.close()
    return BrokerState(queues, exchanges)


async def remove_created(connection: AbstractConnection, before: BrokerState) -> list[str]:
    """Delete the shared queues and exchanges this run created (only when unused)."""
    notes = []
    for name in SHARED_QUEUES:
        if before.queues[name] is None and await queue_state(connection, name) is not None:
            notes.append(await _delete(connection, "queue", name))
    for name in SHARED_EXCHANGES:
        if not before.exchanges[name] and await exchange_exists(connection, name):
            notes.append(await _delete(connection, "exchange", name))
    return notes


async def _delete(connection: AbstractConnection, kind: str, name: str) -> str:
    channel = await connection.channel()
    try:
        if kind == "queue":
            await channel.queue_delete(name, if_unused=True)
        else:
            await channel.exchange_delete(name, if_unused=True)
    except aiormq.exceptions.ChannelPreconditionFailed:
        return f"kept {kind} {name} (in use)"
    finally:
        if not channel.is_closed:
            await channel.close()
    return f"deleted {kind} {name}"


# ------------------------------------------------------------------------------- service
@dataclass
class Stores:
    """Service URLs of a `--services` run, and how to remove what it created."""

    postgres: str
    schema: str
    mongo: str
    mongo_db: str
    redis: str

    @classmethod
    def from_env(cls, run: str, redis_db: int = REDIS_DB) -> Stores:
        """Fresh schema, fresh database, Redis `redis_db` on the `CUSTOMERS_TEST_*` services."""
        missing = [
            name
            for name in ("POSTGRES", "MONGO", "REDIS")
            if not os.environ.get(f"CUSTOMERS_TEST_{name}_URL")
        ]
        if missing:
            raise SystemExit(f"--services needs CUSTOMERS_TEST_{missing[0]}_URL (scripts/services)")
        mongo = urlparse(os.environ["CUSTOMERS_TEST_MONGO_URL"])
        database = f"bench_attendees_{run}"
        redis = urlparse(os.environ["CUSTOMERS_TEST_REDIS_URL"])
        return cls(
            postgres=os.environ["CUSTOMERS_TEST_POSTGRES_URL"],
            schema=f"bench_attendees_{run}",
            mongo=urlunparse(mongo._replace(path=f"/{database}")),
            mongo_db=database,
            redis=urlunparse(redis._replace(path=f"/{redis_db}")),
        )

    @property
    def event_store_url(self) -> str:
        """The PostgreSQL URL with the run's schema."""
        sep = "&" if "?" in self.postgres else "?"
        return f"{self.postgres}{sep}schema={self.schema}"

    def flush_redis(self) -> int:
        """FLUSHDB on the run's Redis db, unless another client is connected to that db (then
        nothing is flushed, since the keys are not namespaced per service instance): the
        number of such other connections, 0 when flushed."""
        import redis

        client = redis.Redis.from_url(self.redis)
        try:
            own = str(client.client_id())
            database = str(client.connection_pool.connection_kwargs.get("db", 0))
            others = [
                c for c in client.client_list() if c.get("db") == database and c.get("id") != own
            ]
            if not others:
                client.flushdb()
            return len(others)
        finally:
            client.close()

    def remove(self) -> list[str]:
        """Drop the schema and the database, flush the Redis db (when nobody else uses it)."""
        import psycopg
        import pymongo
        from psycopg import sql

        conninfo = urlunparse(urlparse(self.postgres)._replace(query=""))
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
        mongo: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(self.mongo)
        try:
            # FerretDB may still apply writes the stopped service had sent, which re-create
            # the database: drop until it stays gone.
            for _ in range(10):
                mongo.drop_database(self.mongo_db)
                time.sleep(1.0)
                if self.mongo_db not in mongo.list_database_names():
                    break
        finally:
            mongo.close()
        others = self.flush_redis()
        if others:
            return [f"NOT flushed {self.redis}: {others} other connection(s) use it now"]
        return [f"dropped schema {self.schema} and database {self.mongo_db}, flushed {self.redis}"]


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(
    amqp_url: str, data_dir: Path, port: int, stores: Stores | None, log: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    """`customers serve` with the broker (and the services), waiting until /health answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    env.update(
        CUSTOMERS_AMQP_URL=amqp_url,
        CUSTOMERS_JWT_SECRET=SECRET,
        CUSTOMERS_LOG_LEVEL="WARNING",
        CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE="0",
        CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE="0",
        **KEYS,
    )
    if stores is not None:
        env["CUSTOMERS_EVENT_STORE_URL"] = stores.event_store_url
        env["CUSTOMERS_MONGO_URL"] = stores.mongo
        env["CUSTOMERS_REDIS_URL"] = stores.redis
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    if wait_for_health(process, port, 60):
        return process
    stop_service(process)
    raise RuntimeError(f"the service did not start:\n{log.read_text(errors='replace')[-3000:]}")


def stop_service(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (graceful: consumer, projections and relay stop), SIGKILL after 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def check_broker(
    connection: AbstractConnection, before: BrokerState, extra: dict[str, Any], workers: int = 1
) -> None:
    """Dead-lettered orders of this run, and a warning if another consumer joined."""
    consumers = await queue_state(connection, ORDERS_QUEUE)
    if consumers is not None and consumers[1] > workers:
        extra["notes"].append(
            f"WARNING: {consumers[1]} consumers on {ORDERS_QUEUE} at the end: "
            "another service took part of the orders"
        )
    dlq = await queue_state(connection, "customers.orders.dlq")
    dlq_before = before.queues["customers.orders.dlq"]
    extra["dead_lettered"] = (dlq[0] if dlq else 0) - (dlq_before[0] if dlq_before else 0)


# ------------------------------------------------------------------------------- output
