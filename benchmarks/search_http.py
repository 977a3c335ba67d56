"""The search benchmark over HTTP: `customers serve` on the same read models, queried with
`GET /customers` (and FerretDB views for the `--ferret` profile)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from benchmarks import searchdata
from benchmarks.figures import redis_db_url
from benchmarks.search_cases import (
    FERRET_KINDS,
    TENANT,
    Case,
    Results,
    Search,
    final_docs,
    run_cases,
)
from benchmarks.service import HttpClient, bearer, start_service, stop_service
from read_side.ports import ListQuery, Page


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
