"""Benchmark: blue/green rebuild (`projectors.rebuild.rebuild`) of each projection from a large
event store, beside the raw bulk-write rate of the same stores measured in the same run.

    python -m benchmarks.rebuild [--events 200000] [--postgres URL] [--sinks embedded,services]
                                 [--stage-limit N] [--ferret-events 0] [--budget 150]

The event store (a SQLite file in a temporary directory, or a fresh schema of --postgres) is
filled straight through the eventsourcing application (`benchmarks.eventfill`). Each rebuild
opens the store afresh, as `customers projections rebuild` does (cold key cache), and stops
after --budget seconds (the figure is then the rate so far, marked "partial").
Sinks: embedded = SQLite view store + SQLite search index (one file); services = FerretDB view
store (CUSTOMERS_TEST_MONGO_URL) + Redis search index (CUSTOMERS_TEST_REDIS_URL, db
--redis-db, a unique key prefix). --ferret-events / --redis-events bound those rebuilds to a prefix
of the log (0: all). --stage-limit 0 rebuilds batch by batch through `apply` (the path a
rebuild takes past its in-memory bound) instead of staging documents in memory and writing
each once. Everything created is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import rawwrites
from benchmarks.eventfill import BoundedLog, Breakdown, fill, open_bounded_log, read_breakdown
from benchmarks.figures import machine, redis_db_url, table, unlink_prefix
from projectors.partitions import Partitioned
from projectors.rebuild import STAGE_LIMIT, rebuild
from shared.settings import Settings
from write_side.application.event_store import open_event_store

SinkAt = Callable[[int], Awaitable[Any]]


class OutOfTime(Exception):
    """The rebuild ran past its budget."""


@dataclass
class Timed:
    """One rebuild: events applied, wall seconds, whether it finished, rate per quarter, and
    the CPU seconds of this process and its workers (every thread; not the servers')."""

    events: int
    seconds: float
    complete: bool
    quarters: list[float] = field(default_factory=list)
    cpu: float = 0.0
    marks: list[tuple[float, int]] = field(default_factory=list)

    def projected(self, total: int) -> float:
        """Seconds for `total` events: measured when complete, else extrapolated from a
        least-squares line of seconds-per-event against events applied (a sink whose cost
        per event grows with what it holds keeps growing at the same pace)."""
        if self.complete and self.events >= total:
            return self.seconds
        points = [
            ((a0 + a1) / 2, (t1 - t0) / (a1 - a0))
            for (t0, a0), (t1, a1) in zip(self.marks, self.marks[1:], strict=False)
            if a1 > a0
        ]
        if not points:
            return 0.0
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
        slope = max(0.0, slope)
        intercept = mean_y - slope * mean_x
        return float(intercept * total + slope * total * total / 2)

    @property
    def rate(self) -> float:
        """Events applied per second."""
        return self.events / self.seconds if self.seconds else 0.0


async def timed_rebuild(
    settings: Settings,
    stop: int | None,
    sink_at: SinkAt,
    args: argparse.Namespace,
    open_sink: Callable[[int], tuple[Any, list[Any]]],
) -> Timed:
    """Rebuild one projection through `projectors.rebuild.rebuild` with a fresh application."""
    app = await asyncio.to_thread(open_event_store, settings)
    marks: list[tuple[float, int]] = [(0.0, 0)]
    cpu = _cpu_seconds()
    started = time.perf_counter()

    def progress(_position: int, _head: int, applied: int) -> None:
        elapsed = time.perf_counter() - started
        marks.append((elapsed, applied))
        if elapsed > args.budget:
            raise OutOfTime

    complete = True
    try:
        result = await rebuild(
            BoundedLog(app, stop),
            sink_at,
            batch_size=args.batch_size,
            grace_seconds=0.0,
            progress=progress,
            stage_limit=args.stage_limit,
            partitioned=Partitioned(
                functools.partial(open_bounded_log, settings, stop), open_sink, args.workers
            ),
        )
        marks.append((result.seconds, result.events))  # staged documents are written last
    except OutOfTime:
        complete = False
    finally:
        app.close()
    seconds, applied = marks[-1]
    cpu_seconds = _cpu_seconds() - cpu
    return Timed(applied, seconds, complete, _quarters(marks), cpu_seconds, marks)


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the rebuild's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _quarters(marks: list[tuple[float, int]]) -> list[float]:
    """Events/s within each quarter of the events applied (shows slow-downs with size)."""
    total = marks[-1][1]
    rates, previous = [], marks[0]
    for quarter in (1, 2, 3, 4):
        mark = next(m for m in marks if m[1] >= total * quarter / 4)
        if mark[0] > previous[0]:
            rates.append((mark[1] - previous[1]) / (mark[0] - previous[0]))
        previous = mark
    return rates


class Opened:
    """Adapters opened through `sink_at`, closed at the end."""

    def __init__(self, factory: Callable[[int], Any]) -> None:
        self.factory = factory
        self.adapters: list[Any] = []

    async def __call__(self, generation: int) -> Any:
        adapter = self.factory(generation)
        self.adapters.append(adapter)
        return adapter

    async def close(self) -> None:
        for adapter in self.adapters:
            await adapter.close()


Row = list[Any]


def sqlite_view(path: Path, generation: int) -> tuple[Any, list[Any]]:
    """The SQLite view store of a generation (module-level: workers get it pickled)."""
    from read_side.store.sqlite_store import SQLiteViewStore

    return SQLiteViewStore(path, name="customer_view", generation=generation), []


def sqlite_search(path: Path, generation: int) -> tuple[Any, list[Any]]:
    """The SQLite search index of a generation."""
    from read_side.search.sqlite_index import SQLiteSearchIndex

    return SQLiteSearchIndex(path, name="search", generation=generation), []


def ferret_view(url: str, database: str, generation: int) -> tuple[Any, list[Any]]:
    """The FerretDB view store of a generation, with a client of its own."""
    from read_side.store.mongo_store import MongoViewStore

    return MongoViewStore.from_url(url, database, generation=generation), []


def redis_search(url: str, prefix: str, generation: int) -> tuple[Any, list[Any]]:
    """The Redis search index of a generation, and its client."""
    import redis.asyncio as redis

    from read_side.search.redis_index import RedisSearchIndex

    client = redis.Redis.from_url(url, protocol=2)
    return RedisSearchIndex(client, prefix=prefix, generation=generation), [client]


async def embedded(
    args: argparse.Namespace, settings: Settings, tmp: Path, cold: Breakdown, sinks: set[str]
) -> list[Row]:
    """Rebuild into the SQLite view store and the SQLite search index, then the raw rate."""
    from read_side.search.sqlite_index import SQLiteSearchIndex
    from read_side.store.sqlite_store import SQLiteViewStore

    path = tmp / "read_models.db"
    docs = list(cold.docs.values())
    rows: list[Row] = []
    views = Opened(lambda g: SQLiteViewStore(path, name="customer_view", generation=g))
    indexes = Opened(lambda g: SQLiteSearchIndex(path, name="search", generation=g))
    plan = (
        ("sqlite_view", "SQLite view store", views, rawwrites.sqlite_json_rows, sqlite_view),
        (
            "sqlite_search",
            "SQLite search index",
            indexes,
            rawwrites.sqlite_search_rows,
            sqlite_search,
        ),
    )
    for key, label, sink_at, raw, opener in plan:
        if key not in sinks:
            continue
        print(f"# rebuilding into the {label} ...", flush=True)
        timed = await timed_rebuild(settings, None, sink_at, args, functools.partial(opener, path))
        await sink_at.close()
        raw_rate = raw(tmp / f"raw-{key}.db", docs, min(cold.events, args.raw_rows), 2000)
        rows.append(_row(label, timed, 10_000, f"{raw_rate:,.0f} rows/s", cold.events))
    return rows


async def services(
    args: argparse.Namespace,
    settings: Settings,
    prefix_of: Callable[[int | None], Breakdown],
    sinks: set[str],
) -> list[Row]:
    """Rebuild into the FerretDB view store and the Redis search index, then the raw rates.
    `prefix_of(stop)` reads (and evolves) the log up to `stop`."""
    import redis.asyncio as redis
    from pymongo import AsyncMongoClient

    from read_side.search.redis_index import RedisSearchIndex
    from read_side.store.mongo_store import MongoViewStore

    tag = uuid.uuid4().hex[:8]
    database, prefix = f"bench_rebuild_{tag}", f"benchrb{tag}"
    mongo: Any = AsyncMongoClient(args.mongo, tz_aware=True)
    client = redis.Redis.from_url(redis_db_url(args.redis, args.redis_db), protocol=2)
    head = prefix_of(None).events
    rows: list[Row] = []
    try:
        if "ferret_view" in sinks:
            stop = args.ferret_events or None
            source = prefix_of(stop)
            views = Opened(lambda g: MongoViewStore(mongo, database, generation=g))
            print(f"# rebuilding {source.events:,} events into the FerretDB view store ...")
            opener = functools.partial(ferret_view, args.mongo, database)
            timed = await timed_rebuild(settings, stop, views, args, opener)
            docs = list(source.docs.values())
            raw_rate, find_seconds = await rawwrites.mongo_raw(
                mongo[database], docs, min(source.events, args.raw_rows)
            )
            raw = f"{raw_rate:,.0f} docs/s; $in 2000 ids: {find_seconds * 1000:,.0f} ms"
            rows.append(_row("FerretDB view store", timed, 5_000, raw, head))
        if "redis_search" in sinks:
            stop = args.redis_events or None
            source = prefix_of(stop)
            indexes = Opened(lambda g: RedisSearchIndex(client, prefix=prefix, generation=g))
            print(f"# rebuilding {source.events:,} events into the Redis search index ...")
            url = redis_db_url(args.redis, args.redis_db)
            opener = functools.partial(redis_search, url, prefix)
            timed = await timed_rebuild(settings, stop, indexes, args, opener)
            docs = list(source.docs.values())
            raw_rate = await rawwrites.redis_hsets(
                client, f"{prefix}raw", min(source.events, args.raw_rows)
            )
            members = rawwrites.redis_entries_per_customer(docs)
            raw = f"{raw_rate:,.0f} HSET/s; {members:.0f} index entries per customer"
            rows.append(_row("Redis search index", timed, 5_000, raw, head))
    finally:
        await unlink_prefix(client, prefix)
        await client.aclose()
        await mongo.drop_database(database)
        await mongo.close()
    return rows


def _row(label: str, timed: Timed, target: int, raw: str, head: int) -> Row:
    events = f"{timed.events:,}" + ("" if timed.complete else " (partial)")
    quarters = " / ".join(f"{rate:,.0f}" for rate in timed.quarters)
    per_cpu = timed.events / timed.cpu if timed.cpu else 0.0
    full = timed.projected(head)
    projected = _duration(full) + ("" if timed.events >= head else " (extrapolated)")
    row = [label, events, timed.seconds, timed.rate, per_cpu, f"≥ {target:,}", quarters]
    return [*row, projected, raw]


def _duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


SINKS = {
    "embedded": ("sqlite_view", "sqlite_search"),
    "services": ("ferret_view", "redis_search"),
}


async def run(args: argparse.Namespace) -> None:
    """Fill, break the read path down, rebuild every requested sink, print the tables."""
    sinks = {sink for name in args.sinks.split(",") for sink in SINKS.get(name, (name,))}
    schema = f"bench_rebuild_{uuid.uuid4().hex[:8]}"
    url = None
    if args.postgres:
        url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
    print(f"rebuild benchmark on {machine()}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as directory:
            tmp = Path(directory)
            settings = Settings(data_dir=tmp, event_store_url=url)
            app = await asyncio.to_thread(open_event_store, settings)
            filled = await asyncio.to_thread(fill, app, args.events, random.Random(args.seed))
            app.close()
            store = "PostgreSQL" if url else "SQLite"
            print(
                f"filled {store} event store: {filled.events:,} events, {filled.customers:,} "
                f"customers in {filled.seconds:.1f}s ({filled.events / filled.seconds:,.0f} "
                "events/s, ~1,000 per save)"
            )
            app = await asyncio.to_thread(open_event_store, settings)
            cold = await asyncio.to_thread(read_breakdown, app, None, args.batch_size)
            warm = None
            if args.second_pass:
                warm = await asyncio.to_thread(read_breakdown, app, None, args.batch_size)
            app.close()
            _print_breakdown(cold, warm)
            prefixes: dict[int | None, Breakdown] = {None: cold}

            def prefix_of(stop: int | None) -> Breakdown:
                stop = stop if stop is not None and stop < cold.events else None
                if stop not in prefixes:
                    fresh = open_event_store(settings)
                    prefixes[stop] = read_breakdown(fresh, stop, args.batch_size)
                    fresh.close()
                return prefixes[stop]

            rows = await embedded(args, settings, tmp, cold, sinks)
            if sinks & set(SINKS["services"]):
                rows += await services(args, settings, prefix_of, sinks)
    finally:
        if url and args.postgres:
            _drop_schema(args.postgres, schema)
    print()
    headers = ["sink", "events", "wall s", "events/s", "per CPU-s", "target"]
    headers += ["events/s by quarter", "whole log", "raw bulk write (same store)"]
    print(table(headers, rows))
    print(f"\n{machine()}")


def _print_breakdown(cold: Breakdown, warm: Breakdown | None) -> None:
    print(f"\nreading {cold.events:,} events ({len(cold.docs):,} customers), no sink:")
    headers = ["stage (CPU time)", "cold keys s", "events/s"]
    rows = [list(row) for row in cold.rates()]
    if warm is not None:
        headers += ["2nd pass s", "events/s"]
        for row, (_, seconds, rate) in zip(rows, warm.rates(), strict=True):
            row += [seconds, rate]
    print(table(headers, rows))


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--postgres", help="event store in a fresh schema of this database")
    parser.add_argument(
        "--sinks",
        default="embedded,services",
        help="embedded (sqlite_view,sqlite_search), services (ferret_view,redis_search)",
    )
    parser.add_argument("--batch-size", type=int, default=2000, help="rebuild batch (events)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per rebuild")
    parser.add_argument("--ferret-events", type=int, default=0, help="0: all events")
    parser.add_argument("--redis-events", type=int, default=0, help="0: all events")
    parser.add_argument("--raw-rows", type=int, default=50_000, help="rows per raw-write figure")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="rebuild worker processes"
    )
    parser.add_argument(
        "--stage-limit", type=int, default=STAGE_LIMIT, help="0: batch by batch through apply"
    )
    parser.add_argument("--mongo", default=os.environ.get("CUSTOMERS_TEST_MONGO_URL"))
    parser.add_argument("--redis", default=os.environ.get("CUSTOMERS_TEST_REDIS_URL"))
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--second-pass", action="store_true", help="also time a 2nd read (key cache warm)"
    )
    args = parser.parse_args()
    if ("services" in args.sinks or "_search" in args.sinks) and not (args.mongo and args.redis):
        parser.error("services sinks need --mongo and --redis (or CUSTOMERS_TEST_*_URL)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
