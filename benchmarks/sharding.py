"""Event-store sharding by tenant, measured on one PostgreSQL server (issue 16 A.6).

Writers append customers in group-committed transactions (`--batch` aggregates per `save`,
as the command executor does under load). The same number of writer threads either share
one event store (one schema: the recorder's table lock serialises their transactions) or
are routed by tenant to one store each (`--shards` schemas: no lock in common). The ratio
is what routing tenants to per-shard logs buys before a second server is even added.

    python -m benchmarks.sharding --postgres "$CUSTOMERS_TEST_POSTGRES_URL" --seconds 10
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

from shared.settings import Settings
from write_side.adapters.event_store import CustomersApplication, open_event_store
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType


def _writer(app: CustomersApplication, tenant: str, batch: int, until: float) -> int:
    written = 0
    while time.monotonic() < until:
        customers = [
            Customer.register(
                tenant_id=tenant,
                actor="bench",
                customer_type=CustomerType.NEW,
                profile={"firstName": f"S{written + i}"},
            )
            for i in range(batch)
        ]
        app.save(*customers)
        written += batch
    return written


def run(stores: list[CustomersApplication], writers: int, batch: int, seconds: float) -> float:
    """Events/s of `writers` threads, writer i appending tenant i's customers to its shard."""
    counts = [0] * writers
    until = time.monotonic() + seconds

    def work(index: int) -> None:
        store = stores[index % len(stores)]
        counts[index] = _writer(store, f"tenant-{index}", batch, until)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="postgresql://… (no ?schema)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32, help="customers per transaction")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as data_dir:

        def store(shard: int) -> CustomersApplication:
            url = f"{args.postgres}?schema=bench_shard_{tag}_{shard}"
            settings = Settings(data_dir=Path(data_dir), event_store_url=url, master_key="k")
            return open_event_store(settings)

        stores = [store(shard) for shard in range(args.shards)]
        try:
            one = run(stores[:1], args.shards, args.batch, args.seconds)
            many = run(stores, args.shards, args.batch, args.seconds)
        finally:
            for opened in stores:
                opened.close()
    print(f"{args.shards} writers, {args.batch} customers (one event each) per transaction")
    print(f"one log (shared table lock): {one:8.0f} customers/s")
    print(f"{args.shards} logs by tenant:         {many:8.0f} customers/s   {many / one:.2f}x")


if __name__ == "__main__":
    main()
