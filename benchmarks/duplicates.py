"""Benchmark: duplicate suggestions (`GET /customers/{id}/duplicates`' work) on a tenant of
100,000 customers, from the Redis search index (and the SQLite one), in-process.

    python -m benchmarks.duplicates [--customers 100000] [--queries 300] [--redis URL]
                                    [--redis-db 12] [--indexes sqlite,redis]

The tenant of `benchmarks.search` (accented names, emails, phones; ~4% deleted) is fed through
each adapter's `apply`; the view store is SQLite. For --queries random active customers, the
suggestions are computed (`read_side.duplicates.find_duplicates`: its match-key lookup, the
candidates' documents, the scoring). Baseline in the same run: one `q=<first last>` search
of the same customers, the cheapest of the index queries a suggestion makes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.figures import machine, percentile, redis_db_url, table
from benchmarks.search_cases import TENANT, feed, final_docs
from read_side.duplicates import find_duplicates, full_name
from read_side.ports import ListQuery


async def _measure(label: str, index: Any, views: Any, sample: list[Any], rows: list[Any]) -> None:
    for doc in sample[:5]:
        await find_duplicates(doc, index, views)
    suggest, search, found = [], [], 0
    for doc in sample:
        started = time.perf_counter()
        found += len(await find_duplicates(doc, index, views))
        suggest.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await index.search(ListQuery(tenant_id=TENANT, text=full_name(doc) or "a", limit=25))
        search.append((time.perf_counter() - started) * 1000)
    p99, base = percentile(suggest, 0.99), percentile(search, 0.99)
    rows.append([label, f"{percentile(suggest, 0.5):.2f}", f"{p99:.2f}",
                 f"{percentile(search, 0.5):.2f}", f"{base:.2f}", f"{p99 / base:.1f}x",
                 f"{found / len(sample):.1f}"])  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    """Feed the read models, then time suggestions per index."""
    from read_side.search.sqlite_index import SQLiteSearchIndex
    from read_side.store.sqlite_store import SQLiteViewStore

    print(f"duplicates benchmark on {machine()}", flush=True)
    docs = final_docs(args.seed, args.customers)
    active = [doc for doc in docs.values() if doc["state"] == "active"]
    sample = random.Random(args.seed).sample(active, min(args.queries + 5, len(active)))
    rows: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="bench-dups-") as directory:
        path = Path(directory) / "read_models.db"
        views = SQLiteViewStore(path, name="customer_view")
        await feed(views, args.seed, args.customers)
        indexes = set(args.indexes.split(","))
        if "sqlite" in indexes:
            index = SQLiteSearchIndex(path, name="search")
            await feed(index, args.seed, args.customers)
            await _measure("SQLite index", index, views, sample, rows)
            await index.close()
        if "redis" in indexes:
            import redis.asyncio as redis

            from read_side.search.redis_index import RedisSearchIndex

            client = redis.Redis.from_url(redis_db_url(args.redis, args.redis_db), protocol=2)
            await client.flushdb()
            try:
                redis_index = RedisSearchIndex(client, name="search")
                await feed(redis_index, args.seed, args.customers)
                await _measure("Redis index", redis_index, views, sample, rows)
            finally:  # ASYNC: a synchronous FLUSHDB of 100,000 customers outlasted the timeout
                await client.flushdb(asynchronous=True)
                await client.aclose()
        await views.close()
    print(f"\n{args.customers:,} customers, {args.queries} customers asked; ms "
          "(target: suggestions p99 < 20 ms on Redis)")  # fmt: skip
    headers = ["index", "suggest p50", "p99", "search p50", "p99", "p99 ratio", "found/customer"]
    print(table(headers, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--indexes", default="sqlite,redis")
    parser.add_argument(
        "--redis", default=os.environ.get("CUSTOMERS_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    )
    parser.add_argument("--redis-db", type=int, default=12)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
