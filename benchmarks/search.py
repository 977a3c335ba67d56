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
import json
import os
import random
import shutil
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import searchdata
from benchmarks.figures import machine, percentile, redis_db_url, table
from benchmarks.service import HttpClient, bearer, start_service, stop_service
from read_side.ports import SORT_KEYS, ListQuery, Page
from read_side.views import CustomerDoc, evolve

TENANT = "bench-search"
FERRET_KINDS = ("q=ann (prefix)", "type=regular&tag=vip", "sort=lastName")
Search = Callable[[ListQuery], Awaitable[Page]]


@dataclass(frozen=True)
class Case:
    """A kind of query: `make(i)` is the i-th query; `pages` times pages 2..5 of it."""

    name: str
    make: Callable[[int], ListQuery]
    pages: bool = False


def cases(tenant: searchdata.Tenant) -> list[Case]:
    """The query kinds of the benchmark."""
    tid, phones = tenant.tenant_id, tenant.phones

    def phone(i: int) -> str:
        return phones[i % len(phones)]

    found = [
        Case("q=ann (prefix)", lambda _: ListQuery(tid, text="ann")),
        Case("q=jo sm (two prefixes)", lambda _: ListQuery(tid, text="jo sm")),
        Case("q=<last 4 phone digits>", lambda i: ListQuery(tid, text=phone(i)[-4:])),
        Case("q=<all phone digits>", lambda i: ListQuery(tid, text=phone(i)[1:])),
        Case("type=regular&tag=vip", lambda _: ListQuery(tid, type="regular", tags=("vip",))),
    ]

    def window(query: ListQuery, days: int) -> Callable[[int], ListQuery]:
        """The query over a createdAt range of `days` days, starting somewhere in the span."""

        def make(i: int) -> ListQuery:
            start = tenant.started + timedelta(days=(i * 37) % max(1, 730 - days))
            return replace(query, created_from=start, created_to=start + timedelta(days=days))

        return make

    found += [
        Case("created 90 days", window(ListQuery(tid), 90)),
        Case("created 90 days & type=regular", window(ListQuery(tid, type="regular"), 90)),
        Case("created 1 year & tag=vip", window(ListQuery(tid, tags=("vip",)), 365)),
        Case("created 1 year & q=ann", window(ListQuery(tid, text="ann"), 365)),
        Case(
            "created 90 days & tag=vip, sort=lastName",
            window(ListQuery(tid, tags=("vip",), sort="lastName"), 90),
        ),
    ]
    for key in SORT_KEYS:
        for sort in (key, f"-{key}"):
            found.append(Case(f"sort={sort}", _always(ListQuery(tid, sort=sort))))
    found.append(Case("pages 2-5, sort=-createdAt", lambda _: ListQuery(tid), pages=True))
    found.append(
        Case(
            "pages 2-5, q=ann sort=lastName",
            lambda _: ListQuery(tid, text="ann", sort="lastName"),
            pages=True,
        )
    )
    return found


def _always(query: ListQuery) -> Callable[[int], ListQuery]:
    return lambda _: query


async def measure(case: Case, search: Search, count: int, warmup: int = 5) -> list[float]:
    """Latencies (ms) of `count` queries of one kind (pages 2..5 when `case.pages`)."""
    samples: list[float] = []
    index = 0
    while len(samples) < count + warmup:
        query = case.make(index)
        index += 1
        if not case.pages:
            started = time.perf_counter()
            await search(query)
            samples.append((time.perf_counter() - started) * 1000)
            continue
        page = await search(query)
        for _ in range(4):
            if page.next_cursor is None:
                break
            query = replace(query, cursor=page.next_cursor)
            started = time.perf_counter()
            page = await search(query)
            samples.append((time.perf_counter() - started) * 1000)
    return samples[warmup:]


async def feed(adapter: Any, seed: int, customers: int) -> tuple[searchdata.Tenant, float]:
    """Apply the generated batches; returns the tenant and events/s."""
    tenant = searchdata.Tenant(TENANT)
    started = time.perf_counter()
    for batch in searchdata.batches(tenant, customers, random.Random(seed)):
        await adapter.apply(batch, batch[-1].position)
    return tenant, tenant.events / (time.perf_counter() - started)


def final_docs(seed: int, customers: int) -> dict[str, CustomerDoc]:
    """The documents the view store holds after the generated events (evolved in memory)."""
    docs: dict[str, CustomerDoc] = {}
    for batch in searchdata.batches(searchdata.Tenant(TENANT), customers, random.Random(seed)):
        for event in batch:
            doc = evolve(docs.get(event.customer_id), event)
            if doc is not None:
                docs[event.customer_id] = doc
    return docs


def http_path(query: ListQuery) -> str:
    """`GET /customers` with the query's parameters."""
    params: list[tuple[str, str]] = []
    if query.text:
        params.append(("q", query.text))
    if query.type:
        params.append(("type", query.type))
    params += [("tag", tag) for tag in query.tags]
    for name, value in (("createdFrom", query.created_from), ("createdTo", query.created_to)):
        if value is not None:
            params.append((name, value.isoformat().replace("+00:00", "Z")))
    if query.sort != "-createdAt":
        params.append(("sort", query.sort))
    if query.cursor:
        params.append(("cursor", query.cursor))
    return "/customers" + ("?" + urllib.parse.urlencode(params) if params else "")


def http_search(client: HttpClient) -> Search:
    """A `Search` over HTTP (the page's ids, total and cursor come from the JSON body)."""

    async def search(query: ListQuery) -> Page:
        status, body, _ = await client.request("GET", http_path(query))
        if status != 200:
            raise RuntimeError(f"GET {http_path(query)} answered {status}: {body[:200]!r}")
        data = json.loads(body)
        ids = [item["id"] for item in data["items"]]
        return Page(ids=ids, total=data["total"], next_cursor=data["nextCursor"])

    return search


Results = dict[str, dict[str, tuple[float, float, int, int]]]  # case -> column -> figures


async def run_cases(
    label: str, search: Search, kinds: list[Case], count: int, out: Results, warmup: int = 5
) -> None:
    """Measure every kind; record (p50, p99, queries, total matches)."""
    print(f"# querying {label} ...", flush=True)
    for case in kinds:
        samples = await measure(case, search, count, warmup)
        total = (await search(case.make(0))).total
        out.setdefault(case.name, {})[label] = (
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            len(samples),
            total,
        )


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


async def http_profiles(
    args: argparse.Namespace, root: Path, kinds: list[Case], indexes: set[str], out: Results
) -> None:
    """Serve the read models built above with `customers serve` and query over HTTP."""
    embedded = root / "embedded"
    profiles: list[tuple[str, Path, dict[str, str], int]] = []
    database: str | None = None
    if "sqlite" in indexes:
        profiles.append(("HTTP embedded", embedded, {}, args.queries))
    if "redis" in indexes:
        with_redis = root / "redis"
        with_redis.mkdir()
        shutil.copy(embedded / "read_models.db", with_redis / "read_models.db")
        redis_url = {"CUSTOMERS_REDIS_URL": redis_db_url(args.redis, args.redis_db)}
        profiles.append(("HTTP redis", with_redis, redis_url, args.queries))
        if args.ferret:
            database = f"bench_search_{uuid.uuid4().hex[:8]}"
            await _seed_ferret(args, database)
            url = args.mongo.rstrip("/") + "/" + database
            ferret = root / "ferret"
            ferret.mkdir()
            env = redis_url | {"CUSTOMERS_MONGO_URL": url}
            profiles.append(("HTTP redis+ferretdb", ferret, env, args.ferret_queries))
    try:
        for label, data_dir, env, count in profiles:
            process = await asyncio.to_thread(start_service, data_dir, args.port, env, timeout=300)
            client = HttpClient(args.port, bearer(TENANT))
            slow = "ferretdb" in label
            chosen = [k for k in kinds if k.name in FERRET_KINDS] if slow else kinds
            try:
                await run_cases(label, http_search(client), chosen, count, out, 0 if slow else 5)
            finally:
                await client.close()
                await asyncio.to_thread(stop_service, process)
    finally:
        if database is not None:
            await _drop_ferret(args, database)


async def _seed_ferret(args: argparse.Namespace, database: str) -> None:
    """The final documents inserted once, as the Mongo view store writes new documents."""
    from pymongo import AsyncMongoClient

    from read_side.store.mongo_store import MongoViewStore, _write

    docs = list(final_docs(args.seed, args.customers).values())
    client: Any = AsyncMongoClient(args.mongo, tz_aware=True)
    store = MongoViewStore(client, database)
    collection = client[database][store.collection_name]
    started = time.perf_counter()
    for start in range(0, len(docs), 1000):
        writes = [_write(f"{d['tenantId']}:{d['id']}", None, d) for d in docs[start : start + 1000]]
        await collection.bulk_write(writes, ordered=False)
    tenant = searchdata.Tenant(TENANT)
    for _ in searchdata.batches(tenant, args.customers, random.Random(args.seed)):
        pass
    await store.apply([], tenant.events)
    seeded = time.perf_counter() - started
    ids = [d["id"] for d in docs[:: max(1, len(docs) // 20)][:20]]
    started = time.perf_counter()
    found = await store.get_many(TENANT, ids)
    print(
        f"# FerretDB seeded with {len(docs):,} documents in {seeded:.0f}s; "
        f"MongoViewStore.get_many({len(ids)} ids) took {time.perf_counter() - started:.2f}s "
        f"({len(found)} found)",
        flush=True,
    )
    await client.close()


async def _drop_ferret(args: argparse.Namespace, database: str) -> None:
    from pymongo import AsyncMongoClient

    client: Any = AsyncMongoClient(args.mongo)
    await client.drop_database(database)
    await client.close()


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
