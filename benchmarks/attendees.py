"""Benchmark: attendees processed per second through RabbitMQ, against the real service.

    python -m benchmarks.attendees [--services] [--orders 2000] [--rate 0] [--inflight 64]
                                   [--max-seconds 120] [--warmup 100] [--workers 1]
                                   [--py-spy OUT.txt]

The service runs as a subprocess (`python -m entrypoints.cli serve`) with `CUSTOMERS_AMQP_URL`
set, so it consumes `customers.orders` (bound to `orders.events`) and its broker relay
publishes to `customers.events`. The benchmark publishes `order.placed` messages of 1-5
attendees (uniform) to `orders.events`; about half of the attendees are returning customers:
the same email, or the same phone, as an attendee of an order already processed (so the
expected number of customers created is exact). Latency runs from publishing `order.placed`
to receiving the matching `customer.attendees_processed` (by `data.order_id`) on an exclusive
queue bound to `customers.events`.

`--rate 0` (default) publishes as fast as the consumer drains: at most `--inflight` orders
published and not yet processed. `--rate R` publishes R orders/s, steadily. Publishing stops
after `--orders` or `--max-seconds`; orders not processed 20 s after that count as missing.
`--warmup` orders go first and are not measured. `--workers N` runs `serve --workers N`: every
process consumes (competing consumers), one runs the projections; /metrics figures (group
commit) are then those of the process that answered.

Embedded (default): SQLite event store and read models in a temporary data dir, plus RabbitMQ.
`--services`: PostgreSQL (a fresh schema), MongoDB (a fresh database), Redis db 12
(`--redis-db`; flushed before and after, and the run refuses to start while another client is
connected to that db, since the service's Redis keys are not namespaced per instance). URLs
come from `CUSTOMERS_TEST_*_URL` (`eval "$(scripts/services env)"`).

Besides throughput and latency the table shows the service's CPU time per attendee (all its
threads, from /proc), which stays meaningful on a busy host, group-commit batch sizes and the
relay's lag (from /metrics). `--py-spy OUT --py-spy-gil` records where the CPU goes.

The broker is shared: `customers.orders` and `customers.payments` are purged before the run,
the run stops if another consumer is attached to `customers.orders`, and afterwards only the
queues and exchanges that did not exist before the run are deleted (and only when unused).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import aio_pika
import aiormq
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

SECRET = "benchmark-secret-with-32-bytes-or-more!!"
ORDERS_EXCHANGE = "orders.events"
EVENTS_EXCHANGE = "customers.events"
PROCESSED = "customer.attendees_processed"
ORDERS_QUEUE = "customers.orders"
INBOUND_QUEUES = (ORDERS_QUEUE, "customers.payments")
SHARED_QUEUES = (*INBOUND_QUEUES, "customers.orders.dlq", "customers.payments.dlq")
SHARED_EXCHANGES = (ORDERS_EXCHANGE, "payments.events", EVENTS_EXCHANGE)
REDIS_DB = 12
DRAIN_SECONDS = 20.0
TARGET = 500.0


# ------------------------------------------------------------------------------ workload
@dataclass(frozen=True)
class Identity:
    """A person who attends orders; new ones get a unique email and/or phone."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Order:
    """One `order.placed` body and what processing it should find."""

    order_id: str
    body: bytes
    attendees: int
    new: tuple[Identity, ...]
    by_email: int
    by_phone: int


class Workload:
    """Orders of 1-5 attendees; each attendee returns with probability `returning` when an
    earlier, already processed attendee exists (by email or by phone), else is new."""

    def __init__(self, run: str, tenant: str, *, seed: int, returning: float = 0.5) -> None:
        self._random = random.Random(seed)
        self._run = run
        self._tenant = tenant
        self._returning = returning
        self._known: list[Identity] = []
        self._people = 0
        self._orders = 0

    def processed(self, order: Order) -> None:
        """The order's new attendees are customers now: later orders may bring them back."""
        self._known.extend(order.new)

    def next_order(self) -> Order:
        """The next order (its new attendees are not known until `processed`)."""
        self._orders += 1
        order_id = f"bench-{self._run}-{self._orders}"
        attendees: list[dict[str, str]] = []
        new: list[Identity] = []
        by_email = by_phone = 0
        for _ in range(self._random.randint(1, 5)):
            if self._known and self._random.random() < self._returning:
                person = self._random.choice(self._known)
                use_email = person.email is not None and (
                    person.phone is None or self._random.random() < 0.5
                )
                attendee = {"firstName": person.first_name, "lastName": person.last_name}
                if use_email:
                    attendee["email"] = str(person.email)
                    by_email += 1
                else:
                    attendee["phone"] = str(person.phone)
                    by_phone += 1
            else:
                person = self._new_person()
                new.append(person)
                attendee = {"firstName": person.first_name, "lastName": person.last_name}
                if person.email:
                    attendee["email"] = person.email
                if person.phone:
                    attendee["phone"] = person.phone
                    attendee["phoneRegion"] = "US"
            attendees.append(attendee)
        body = {
            "orderId": order_id,
            "tenantId": self._tenant,
            "placedAt": datetime.now(UTC).isoformat(),
            "attendees": attendees,
        }
        return Order(
            order_id, json.dumps(body).encode(), len(attendees), tuple(new), by_email, by_phone
        )

    def _new_person(self) -> Identity:
        """80 % email and phone, 10 % email only, 10 % phone only; all unique in the run."""
        self._people += 1
        number = self._people
        kind = self._random.random()
        email = f"att{number}.{self._run}@example.com" if kind < 0.9 else None
        phone = f"+1415{200 + number // 10_000:03d}{number % 10_000:04d}" if kind >= 0.1 else None
        return Identity(f"Ann{number}", f"Bench{self._run}", email, phone)


# ------------------------------------------------------------------------------- results
@dataclass
class Phase:
    """What was published and received in one phase (warm-up or measurement)."""

    published: dict[str, float] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    attendees: int = 0
    created: int = 0
    by_email: int = 0
    by_phone: int = 0
    first_time: int = 0
    started: float = 0.0
    last_received: float = 0.0
    done: set[str] = field(default_factory=set)

    def percentile(self, fraction: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def elapsed(self) -> float:
        """First publish to last receipt, seconds."""
        return max(0.0, self.last_received - self.started)

    @property
    def missing(self) -> int:
        """Published orders whose `customer.attendees_processed` never arrived."""
        return len(self.published) - len(self.done)

    def expected(self) -> tuple[int, int, int]:
        """(new, by email, by phone) over the orders that were processed."""
        done = [self.orders[o] for o in self.done]
        return (
            sum(len(o.new) for o in done),
            sum(o.by_email for o in done),
            sum(o.by_phone for o in done),
        )


class Receiver:
    """Matches `customer.attendees_processed` messages to published orders by order id."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.phase = Phase()
        self.slots: asyncio.Semaphore | None = None
        self.all_done = asyncio.Event()
        self.foreign = 0
        self.duplicates = 0

    def start(self, phase: Phase, inflight: int | None) -> None:
        """Route receipts to `phase`; with `inflight`, publishing waits for free slots."""
        self.phase = phase
        self.slots = asyncio.Semaphore(inflight) if inflight else None
        self.all_done = asyncio.Event()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """One `customer.attendees_processed` from the service's broker relay."""
        received = time.perf_counter()
        try:
            data = json.loads(message.body)["data"]
            order_id = str(data["order_id"])
            results: list[dict[str, Any]] = list(data["results"])
        except (ValueError, KeyError, TypeError):
            self.foreign += 1
            return
        phase = self.phase
        sent = phase.published.get(order_id)
        if sent is None:
            self.foreign += 1  # another phase, another run, or another producer
            return
        if order_id in phase.done:
            self.duplicates += 1  # the relay delivers at least once
            return
        phase.done.add(order_id)
        phase.latencies.append(received - sent)
        phase.last_received = received
        phase.attendees += len(results)
        phase.created += sum(1 for r in results if r.get("created"))
        phase.by_email += sum(1 for r in results if r.get("matchedBy") == "email")
        phase.by_phone += sum(1 for r in results if r.get("matchedBy") == "phone")
        phase.first_time += sum(1 for r in results if r.get("firstTime"))
        self.workload.processed(phase.orders[order_id])
        if self.slots is not None:
            self.slots.release()
        if len(phase.done) == len(phase.published):
            self.all_done.set()


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
    )
    if stores is not None:
        env["CUSTOMERS_EVENT_STORE_URL"] = stores.event_store_url
        env["CUSTOMERS_MONGO_URL"] = stores.mongo
        env["CUSTOMERS_REDIS_URL"] = stores.redis
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live descendants (uvicorn workers),
    from Linux /proc; 0.0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children)


def scrape(port: int) -> dict[str, float]:
    """The service's /metrics as {line name with labels: value} (empty when unavailable)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                values[name] = float(value)
    return values


# ------------------------------------------------------------------------------- driving
@dataclass(frozen=True)
class Options:
    """The command line, typed."""

    services: bool
    redis_db: int
    orders: int
    warmup: int
    rate: float
    inflight: int
    max_seconds: float
    seed: int
    py_spy: Path | None
    py_spy_seconds: float
    py_spy_idle: bool
    py_spy_gil: bool
    workers: int = 1


async def wait_for_consumer(connection: AbstractConnection, seconds: float = 30) -> None:
    """Until the service consumes `customers.orders` (it may still be connecting)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = await queue_state(connection, ORDERS_QUEUE)
        if state is not None and state[1] > 0:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the service is not consuming {ORDERS_QUEUE}")


async def drive(
    exchange: aio_pika.abc.AbstractExchange,
    receiver: Receiver,
    workload: Workload,
    *,
    count: int,
    rate: float,
    inflight: int,
    max_seconds: float,
) -> Phase:
    """Publish up to `count` orders (steady `rate`, or closed loop of `inflight`), then wait up
    to DRAIN_SECONDS for the rest of the receipts."""
    phase = Phase()
    receiver.start(phase, None if rate else inflight)
    phase.started = time.perf_counter()
    deadline = phase.started + max_seconds
    for index in range(count):
        if rate:
            delay = phase.started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        elif receiver.slots is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.slots.acquire(), deadline - time.perf_counter())
        if time.perf_counter() >= deadline:
            break
        order = workload.next_order()
        phase.orders[order.order_id] = order
        phase.published[order.order_id] = time.perf_counter()
        message = aio_pika.Message(
            order.body,
            content_type="application/json",
            message_id=order.order_id,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await exchange.publish(message, routing_key="order.placed")
    receiver.all_done.clear()  # it may have been set while publishing
    if len(phase.done) < len(phase.published):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver.all_done.wait(), DRAIN_SECONDS)
    return phase


def start_py_spy(pid: int, options: Options) -> subprocess.Popen[bytes] | None:
    """py-spy record (raw collapsed stacks, per thread) of the service, if asked."""
    if options.py_spy is None:
        return None
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
    command += ["-d", str(int(options.py_spy_seconds)), "-f", "raw", "--threads", "--nonblocking"]
    command += ["-o", str(options.py_spy)]
    if options.py_spy_idle:
        command.append("--idle")
    if options.py_spy_gil:
        command.append("--gil")  # only the thread holding the GIL: where the CPU goes
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def benchmark(options: Options, amqp_url: str, port: int) -> tuple[Phase, dict[str, Any]]:
    """Set up broker, stores and service; run warm-up and measurement; clean up."""
    run = uuid.uuid4().hex[:8]
    stores = Stores.from_env(run, options.redis_db) if options.services else None
    if stores is not None and (others := stores.flush_redis()):
        raise SystemExit(
            f"{stores.redis} is in use by {others} other connection(s) (another service or "
            "benchmark); its keys would mix with this run's. Pass another --redis-db."
        )
    extra: dict[str, Any] = {"notes": []}
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        before = await inspect_broker(connection)
        try:
            phase = await measure(options, connection, amqp_url, run, stores, port, before, extra)
        finally:
            extra["notes"] += await remove_created(connection, before)
    finally:
        await connection.close()
        if stores is not None:
            extra["notes"] += await asyncio.to_thread(stores.remove)
    return phase, extra


async def measure(
    options: Options,
    connection: AbstractConnection,
    amqp_url: str,
    run: str,
    stores: Stores | None,
    port: int,
    before: BrokerState,
    extra: dict[str, Any],
) -> Phase:
    """Listen on `customers.events`, start the service, warm up, measure, stop the service."""
    channel = await connection.channel(publisher_confirms=True)
    queue = None
    consumer_tag = ""
    try:
        await channel.set_qos(prefetch_count=1000)
        events = await channel.declare_exchange(
            EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        orders = await channel.declare_exchange(
            ORDERS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(f"bench.attendees.{run}", exclusive=True)
        await queue.bind(events, routing_key=PROCESSED)
        workload = Workload(run, f"bench-{run}", seed=options.seed)
        receiver = Receiver(workload)
        consumer_tag = await queue.consume(receiver.on_message, no_ack=True)
        with tempfile.TemporaryDirectory(prefix="bench-attendees-") as data_dir:
            log = Path(data_dir) / "service.log"
            service = await asyncio.to_thread(
                start_service,
                amqp_url,
                Path(data_dir) / "data",
                port,
                stores,
                log,
                options.workers,
            )
            extra["pid"] = service.pid
            print(f"service pid {service.pid}, port {port}", file=sys.stderr, flush=True)
            try:
                await wait_for_consumer(connection)
                if options.warmup:
                    await drive(
                        orders, receiver, workload, count=options.warmup, rate=options.rate,
                        inflight=options.inflight, max_seconds=30,
                    )  # fmt: skip
                metrics_before = await asyncio.to_thread(scrape, port)
                cpu_before = cpu_seconds(service.pid)
                spy = start_py_spy(service.pid, options)
                phase = await drive(
                    orders, receiver, workload, count=options.orders, rate=options.rate,
                    inflight=options.inflight, max_seconds=options.max_seconds,
                )  # fmt: skip
                extra["cpu"] = cpu_seconds(service.pid) - cpu_before
                extra["load"] = os.getloadavg()[0]
                extra["metrics"] = (metrics_before, await asyncio.to_thread(scrape, port))
                await check_broker(connection, before, extra, options.workers)
                if spy is not None:
                    _, errors = await asyncio.to_thread(
                        spy.communicate, None, options.py_spy_seconds + 30
                    )
                    if spy.returncode:
                        extra["notes"].append(f"py-spy failed: {errors.decode()[-500:]}")
            finally:
                await asyncio.to_thread(stop_service, service)
                if service.returncode not in (0, -signal.SIGTERM):
                    extra["notes"].append(f"service exited with {service.returncode}")
        extra["foreign"], extra["duplicates"] = receiver.foreign, receiver.duplicates
        return phase
    finally:
        if queue is not None:
            with contextlib.suppress(Exception):
                if consumer_tag:
                    await queue.cancel(consumer_tag)
                await queue.delete(if_unused=False, if_empty=False)
        with contextlib.suppress(Exception):
            await channel.close()


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
def table(options: Options, phase: Phase, extra: dict[str, Any]) -> Iterator[str]:
    """The printed figures."""
    mode = "services (PostgreSQL + MongoDB + Redis)" if options.services else "embedded (SQLite)"
    pace = f"{options.rate:g} orders/s, steadily"
    if not options.rate:
        pace = f"as fast as drained (≤{options.inflight} orders in flight)"
    elapsed = phase.elapsed
    attendees_rate = phase.attendees / elapsed if elapsed else 0.0
    orders_rate = len(phase.done) / elapsed if elapsed else 0.0
    new, email, phone = phase.expected()
    matched = phase.by_email + phase.by_phone
    yield f"order.placed -> customer.attendees_processed via RabbitMQ, {mode} + RabbitMQ"
    yield (
        f"  {len(phase.published)} orders measured after {options.warmup} warm-up; "
        f"1-5 attendees/order, ~50% returning; publishing {pace}"
    )
    verdict = f"{'meets' if attendees_rate >= TARGET else 'BELOW'} target {TARGET:.0f}"
    if options.rate:
        verdict = f"offered load {options.rate:g} orders/s; capacity needs --rate 0"
    rows = [
        ("attendees/s (processed)", f"{attendees_rate:9.0f}   ({verdict})"),
        ("orders/s", f"{orders_rate:9.0f}"),
        ("p50 publish->processed", f"{phase.percentile(0.50):9.1f} ms"),
        ("p99 publish->processed", f"{phase.percentile(0.99):9.1f} ms"),
        ("attendees processed", f"{phase.attendees:9d}   in {elapsed:.1f} s"),
        (
            "customers created/matched",
            f"{phase.created:9d} / {matched} (email {phase.by_email}, phone {phase.by_phone})",
        ),
        ("  expected", f"{new:9d} / {email + phone} (email {email}, phone {phone})"),
        ("first visits", f"{phase.first_time:9d}"),
        (
            "orders missing/dead-lettered",
            f"{phase.missing:9d} / {extra.get('dead_lettered', 0)}",
        ),
    ]
    before, after = extra.get("metrics", ({}, {}))
    appended = after.get("customers_events_appended_total", 0) - before.get(
        "customers_events_appended_total", 0
    )
    batches = after.get("customers_commit_batches_total", 0) - before.get(
        "customers_commit_batches_total", 0
    )
    if batches:
        rows.append(
            (
                "group commit",
                f"{appended:9.0f} events in {batches:.0f} commits "
                f"({appended / batches:.1f} events/commit)",
            )
        )
    cpu = float(extra.get("cpu", 0.0))
    if cpu and phase.attendees:
        rows.append(
            (
                "service CPU",
                f"{cpu:9.1f} s = {cpu / elapsed:.0%} of a core, "
                f"{1000 * cpu / phase.attendees:.2f} ms/attendee "
                f"(-> {phase.attendees / cpu:.0f} attendees per CPU-second)",
            )
        )
    if "load" in extra:
        rows.append(("host load (1 min)", f"{extra['load']:9.2f} on {os.cpu_count()} CPUs"))
    lag = after.get('customers_projection_lag_events{projection="broker_relay"}')
    if lag is not None:
        rows.append(("relay lag at end", f"{lag:9.0f} events"))
    for label, value in rows:
        yield f"  {label:<30}{value}"
    if extra.get("duplicates") or extra.get("foreign"):
        yield f"  (ignored: {extra['duplicates']} duplicate, {extra['foreign']} foreign receipts)"
    for note in extra.get("notes", []):
        yield f"  broker clean-up: {note}" if note.startswith(("deleted", "kept")) else f"  {note}"


def main() -> None:
    """Parse the options, run once, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", action="store_true", help="PostgreSQL, MongoDB, Redis")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB, help="flushed before/after")
    parser.add_argument("--orders", type=int, default=2000, help="orders measured")
    parser.add_argument("--warmup", type=int, default=100, help="orders before measuring")
    parser.add_argument("--rate", type=float, default=0.0, help="orders/s; 0 = as drained")
    parser.add_argument("--inflight", type=int, default=64, help="closed-loop window (rate 0)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="publishing bound")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="service processes (all consume)")
    parser.add_argument("--amqp", default=os.environ.get("CUSTOMERS_TEST_AMQP_URL"))
    parser.add_argument("--port", type=int, default=0, help="service port (0 = any free)")
    parser.add_argument("--py-spy", type=Path, help="record the service with py-spy (raw)")
    parser.add_argument("--py-spy-seconds", type=float, default=15.0)
    parser.add_argument("--py-spy-idle", action="store_true", help="include idle stacks")
    parser.add_argument("--py-spy-gil", action="store_true", help="only GIL-holding stacks")
    args = parser.parse_args()
    if not args.amqp:
        raise SystemExit("set CUSTOMERS_TEST_AMQP_URL (scripts/services env) or pass --amqp")
    options = Options(
        services=args.services,
        redis_db=args.redis_db,
        orders=args.orders,
        warmup=args.warmup,
        rate=args.rate,
        inflight=max(1, args.inflight),
        max_seconds=args.max_seconds,
        seed=args.seed,
        py_spy=args.py_spy,
        py_spy_seconds=args.py_spy_seconds,
        py_spy_idle=args.py_spy_idle,
        py_spy_gil=args.py_spy_gil,
        workers=max(1, args.workers),
    )
    phase, extra = asyncio.run(benchmark(options, args.amqp, args.port or free_port()))
    if "pid" in extra and options.py_spy is not None:
        print(f"py-spy profile of service pid {extra['pid']}: {options.py_spy}")
    for line in table(options, phase, extra):
        print(line)


if __name__ == "__main__":
    main()
