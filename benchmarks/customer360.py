"""Customer 360 figures on the services profile (PostgreSQL, MongoDB-wire, Redis, RabbitMQ,
from `CUSTOMERS_TEST_*_URL`), each beside a baseline and the path it replaced, same run:

- contactability p99 in process: one read of its projection's document, vs the cache/view
  read it replaced, vs `GET /customers/{id}`'s own read path (the baseline);
- the timeline's first page for a customer with 10,000 events (unfiltered, and filtered to a
  kind found only at the start), from the projection and from the stream's end as before, vs
  reading the whole stream (`/history`'s read);
- notifications through RabbitMQ published by a separate process (its own connection) at a
  target rate, consumed one message at a time (before) and in batches (after): the rate
  reached and publish→stored p50/p99 (stored = committed, visible to `GET .../communications`),
  and messages per CPU second of this process until every projection (relay included) caught up.

`python -m benchmarks.customer360 [--events 10000] [--rate 1000] [--seconds 2]
[--only reads|notifications] [--consumers both|batched]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika

from benchmarks import notify_publisher
from benchmarks.figures import machine, percentile, table
from benchmarks.notify_watch import Watch
from entrypoints.event_readers import newest_events
from entrypoints.runtime import Runtime, start_runtime
from read_side.engagement import EngagementReads
from read_side.timeline import newest_matching
from read_side.timeline_pages import projected_page
from shared.errors import ServiceUnavailable
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.commands import ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.domain import engagement
from write_side.domain.engagement import Communication
from write_side.inbound.consumer import InboundConsumer, Subscription

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


class Samples(list[float]):
    """Wall ms per call, and the process's CPU ms per call (every thread: on a shared
    machine the wall tail is the scheduler's, the CPU is the read's own cost)."""

    cpu_ms = 0.0


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> Samples:
    samples = Samples()
    cpu = time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.cpu_ms = (time.process_time() - cpu) * 1000 / rounds
    return samples


def row(name: str, samples: Samples, base: Samples | None = None) -> list[Any]:
    p99 = percentile(samples, 0.99)
    ratio = f"{p99 / percentile(base, 0.99):.2f}x" if base else "1.00x"
    return [name, percentile(samples, 0.5), p99, ratio, f"{samples.cpu_ms:.2f}"]


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


async def caught_up(runtime: Runtime) -> None:
    """Until every projection, the timeline and contactability included, reached the head."""
    head = runtime.log.head()
    wanted = {"customer_view", "timeline", "contactability"}
    while True:
        positions = runtime.runner.positions()
        if wanted <= set(positions) and min(positions.values()) >= head:
            return
        await asyncio.sleep(0.1)


async def reads(runtime: Runtime, events: int) -> list[list[Any]]:
    cid = await busy_customer(runtime, events)
    await caught_up(runtime)
    reads = runtime.engagement_reads
    before = EngagementReads(runtime.records, runtime.queries, newest_events(runtime.log))
    get = await timed(lambda: runtime.queries.get("acme", cid, None), 2000)
    contact = await timed(lambda: reads.contactability("acme", cid, "marketing_sms", None), 2000)
    old_contact = await timed(
        lambda: before.contactability("acme", cid, "marketing_sms", None), 2000
    )
    whole = await timed(lambda: runtime.queries.events("acme", cid), 20)
    first = await timed(lambda: reads.timeline(ADMIN, cid, None, 20, None), 500)
    rare = await timed(lambda: reads.timeline(ADMIN, cid, ["note"], 20, None), 500)
    timeline = runtime.plugins["timeline"].live
    page_only = await timed(lambda: _page_only(timeline, cid, None), 500)
    rare_only = await timed(lambda: _page_only(timeline, cid, ["note"]), 500)
    newest = newest_events(runtime.log)
    stream_only = await timed(lambda: newest_matching(newest, "acme", cid, None, 20, None), 200)
    old_first = await timed(lambda: before.timeline(ADMIN, cid, None, 20, None), 200)
    try:
        old_rare = await timed(lambda: before.timeline(ADMIN, cid, ["note"], 20, None), 3)
    except ServiceUnavailable:  # the request deadline (CUSTOMERS_SERVICE_TIMEOUT) ran out
        old_rare = Samples([float("nan")])
    access = await timed(lambda: runtime.records.record_access(ADMIN, cid, "timeline", None), 500)
    return [
        row("GET customer read path (baseline)", get),
        row("contactability, projection (after)", contact, get),
        row("contactability, cache/view (before)", old_contact, get),
        row(f"whole stream, {events:,} events (baseline)", whole),
        row("timeline first page (20), projection", first, whole),
        row("timeline first page, kind=note (at the start)", rare, whole),
        row("  the page read alone (no access record)", page_only, whole),
        row("  kind=note, the page read alone", rare_only, whole),
        row("  the access record alone (fail-closed)", access, whole),
        row("timeline first page, stream read (before)", old_first, whole),
        row("  the stream read alone (no access record)", stream_only, whole),
        row("timeline kind=note, stream read (before)", old_rare, whole),
    ]


async def _page_only(live: Any, cid: str, kinds: list[str] | None) -> None:
    """A first page from the projection without the access-audit record a request writes."""
    store = await live.current()
    assert await projected_page(store, "acme", cid, kinds, 20, None) is not None


async def _delete_queues(url: str, queue: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for name in (queue, f"{queue}.dlq"):
            await channel.queue_delete(name)


async def _recipients(runtime: Runtime, batched: bool) -> list[str]:
    """200 customers for the notifications to name (their emails unique per phase)."""
    customers = []
    for index in range(200):
        body = {"firstName": f"N{index}", "email": f"n{index}.{batched}@example.com"}
        created = await runtime.commands.create(CommandMeta(ADMIN), ProfileInput(body))
        customers.append(str(created.customer.id))
    return customers


async def notifications(runtime: Runtime, rate: int, seconds: float, *, batched: bool) -> list[Any]:
    """One phase: a consumer (batched or one message at a time) drains what a separate
    process publishes at `rate`; stored = committed, visible to `GET .../communications`."""
    customers = await _recipients(runtime, batched)
    assert runtime.consumer is not None
    handlers: Any = runtime.consumer._handlers
    # A queue of this run's own: the broker is shared, and the service's queues may exist
    # with other arguments (another deployment's, another session's).
    queue = f"bench360.{uuid.uuid4().hex[:8]}.notifications"
    subscription = Subscription("notifications.events", queue, "notification.*")
    consumer = InboundConsumer(
        runtime.settings.amqp_url or "", handlers, subscriptions=(subscription,),
        batch_notifications=batched,
    )  # fmt: skip
    watch = Watch(runtime.engagement)
    stored = watch.stored
    watch.install()
    await consumer.start()
    total = int(rate * seconds)
    prefix = "batched" if batched else "single"
    await caught_up(runtime)  # the recipients' creations projected: not this phase's work
    cpu = time.process_time()  # this process: consumer, commands, projections (all threads)
    try:
        published, sent = await notify_publisher.run(
            runtime.settings.amqp_url or "", customers, rate, total, prefix
        )
        deadline = time.time() + 180
        while len(stored) < total and time.time() < deadline:
            await asyncio.sleep(0.05)
        projected = time.time()  # the CPU counts the projections' share, relay included
        await asyncio.wait_for(caught_up(runtime), 120)
        projected, cpu = time.time() - projected, time.process_time() - cpu
    finally:
        await consumer.stop()
        await _delete_queues(runtime.settings.amqp_url or "", queue)
        watch.restore()
    mine = {k: v for k, v in stored.items() if k in published}
    latencies = [(mine[k] - published[k]) * 1000 for k in mine]
    span = max(mine.values()) - min(published.values()) if mine else float("inf")
    reached = len(mine) / span
    name = "batched (after)" if batched else "one at a time (before)"
    print(f"projections caught up {projected:.1f} s after the last message stored")
    print(watch.batches())
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    return [name, f"{sent:,.0f}/s", f"{len(mine):,}/{total:,}", f"{reached:,.0f}/s",
            f"{reached / rate:.2f}x", f"{len(mine) / cpu:,.0f}",
            f"{p50:,.0f} / {p99:,.0f}"]  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--only", choices=["reads", "notifications"], default=None)
    parser.add_argument("--consumers", choices=["both", "batched"], default="both")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        runtime = await start_runtime(settings(Path(folder)))
        try:
            # The broker is shared: the service's own queues are other sessions' (their
            # messages name customers unknown here, which it would dead-letter). Each
            # notifications phase consumes a queue of its own.
            if runtime.consumer is not None:
                await runtime.consumer.stop()
            if args.only != "notifications":
                rows = await reads(runtime, args.events)
                heads = ["read (in process)", "p50 ms", "p99 ms", "p99 vs baseline", "CPU ms"]
                print(table(heads, rows))
            if args.only == "reads":
                return
            phases = [True] if args.consumers == "batched" else [False, True]
            flow = [await notifications(runtime, args.rate, args.seconds, batched=batched)
                    for batched in phases]  # fmt: skip
            heads = ["consumer", "published", "stored", "rate", "vs target", "per CPU s",
                     "p50 / p99 ms"]  # fmt: skip
            print(table(heads, flow))
        finally:
            await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main())
