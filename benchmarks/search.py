"""Benchmark: search latency on a tenant of 100,000 customers, SQLite and Redis search indexes,
in-process (`SearchIndex.search(ListQuery)`) and end-to-end over HTTP (`GET /customers`).

    python -m benchmarks.search [--customers 100000] [--queries 300] [--indexes sqlite,redis]
                                [--http] [--ferret] [--redis URL] [--redis-db 12]

Customers (accented names, emails, E.164 phones, tags, types, ~4% deleted, ~15% changed
later) are fed through each adapter's `apply` in batches of 2,000 envelopes. Each query kind
runs --queries times after 5 untimed warm-up runs; p50/p99 are in milliseconds.
--http then serves the same read models with `customers serve`: "embedded" (SQLite views and
SQLite index) and "redis" (SQLite views and the Redis index); --ferret adds "redis+ferretdb"
(FerretDB views; only --ferret-queries queries per kind, FerretDB being slow on `$in`).
Redis uses database --redis-db, flushed before and after (the service's own key prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.figures import machine, redis_db_url, table
from benchmarks.search_cases import TENANT, Case, Results, cases, feed, run_cases
from benchmarks.search_http import http_profiles


async def run(args: argparse.Namespace) -> None:
    """Build the indexes, query them in-process, then (--http) over HTTP."""
    from read_side.search.sqlite_index import SQLiteSearchIndex
    from read_side.store.sqlite_store import SQLiteViewStore

    indexes = set(args.indexes.split(","))
    print(f"search benchmark on {machine()}")
    results: Results = {}
    feeds: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as directory:
        root = Path(directory)
        embedded = root / "embedded"
        views = SQLiteViewStore(embedded / "read_models.db", name="customer_view")
        tenant, rate = await feed(views, args.seed, args.customers)
        await views.close()
        feeds.append(["SQLite view store", tenant.events, rate])
        kinds = cases(tenant)
        print(
            f"tenant {TENANT}: {tenant.customers:,} customers ({tenant.deleted:,} deleted), "
            f"{tenant.events:,} events",
            flush=True,
        )
        if "sqlite" in indexes:
            index = SQLiteSearchIndex(embedded / "read_models.db", name="search")
            _, rate = await feed(index, args.seed, args.customers)
            feeds.append(["SQLite search index", tenant.events, rate])
            await run_cases("SQLite", index.search, kinds, args.queries, results)
            await index.close()
        client = None
        if "redis" in indexes or args.http:
            client = await _redis(args)
        try:
            if client is not None and "redis" in indexes:
                from read_side.search.redis_index import RedisSearchIndex

                redis_index = RedisSearchIndex(client, name="search")  # the service's prefix
                _, rate = await feed(redis_index, args.seed, args.customers)
                feeds.append(["Redis search index", tenant.events, rate])
                await run_cases("Redis", redis_index.search, kinds, args.queries, results)
            if args.http:
                await http_profiles(args, root, kinds, indexes, results)
        finally:
            if client is not None:
                await client.flushdb()
                await client.aclose()
    print()
    print(table(["adapter fed through apply()", "events", "events/s"], feeds))
    _print_results(results, kinds)
    print(f"\n{machine()}")


async def _redis(args: argparse.Namespace) -> Any:
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_db_url(args.redis, args.redis_db), protocol=2)
    await client.flushdb()
    return client


def _print_results(results: Results, kinds: list[Case]) -> None:
    columns = list(dict.fromkeys(label for row in results.values() for label in row))
    headers = ["query (limit 20)", "matches"]
    for label in columns:
        headers += [f"{label} p50", "p99"]
    rows = []
    for case in kinds:
        figures = results.get(case.name, {})
        matches = next((f[3] for f in figures.values()), 0)
        row: list[Any] = [case.name, matches]
        for label in columns:
            if label in figures:
                p50, p99, n, _ = figures[label]
                row += [f"{p50:.2f}", f"{p99:.2f}" + ("" if n >= 300 else f" (n={n})")]
            else:
                row += ["-", "-"]
        rows.append(row)
    print("\nlatency in ms (targets: p99 < 50 ms embedded, < 20 ms Redis)")
    print(table(headers, rows))


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="timed queries per kind")
    parser.add_argument("--indexes", default="sqlite,redis", help="sqlite,redis")
    parser.add_argument("--http", action="store_true", help="also query a running service")
    parser.add_argument("--ferret", action="store_true", help="HTTP with FerretDB views too")
    parser.add_argument("--ferret-queries", type=int, default=3)
    parser.add_argument("--redis", default=os.environ.get("CUSTOMERS_TEST_REDIS_URL"))
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--mongo", default=os.environ.get("CUSTOMERS_TEST_MONGO_URL"))
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if ("redis" in args.indexes or args.http) and not args.redis:
        parser.error("the Redis index needs --redis (or CUSTOMERS_TEST_REDIS_URL)")
    if args.ferret and not args.mongo:
        parser.error("--ferret needs --mongo (or CUSTOMERS_TEST_MONGO_URL)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
