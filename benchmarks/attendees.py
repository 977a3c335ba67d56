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
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection

from benchmarks.attendees_infra import (
    BrokerState,
    Stores,
    check_broker,
    free_port,
    inspect_broker,
    queue_state,
    remove_created,
    start_service,
    stop_service,
)
from benchmarks.attendees_report import cpu_seconds, scrape, start_py_spy, table
from benchmarks.attendees_workload import (
    DRAIN_SECONDS,
    EVENTS_EXCHANGE,
    ORDERS_EXCHANGE,
    ORDERS_QUEUE,
    PROCESSED,
    REDIS_DB,
    Options,
    Phase,
    Receiver,
    Workload,
)


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


async def _measure_running(
    options: Options, connection: AbstractConnection, orders: aio_pika.abc.AbstractExchange,
    receiver: Receiver,
    workload: Workload, pid: int, port: int, before: BrokerState, extra: dict[str, Any],
) -> Phase:  # fmt: skip
    """With the service up: warm up, drive the measured orders, and collect CPU, load,
    metrics and the broker's state (and a py-spy profile when asked)."""
    await wait_for_consumer(connection)
    if options.warmup:
        await drive(
            orders, receiver, workload, count=options.warmup, rate=options.rate,
            inflight=options.inflight, max_seconds=30,
        )  # fmt: skip
    metrics_before = await asyncio.to_thread(scrape, port)
    cpu_before = cpu_seconds(pid)
    spy = start_py_spy(pid, options)
    phase = await drive(
        orders, receiver, workload, count=options.orders, rate=options.rate,
        inflight=options.inflight, max_seconds=options.max_seconds,
    )  # fmt: skip
    extra["cpu"] = cpu_seconds(pid) - cpu_before
    extra["load"] = os.getloadavg()[0]
    extra["metrics"] = (metrics_before, await asyncio.to_thread(scrape, port))
    await check_broker(connection, before, extra, options.workers)
    if spy is not None:
        _, errors = await asyncio.to_thread(spy.communicate, None, options.py_spy_seconds + 30)
        if spy.returncode:
            extra["notes"].append(f"py-spy failed: {errors.decode()[-500:]}")
    return phase


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
                phase = await _measure_running(
                    options, connection, orders, receiver, workload, service.pid, port,
                    before, extra,
                )  # fmt: skip
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
