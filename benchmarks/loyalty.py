"""Benchmark: what loyalty costs the payment path, and redemptions on one ledger.

    python -m benchmarks.loyalty [--customers 200] [--payments 2000] [--redemptions 400]
        [--postgres URL]

On SQLite (a temporary data dir) and PostgreSQL (--postgres, else CUSTOMERS_TEST_POSTGRES_URL
from scripts/services env), 32 concurrent payment commands (`CommerceCommands.record_payment`,
the path of the RabbitMQ consumer) spread over the customers: first with no program (the
baseline: one more aggregate read per payment), then with a program (the ledger read, its
events saved in the same transaction, a tier when reached). Then 32 concurrent redemptions on
a single ledger. Prints rates, p50/p99 and each rate as a ratio to the baseline of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from benchmarks.figures import machine, percentile, table
from shared.errors import Conflict
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.attendees import AttendeeProcessing
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.commerce import CommerceCommands
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor
from write_side.application.loyalty import LoyaltyCommands

META = CommandMeta(Principal("bench", "bench", frozenset({Role.ADMIN})))
PROGRAM = {
    "pointsPerUnit": {"EUR": 1},
    "pointsPerVisit": 5,
    "expiryDays": 365,
    "tiers": [{"name": "Silver", "minPoints": 100}, {"name": "Gold", "minPoints": 1000}],
}
Row = tuple[str, str, float, float, float, str]


async def timed(
    calls: Sequence[Callable[[], Awaitable[object]]], clients: int
) -> tuple[float, list[float]]:
    """Run the calls `clients` at a time; (calls/s, latencies in ms)."""
    queue = list(reversed(calls))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            with contextlib.suppress(Conflict):  # a refused redemption is an answer too
                await call()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(calls) / (time.perf_counter() - started), latencies


def payments(
    commerce: CommerceCommands, customers: list[str], count: int, tag: str
) -> list[Callable[[], Awaitable[object]]]:
    def call(n: int) -> Callable[[], Awaitable[object]]:
        payment = {"paymentId": f"{tag}-{n}", "orderId": None, "amount": 1234 + n,
                   "currency": "EUR", "status": "succeeded", "at": "2026-11-20T11:00:00.000Z",
                   "method": "card"}  # fmt: skip
        customer = customers[n % len(customers)]
        return lambda: commerce.record_payment(META, payment, customer_id=customer, payer=None)

    return [call(n) for n in range(count)]


async def run_store(name: str, settings: Settings, args: argparse.Namespace) -> list[Row]:
    executor = CommandExecutor(open_event_store(settings), index_key=b"bench-key")
    try:
        commands = CustomerCommands(executor)
        commerce = CommerceCommands(executor, AttendeeProcessing(executor))
        loyalty = LoyaltyCommands(executor)
        created = [
            await commands.create(META, ProfileInput({"firstName": f"B{i}"}))
            for i in range(args.customers)
        ]
        customers = [str(c.customer.id) for c in created]
        base_rate, base = await timed(payments(commerce, customers, args.payments, "a"), 32)
        await loyalty.set_program(META, PROGRAM)
        rate, with_points = await timed(payments(commerce, customers, args.payments, "b"), 32)
        spread = [
            functools.partial(loyalty.redeem, META, created[n % len(created)].customer.id, 1, "b")
            for n in range(args.redemptions)
        ]
        redeem_rate, redeemed = await timed(spread, 32)
        fresh = (await commands.create(META, ProfileInput({"firstName": "R"}))).customer.id
        await loyalty.adjust(META, fresh, 20, "bench")
        race = [functools.partial(loyalty.redeem, META, fresh, 1, "b") for _ in range(20)]
        race_rate, raced = await timed(race, 20)
    finally:
        executor.close()
    return [
        (name, "payments, no program (baseline)", base_rate, percentile(base, 0.5),
         percentile(base, 0.99), "1.00"),
        (name, "payments earning points", rate, percentile(with_points, 0.5),
         percentile(with_points, 0.99), f"{rate / base_rate:.2f}"),
        (name, "redemptions (32 clients, all ledgers)", redeem_rate, percentile(redeemed, 0.5),
         percentile(redeemed, 0.99), f"{redeem_rate / base_rate:.2f}"),
        (name, "20 at once on one fresh ledger", race_rate,
         percentile(raced, 0.5), percentile(raced, 0.99), "-"),
    ]  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        rows += await run_store("SQLite", Settings(data_dir=Path(folder)), args)
    postgres = args.postgres or os.environ.get("CUSTOMERS_TEST_POSTGRES_URL")
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        separator = "&" if "?" in postgres else "?"
        with tempfile.TemporaryDirectory() as folder:
            url = f"{postgres}{separator}schema={schema}"
            settings = Settings(data_dir=Path(folder), event_store_url=url)
            rows += await run_store("PostgreSQL", settings, args)
    print(machine())
    print(table(["store", "workload", "per s", "p50 ms", "p99 ms", "vs baseline"], rows))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--redemptions", type=int, default=400)
    parser.add_argument("--postgres")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
