"""Customer 360 figures on the services profile (PostgreSQL, MongoDB-wire, Redis, RabbitMQ,
from `CUSTOMERS_TEST_*_URL`), each with a baseline measured in the same run:

- contactability p99 in process (the cache, else one read-model read) vs `GET /customers/{id}`'s
  own read path;
- the timeline's first page for a customer with 10,000 events (unfiltered, and filtered to a
  kind found only at the start: the worst case) vs reading the whole stream (`/history`'s read);
- notifications through RabbitMQ at a target rate: the rate reached and publish→stored p99
  (stored = visible to `GET .../communications` and the timeline, which read the stream).

`python -m benchmarks.customer360 [--events 10000] [--rate 1000] [--seconds 5]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika

from benchmarks.figures import machine, percentile, table
from entrypoints.runtime import Runtime, start_runtime
from shared.errors import ServiceUnavailable
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.commands import ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.domain import engagement
from write_side.domain.engagement import Communication

ADMIN = Principal("bench", "acme", frozenset({Role.ADMIN}))


def settings(data_dir: Path) -> Settings:
    unique = f"bench360_{uuid.uuid4().hex[:8]}"
    pg = os.environ["CUSTOMERS_TEST_POSTGRES_URL"]
    return Settings(
        data_dir=data_dir,
        event_store_url=f"{pg}{'&' if '?' in pg else '?'}schema={unique}",
        mongo_url=os.environ["CUSTOMERS_TEST_MONGO_URL"].rstrip("/") + "/" + unique,
        redis_url=os.environ["CUSTOMERS_TEST_REDIS_URL"],
        amqp_url=os.environ["CUSTOMERS_TEST_AMQP_URL"],
        jwt_secret="bench-secret-with-at-least-32-bytes-of-entropy",
    )


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(name: str, samples: list[float], base: list[float] | None = None) -> list[Any]:
    p99 = percentile(samples, 0.99)
    ratio = f"{p99 / percentile(base, 0.99):.2f}x" if base else "1.00x"
    return [name, percentile(samples, 0.5), p99, ratio]


async def busy_customer(runtime: Runtime, events: int) -> str:
    """A customer with a note at the start and `events` communications after it, saved in one
    transaction (recording them one command at a time would replay the stream each time)."""
    created = await runtime.commands.create(
        CommandMeta(ADMIN), ProfileInput({"firstName": "Ann", "email": "ann@example.com"})
    )
    customer = runtime.commands.executor.repository.get("acme", created.customer.id)
    engagement.add_note(customer, actor="bench", note_id="n-0", text="first")
    for index in range(events - 2):
        communication = Communication(
            f"n-{index}", "notification", "email", "outbound", "invoice", None, "tpl", "sent",
            None, "2026-12-01T10:00:00Z",
        )  # fmt: skip
        engagement.record_communication(customer, actor="bench", communication=communication)
    await asyncio.to_thread(runtime.store.save, customer)
    return str(customer.id)


async def reads(runtime: Runtime, events: int) -> list[list[Any]]:
    cid = await busy_customer(runtime, events)
    head = runtime.log.head()
    while min(runtime.runner.positions().values()) < head:  # the projections catch up
        await asyncio.sleep(0.1)
    reads = runtime.engagement_reads
    first = await timed(lambda: reads.timeline(ADMIN, cid, None, 20, None), 200)
    try:
        rare = await timed(lambda: reads.timeline(ADMIN, cid, ["note"], 20, None), 5)
    except ServiceUnavailable:  # the request deadline (CUSTOMERS_SERVICE_TIMEOUT) ran out
        rare = [float("nan")]
    whole = await timed(lambda: runtime.queries.events("acme", cid), 20)
    get = await timed(lambda: runtime.queries.get("acme", cid, None), 2000)
    contact = await timed(lambda: reads.contactability("acme", cid, "marketing_sms", None), 2000)
    return [
        row("GET customer read path (baseline)", get),
        row("contactability", contact, get),
        row(f"whole stream, {events:,} events (baseline)", whole),
        row("timeline first page (20)", first, whole),
        row("timeline first page, kind=note (at the start)", rare, whole),
    ]


async def notifications(runtime: Runtime, rate: int, seconds: float) -> list[list[Any]]:
    customers = []
    for index in range(200):
        body = {"firstName": f"N{index}", "email": f"n{index}@example.com"}
        created = await runtime.commands.create(CommandMeta(ADMIN), ProfileInput(body))
        customers.append(str(created.customer.id))
    assert runtime.consumer is not None
    published: dict[str, float] = {}
    stored: dict[str, float] = {}
    handlers: Any = runtime.consumer._handlers
    original = handlers.handle

    async def handle(routing_key: str, body: bytes) -> None:
        await original(routing_key, body)
        stored[json.loads(body)["notificationId"]] = time.perf_counter()

    object.__setattr__(handlers, "handle", handle)
    total = int(rate * seconds)
    connection = await aio_pika.connect_robust(runtime.settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "notifications.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        started = time.perf_counter()
        for index in range(total):
            due = started + index / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            nid = f"bench-{index}"
            body = {"notificationId": nid, "tenantId": "acme", "channel": "email",
                    "customerId": customers[index % len(customers)], "purpose": "invoice",
                    "template": "t", "at": "2026-12-01T10:00:00Z"}  # fmt: skip
            message = aio_pika.Message(
                json.dumps(body).encode(), message_id=nid,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )  # fmt: skip
            published[nid] = time.perf_counter()
            await exchange.publish(message, routing_key="notification.sent")
        sent = time.perf_counter() - started
        deadline = time.perf_counter() + 120
        while len(stored) < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
    done = max(stored.values()) - started if stored else float("inf")
    latencies = [(stored[k] - published[k]) * 1000 for k in stored]
    reached = len(stored) / done
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    return [
        ["published", total, f"{total / sent:,.0f}/s", "target 1.00x"],
        ["stored (visible)", len(stored), f"{reached:,.0f}/s", f"{reached / rate:.2f}x"],
        ["publish→stored p50 / p99 ms", "", f"{p50:,.0f} / {p99:,.0f}", ""],
    ]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        runtime = await start_runtime(settings(Path(folder)))
        try:
            rows = await reads(runtime, args.events)
            print(table(["read (in process)", "p50 ms", "p99 ms", "p99 vs baseline"], rows))
            flow = await notifications(runtime, args.rate, args.seconds)
            print(table(["notifications", "count", "rate", "vs target"], flow))
        finally:
            await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main())
