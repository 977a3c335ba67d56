"""Benchmark: what the tamper-evident log costs writes, and how fast it verifies (issue 15).

    python -m benchmarks.audit_chain [--creates 3000] [--rounds 3] [--clients 32]
        [--verify-events 200000] [--postgres URL] [--stores sqlite,postgresql]
        [--http [--requests 3000]]

1. Creates/s through the write side (`CustomerCommands.create`: validation, email claim,
   group commit; 32 creates in flight) with the chain detached — the recorder writes no chain
   row and no checkpoint, as before issue 15 — and attached, alternating on fresh stores in
   the same run (the order flips each round, so drift in the machine's load hits both);
   prints the median of each and after/before.
   With `--http`, the same over real HTTP (`customers serve`, one worker; the baseline server
   is `benchmarks.serve_unchained`), as `benchmarks.commands` measures creates.
2. Verification: a log of N events (a third creates, the rest updates spread over earlier
   customers, `benchmarks.eventfill`), then the code of `customers audit verify` timed over
   the whole log; prints events/s (target ≥ 50,000 embedded).

PostgreSQL comes from --postgres, else CUSTOMERS_TEST_POSTGRES_URL (scripts/services env).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.commands import CreateBodies, start_server
from benchmarks.eventfill import fill
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor

META = CommandMeta(Principal("bench", "bench", frozenset({Role.STAFF})))


async def _create_all(commands: CustomerCommands, total: int, clients: int) -> None:
    run = uuid.uuid4().hex[:8]
    gate = asyncio.Semaphore(clients)

    async def one(number: int) -> None:
        profile = {
            "firstName": f"Bench{number}",
            "lastName": "Load",
            "email": f"b{number}.{run}@example.com",
            "phone": f"+1415{2_000_000 + number:07d}",
        }
        async with gate:
            await commands.create(META, ProfileInput(profile, "regular"))

    await asyncio.gather(*(one(n) for n in range(total)))


def creates_per_second(
    settings: Settings, total: int, clients: int, *, chained: bool
) -> tuple[float, float]:
    """(creates/s, creates per CPU second of this process) on a fresh store, with the chain
    attached or detached; the second is steadier on a shared machine (SQLite works in this
    process; PostgreSQL's own CPU is not counted)."""
    app = open_event_store(settings)
    if not chained:
        app.recorder.audit_chain = None  # type: ignore[attr-defined]
    commands = CustomerCommands(CommandExecutor(app, index_key=b"bench-index-key"))
    try:
        asyncio.run(_create_all(commands, min(200, total), clients))  # warm up
        started, cpu = time.perf_counter(), time.process_time()
        asyncio.run(_create_all(commands, total, clients))
        return total / (time.perf_counter() - started), total / (time.process_time() - cpu)
    finally:
        commands.executor.close()
        app.close()


def verify_rate(settings: Settings, events: int) -> tuple[int, float, float, bool]:
    """(events verified, events/s, events per CPU second, intact) over a freshly filled log."""
    app = open_event_store(settings)
    try:
        fill(app, events, random.Random(7))
        started, cpu = time.perf_counter(), time.process_time()
        report = app.audit.verify()
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        return report.events, report.events / wall, report.events / used, report.ok
    finally:
        app.close()


def _settings(root: str, name: str, url: str | None) -> Settings:
    data_dir = Path(root) / name
    if url is None:
        return Settings(data_dir=data_dir, audit_key="bench-audit-key")
    sep = "&" if "?" in url else "?"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    return Settings(data_dir=data_dir, event_store_url=f"{url}{sep}schema={schema}",
                    audit_key="bench-audit-key")  # fmt: skip


def http_creates(settings: Settings, args: argparse.Namespace, *, chained: bool) -> float:
    """Creates/s over HTTP (`serve`, one worker, chain attached or detached), and a check
    that the detached server really wrote no chain row (SQLite)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    module = "entrypoints.cli" if chained else "benchmarks.serve_unchained"
    server = start_server(settings, args.port, 1, module)
    try:
        bodies = CreateBodies(None)
        bodies.load(args.port, args.clients, total=min(300, args.requests))
        rate = bodies.load(args.port, args.clients, total=args.requests).rate
    finally:
        server.terminate()
        server.wait(timeout=30)
    if settings.event_store_url is None:
        with sqlite3.connect(settings.data_dir / "events.db") as db:
            rows = db.execute("SELECT COUNT(*) FROM event_chain").fetchone()[0]
        assert (rows > 0) == chained, f"chain rows: {rows} with the chain {chained}"
    return rate


def compare(label: str, root: str, url: str | None, args: argparse.Namespace) -> None:
    """Alternate chain off/on rounds on fresh stores; print each round and the medians."""
    rates: dict[bool, list[tuple[float, ...]]] = {False: [], True: []}
    units = ("creates/s over HTTP",) if args.http else ("creates/s", "creates per CPU s")
    for round_ in range(args.rounds):
        for chained in (False, True) if round_ % 2 == 0 else (True, False):
            settings = _settings(root, f"r{round_}{chained}", url)
            measured: tuple[float, ...] = (
                (http_creates(settings, args, chained=chained),)
                if args.http
                else creates_per_second(settings, args.creates, args.clients, chained=chained)
            )
            rates[chained].append(measured)
            shown = "  ".join(
                f"{value:7.0f} {unit}" for value, unit in zip(measured, units, strict=True)
            )
            mode = "chain on " if chained else "chain off"
            print(f"{label:<11} round {round_ + 1} {mode} {shown}", flush=True)
    for index, unit in enumerate(units):
        before, after = (statistics.median(r[index] for r in rates[c]) for c in (False, True))
        print(
            f"{label:<11} {unit} median: before {before:.0f}, after {after:.0f},"
            f" after/before {after / before:.2f}",
            flush=True,
        )


def main() -> None:
    """Run both measures on each available event store."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--verify-events", type=int, default=200_000)
    parser.add_argument("--http", action="store_true", help="creates over HTTP instead")
    parser.add_argument("--requests", type=int, default=3000, help="with --http, per round")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--postgres", default=os.environ.get("CUSTOMERS_TEST_POSTGRES_URL"))
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    stores: list[tuple[str, str | None]] = []
    if "sqlite" in args.stores:
        stores.append(("sqlite", None))
    if args.postgres and "postgresql" in args.stores:
        stores.append(("postgresql", args.postgres))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, url in stores:
        with tempfile.TemporaryDirectory() as root:
            if args.rounds:
                compare(label, root, url, args)
            if args.verify_events:
                events, rate, cpu_rate, ok = verify_rate(
                    _settings(root, "verify", url), args.verify_events
                )
                print(
                    f"{label:<11} verify {events} events: {rate:,.0f} events/s,"
                    f" {cpu_rate:,.0f} per CPU s ({'intact' if ok else 'BROKEN'})",
                    flush=True,
                )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
