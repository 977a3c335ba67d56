"""Benchmark: projection lag under a sustained, paced load of creates over real HTTP.

    python -m benchmarks.lag [--rate 200] [--seconds 30] [--sample-every 10] [--poll-ms 2]
                             [--poll-timeout 10] [--workers 1]
                             [--services [postgres,mongo,redis]]

Starts `customers serve`: the embedded profile in a temporary data dir, or with --services a
PostgreSQL event store in a fresh schema, FerretDB views in a fresh database and Redis
database --redis-db (flushed before and after); `--services postgres,redis` picks some of
them. Sends `POST /customers` at --rate per second, paced (one every 1/rate s, each on an
idle keep-alive connection, new connections as needed). For every --sample-every-th create,
the time from its 201 response until `GET /customers/{id}` (no consistency token) answers
200, polling every --poll-ms. `/metrics` is scraped every second for the lag gauges.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import people
from benchmarks.figures import machine, percentile, redis_db_url, table
from benchmarks.service import HttpClient, bearer, start_service, stop_service

TENANT = "bench-lag"
_GAUGE = re.compile(
    r'^(customers_projection_lag_(?:seconds|events))\{projection="([^"]+)"\} (\S+)$'
)


@dataclass
class Run:
    """What one load run observed (seconds unless named otherwise)."""

    sent: int = 0
    dispatch_seconds: float = 0.0
    behind: float = 0.0  # worst lateness of a send against its schedule
    post: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)
    timeouts: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # requests that raised
    gauges: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))


class Pool:
    """Idle keep-alive connections; a new one is opened when none is idle."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.idle: list[HttpClient] = []
        self.opened: list[HttpClient] = []

    def take(self) -> HttpClient:
        if self.idle:
            return self.idle.pop()
        client = HttpClient(self.port, self.headers)
        self.opened.append(client)
        return client

    async def close(self) -> None:
        for client in self.opened:
            await client.close()


def body(rng: random.Random, number: int, run: str) -> bytes:
    """A valid create request with a realistic profile (unique email)."""
    kind = people.customer_type(rng)
    profile = people.profile(rng, number, kind)
    if profile["email"]:
        profile["email"] = profile["email"].replace("@", f".{run}@")
    fields = {k: v for k, v in profile.items() if v not in (None, [], {})}
    return json.dumps({"type": kind, **fields}).encode()


async def scrape_gauges(port: int, run: Run, stop: asyncio.Event) -> None:
    """Every second until `stop`: the service's gauges (projection lag, ...) into `run`."""
    client = HttpClient(port, {})
    try:
        while not stop.is_set():
            _, text, _ = await client.request("GET", "/metrics")
            for line in text.decode().splitlines():
                match = _GAUGE.match(line)
                if match:
                    run.gauges[(match[1], match[2])].append(float(match[3]))
            await asyncio.sleep(1.0)
    finally:
        await client.close()


async def drive(args: argparse.Namespace, port: int) -> Run:
    """Paced creates, sampled lag polls and a metrics scraper, all bounded in time."""
    run, rng, tag = Run(), random.Random(args.seed), uuid.uuid4().hex[:6]
    headers = bearer(TENANT)
    creators, pollers = Pool(port, headers), Pool(port, headers)
    stop = asyncio.Event()

    async def poll(customer_id: str, since: float) -> None:
        client, count = pollers.take(), 0
        while True:
            status, _, _ = await client.request("GET", f"/customers/{customer_id}")
            count += 1
            now = time.perf_counter()
            if status == 200:
                run.lags.append(now - since)
                break
            if now - since > args.poll_timeout:
                run.timeouts += 1
                run.lags.append(now - since)  # censored: the real lag is longer
                break
            await asyncio.sleep(args.poll_ms / 1000)
        run.polls.append(count)
        pollers.idle.append(client)

    async def create(number: int, payload: bytes) -> None:
        client = creators.take()
        status, answer, elapsed = await client.request("POST", "/customers", payload)
        done = time.perf_counter()
        creators.idle.append(client)
        run.post.append(elapsed)
        run.statuses[status] += 1
        if status == 201 and number % args.sample_every == 0:
            await poll(json.loads(answer)["id"], done)

    scraper = asyncio.create_task(scrape_gauges(port, run, stop))
    tasks: list[asyncio.Task[None]] = []
    total = int(args.rate * args.seconds)
    payloads = [body(rng, n, tag) for n in range(total)]
    started = time.perf_counter()
    for number, payload in enumerate(payloads):
        delay = started + number / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.behind = max(run.behind, -delay)
        tasks.append(asyncio.create_task(create(number, payload)))
    run.sent, run.dispatch_seconds = total, time.perf_counter() - started
    _, pending = await asyncio.wait(tasks, timeout=args.poll_timeout + 20)
    stop.set()
    await scraper
    for task in tasks:
        if task in pending:
            task.cancel()
            run.errors["unfinished"] += 1
        elif task.exception() is not None:
            run.errors[type(task.exception()).__name__] += 1
    await creators.close()
    await pollers.close()
    return run


async def run_profile(args: argparse.Namespace) -> tuple[str, Run]:
    """Start the service for the profile, drive it, stop it and clean up."""
    tag = uuid.uuid4().hex[:8]
    env: dict[str, str] = {}
    schema = database = None
    client: Any = None
    services = set((args.services or "").split(",")) - {""}
    if "postgres" in services:
        schema = f"bench_lag_{tag}"
        env["CUSTOMERS_EVENT_STORE_URL"] = f"{args.postgres}?schema={schema}"
    if "mongo" in services:
        database = f"bench_lag_{tag}"
        env["CUSTOMERS_MONGO_URL"] = f"{args.mongo.rstrip('/')}/{database}"
    if "redis" in services:
        env["CUSTOMERS_REDIS_URL"] = redis_db_url(args.redis, args.redis_db)
        import redis.asyncio as redis

        client = redis.Redis.from_url(env["CUSTOMERS_REDIS_URL"])
        await client.flushdb()
    names = {"postgres": "PostgreSQL", "mongo": "FerretDB", "redis": "Redis"}
    chosen = [names[name] for name in names if name in services]
    label = " + ".join(chosen) + " (SQLite for the rest)" if chosen else "embedded (SQLite)"
    if chosen == list(names.values()):
        label = " + ".join(chosen)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-lag-") as directory:
            process = await asyncio.to_thread(
                start_service, Path(directory), args.port, env, timeout=120, workers=args.workers
            )
            try:
                return label, await drive(args, args.port)
            finally:
                await asyncio.to_thread(stop_service, process)
    finally:
        if client is not None:
            await client.flushdb()
            await client.aclose()
        if database is not None:
            await _drop_mongo(args.mongo, database)
        if schema is not None:
            _drop_schema(args.postgres, schema)


async def _drop_mongo(url: str, database: str) -> None:
    from pymongo import AsyncMongoClient

    mongo: Any = AsyncMongoClient(url)
    await mongo.drop_database(database)
    await mongo.close()


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def _spread(samples: list[float]) -> list[Any]:
    quantiles = [percentile(samples, fraction) for fraction in (0.5, 0.9, 0.99)]
    return [len(samples), *quantiles, max(samples, default=0.0)]


def report(label: str, run: Run, args: argparse.Namespace) -> None:
    """Print the figures of one run."""
    ms = [lag * 1000 for lag in run.lags]
    post = [p * 1000 for p in run.post]
    print(
        f"\n{label}: {run.sent:,} creates paced at {args.rate}/s over {run.dispatch_seconds:.1f}s "
        f"(dispatch {run.sent / run.dispatch_seconds:,.0f}/s, worst send {run.behind * 1000:.0f} "
        f"ms late); statuses {dict(run.statuses)}; failed requests {dict(run.errors) or 0}"
    )
    rows = [
        ["POST /customers latency", *_spread(post)],
        ["lag: 201 → GET /customers/{id} 200", *_spread(ms)],
    ]
    print(table(["ms", "samples", "p50", "p90", "p99", "max"], rows))
    polls = sum(run.polls) / max(1, len(run.polls))
    print(
        f"polls per sample {polls:.1f} (every {args.poll_ms} ms); {run.timeouts} samples still "
        f"404 after {args.poll_timeout:.0f}s count at that time (lag figures above them are "
        "lower bounds)"
    )
    gauges = [
        [f"{metric}{{{projection}}}", len(values), sum(values) / len(values), max(values)]
        for (metric, projection), values in sorted(run.gauges.items())
    ]
    print(table(["/metrics gauge (scraped each second)", "scrapes", "mean", "max"], gauges))


async def run(args: argparse.Namespace) -> None:
    """One profile per invocation."""
    print(f"lag benchmark on {machine()}")
    label, result = await run_profile(args)
    report(label, result, args)
    print(f"\n{machine()}")


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="creates per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sample-every", type=int, default=10, help="poll every Nth create")
    parser.add_argument("--poll-ms", type=float, default=2.0)
    parser.add_argument("--poll-timeout", type=float, default=10.0, help="give up after (s)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument(
        "--services",
        nargs="?",
        const="postgres,mongo,redis",
        help="services to use instead of SQLite: postgres,mongo,redis (the default when given "
        "without a value)",
    )
    parser.add_argument("--postgres", default=os.environ.get("CUSTOMERS_TEST_POSTGRES_URL"))
    parser.add_argument("--mongo", default=os.environ.get("CUSTOMERS_TEST_MONGO_URL"))
    parser.add_argument("--redis", default=os.environ.get("CUSTOMERS_TEST_REDIS_URL"))
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    for name in (args.services or "").split(","):
        if name and (name not in ("postgres", "mongo", "redis") or not getattr(args, name)):
            parser.error(f"--services {name}: unknown, or its URL is missing (CUSTOMERS_TEST_*)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
