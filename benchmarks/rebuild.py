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
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import rawwrites
from benchmarks.eventfill import Breakdown, fill, read_breakdown
from benchmarks.figures import machine, redis_db_url, table, unlink_prefix
from benchmarks.rebuild_timing import (
    Opened,
    Row,
    ferret_view,
    redis_search,
    row,
    sqlite_search,
    sqlite_view,
    timed_rebuild,
)
from projectors.rebuild import STAGE_LIMIT
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store


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
        rows.append(row(label, timed, 10_000, f"{raw_rate:,.0f} rows/s", cold.events))
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
            rows.append(row("FerretDB view store", timed, 5_000, raw, head))
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
            rows.append(row("Redis search index", timed, 5_000, raw, head))
    finally:
        await unlink_prefix(client, prefix)
        await client.aclose()
        await mongo.drop_database(database)
        await mongo.close()
    return rows


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
