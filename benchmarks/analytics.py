"""Benchmark: analysts' reads at scale (issue 13.5) and the analytics projections' apply rate.

    python -m benchmarks.analytics [--customers 100000] [--events 1000000] [--reads 300]
                                   [--mongo URL]

Synthetic events of `--customers` customers over two years (creates, visits, payments,
refunds, consents, erasures) are folded into the two built-in analytics projections through
their store's `apply` (the path the runner and a backfill take), in batches of 2,000. Then
the overview over two years by day and the cohorts over 24 months are answered `--reads`
times each (the store read and the query code the HTTP handlers run), and the same answers
are computed once by brute force over the events — the baseline an analytics projection
saves — and the ratio printed. SQLite always; MongoDB-wire too with `--mongo`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.figures import machine
from read_side.analytics.cohorts import COHORTS_KEY, CohortsProjection
from read_side.analytics.overview import (
    DAY_PREFIX,
    OverviewProjection,
    count_fact,
    day_key,
    fact_day,
)
from read_side.analytics.queries import cohort_table, overview_series
from read_side.events import EventEnvelope
from read_side.projections.api import Projection
from read_side.projections.store import ProjectionStore

END = date(2026, 11, 30)
START = END - timedelta(days=729)
BATCH = 2000


def synthetic(customers: int, events: int, seed: int = 7) -> list[EventEnvelope]:
    """`events` envelopes for `customers` customers of one tenant, in log order."""
    rng = random.Random(seed)
    found: list[EventEnvelope] = []
    per_customer = max(1, events // customers)
    position = 0
    for index in range(customers):
        cid = f"c{index:07d}"
        first = START + timedelta(days=rng.randrange(730))
        version = 1
        kinds = ["visit"] * 4 + ["payment"] * 3 + ["refund", "consent"]
        for step in range(per_customer):
            position += 1
            when = min(END, first + timedelta(days=rng.randrange(0, 400)))
            at = f"{when}T12:00:00.000Z"
            moment = datetime(when.year, when.month, when.day, 12, tzinfo=UTC)
            kind = "create" if step == 0 else rng.choice(kinds)
            data: dict[str, object]
            if kind == "create":
                kind_of = rng.choice(["new", "regular"])
                name, data = "customer.created", {"customer_type": kind_of, "profile": {}}
            elif kind == "visit":
                name, data = (
                    "customer.visit_recorded",
                    {
                        "order_id": f"o{position}",
                        "placed_at": at,
                        "first_time": step == 1,
                        "snapshot": None,
                    },
                )
            elif kind in ("payment", "refund"):
                status = "succeeded" if kind == "payment" else "refunded"
                payment = {"paymentId": f"p{position}", "status": status,
                           "amount": rng.randrange(100, 10_000),
                           "currency": rng.choice(["EUR", "USD"]), "at": at}  # fmt: skip
                name, data = "customer.payment_recorded", {"payment": payment}
            else:
                consent = {"granted": rng.random() < 0.7, "source": None, "legalBasis": "consent"}
                name, data = (
                    "customer.consent_changed",
                    {"purpose": "marketing_email", "consent": consent},
                )
            found.append(
                EventEnvelope(
                    position, f"e{position}", name, cid, version, moment, "acme", data=data
                )
            )
            version += 1
    return found


async def fill(store: ProjectionStore, events: list[EventEnvelope]) -> float:
    """Apply every batch; events per second."""
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        await store.apply(batch, batch[-1].position)
    return len(events) / (time.perf_counter() - started)


async def timed(read: Callable[[], object], reads: int) -> tuple[float, float]:
    samples = []
    for _ in range(reads):
        started = time.perf_counter()
        result = read()
        if asyncio.iscoroutine(result):
            await result
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def brute(events: list[EventEnvelope]) -> None:
    """The baseline: the overview's days and the cohorts straight from the events."""
    days: dict[str, dict[str, object]] = {}
    months: dict[str, set[str]] = {}
    for event in events:
        count_fact(days.setdefault(day_key(fact_day(event)), {}), event)
        if event.type == "customer.visit_recorded":
            months.setdefault(event.customer_id, set()).add(str(event.data["placed_at"])[:7])


async def run(
    kind: str,
    make: Callable[[Projection], ProjectionStore],
    events: list[EventEnvelope],
    reads: int,
) -> None:
    overview, cohorts = make(OverviewProjection()), make(CohortsProjection())
    rates = [await fill(overview, events), await fill(cohorts, events)]

    async def read_overview() -> None:
        overview_series(await overview.find("acme", DAY_PREFIX), START, END, "day")

    async def read_cohorts() -> None:
        found = await cohorts.find("acme", COHORTS_KEY)
        cohort_table(
            next(i.doc for i in found if i.key == COHORTS_KEY), f"{START:%Y-%m}", f"{END:%Y-%m}"
        )

    o50, o99 = await timed(read_overview, reads)
    c50, c99 = await timed(read_cohorts, reads)
    started = time.perf_counter()
    brute(events)
    baseline = (time.perf_counter() - started) * 1000
    ratio = baseline / max(o99, c99)
    print(f"| {kind} | {rates[0]:,.0f} | {rates[1]:,.0f} | {o50:.1f} / {o99:.1f} ms | "
          f"{c50:.1f} / {c99:.1f} ms | {baseline:,.0f} ms | {ratio:,.0f}x |")  # fmt: skip
    for store in (overview, cohorts):
        await store.drop()
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--mongo", default=None)
    args = parser.parse_args()
    print(f"analytics benchmark on {machine()}")
    events = synthetic(args.customers, args.events)
    print(f"# {len(events):,} events of {args.customers:,} customers over two years")
    print("| store | overview apply (events/s) | cohorts apply (events/s) "
          "| overview 2 y by day p50 / p99 | cohorts 24 months p50 / p99 "
          "| brute force once | brute / p99 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    from read_side.projections.sqlite_store import SQLiteProjectionStore

    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as directory:
        path = Path(directory) / "read.db"
        await run(
            "SQLite", lambda p: SQLiteProjectionStore(path, p, generation=1), events, args.reads
        )
    if args.mongo:
        from pymongo import AsyncMongoClient

        from read_side.projections.mongo_store import MongoProjectionStore

        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(args.mongo)
        database = f"bench_analytics_{int(time.time())}"
        await run(
            "FerretDB", lambda p: MongoProjectionStore(client, database, p), events, args.reads
        )
        await client.drop_database(database)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
