"""What a Redis Cluster costs the search projection (issue 16 A.3): the same batches applied to
a single Redis and to a cluster, with customers spread over 1, 10 or 100 tenants per batch (a
cluster sends one script per tenant in a batch, plus the epoch claim and the checkpoint).

    python -m benchmarks.redis_cluster --redis "$CUSTOMERS_TEST_REDIS_URL" \\
        --cluster "$CUSTOMERS_TEST_REDIS_CLUSTER_URL" --customers 5000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from dataclasses import replace

from benchmarks.searchdata import Tenant, batches
from read_side.events import EventEnvelope
from read_side.search.redis_index import RedisSearchIndex
from shared.adapters.redis_client import open_redis
from shared.fencing import Fence, fenced


def spread(batch: list[EventEnvelope], tenants: int) -> list[EventEnvelope]:
    """The batch with each customer (all its events) in one of `tenants` tenants."""
    return [replace(e, tenant_id=f"t{int(e.customer_id[:8], 16) % tenants}") for e in batch]


async def rate(url: str, tenants: int, customers: int, batch: int) -> tuple[float, float]:
    """(events/s wall, events per second of this process's CPU) applying every batch."""
    work = [
        spread(b, tenants) for b in batches(Tenant("x"), customers, random.Random(7), batch=batch)
    ]
    client = open_redis(url, timeout_seconds=10)
    index = RedisSearchIndex(client, prefix="bench" + uuid.uuid4().hex[:8])
    try:
        started, cpu = time.perf_counter(), time.process_time()
        with fenced(Fence(index.name, 1)):  # as the live projection runs: under its lease
            for events in work:
                await index.apply(events, events[-1].position)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await index.drop()
        await client.aclose()
    count = sum(len(events) for events in work)
    return count / wall, count / used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--cluster", required=True, help="redis+cluster://host:port")
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=250)
    args = parser.parse_args()
    print(f"{args.customers} customers, batches of {args.batch} events")
    for label, url in (("single", args.redis), ("cluster", args.cluster)):
        for tenants in (1, 10, 100):
            wall, cpu = asyncio.run(rate(url, tenants, args.customers, args.batch))
            print(f"{label:8} {tenants:3} tenants/batch  {wall:7.0f} events/s  "
                  f"{cpu:7.0f} per CPU s")  # fmt: skip


if __name__ == "__main__":
    main()
