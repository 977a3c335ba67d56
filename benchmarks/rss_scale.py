"""Benchmark: the service's memory as the number of customers grows (issue 16 B).

    python -m benchmarks.rss_scale [--sizes 10000,1000000] [--requests 4000] [--clients 8]

For each size, on the embedded profile (SQLite event store and read models in a fresh temp
data dir): register that many customers straight into the event store
(`benchmarks.rss_load.fill_customers`), start `customers serve` (one worker, a subprocess),
wait until `/health` shows every projection at the head (the service projects the whole log
itself), then send a fixed mixed load (`rss_load.MixedLoad`). The serve process's VmRSS and
VmHWM (/proc/PID/status) are read right after it answers, after the catch-up and after the
load. The goal: RSS at the largest size within 1.5x of RSS at the smallest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benchmarks.figures import machine, table
from benchmarks.loadgen import LoadResult, run_load
from benchmarks.rss_load import TENANT, MixedLoad, fill_customers, memory_kb, wait_caught_up
from benchmarks.service import KEYS, bearer, start_service, stop_service
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store

GOAL = 1.5
#: the load lists thousands of records a minute: without this the security monitor's
#: bulk-read alert locks the benchmark's subject out (429) after 1,000
QUIET_MONITOR = {"CUSTOMERS_ALERT_BULK_RECORDS": "1000000000"}


@dataclass
class SizeRun:
    """What one size measured (memory in MB)."""

    customers: int
    fill_seconds: float = 0.0
    catch_up_seconds: float = 0.0
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)  # stage: (RSS, HWM)
    load: LoadResult = field(default_factory=LoadResult)
    service_cpu: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0
    not_running: list[str] = field(default_factory=list)


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields `update(completed, total)`."""
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(label, total=total)

        def update(completed: int, new_total: int) -> None:
            bar.update(task, completed=completed, total=max(new_total, 1))

        yield update


def fill_store(data_dir: Path, run: SizeRun, seed: int) -> list[str]:
    """Register `run.customers` customers in `data_dir`'s event store; the sampled ids."""
    master, audit = KEYS["CUSTOMERS_MASTER_KEY"], KEYS["CUSTOMERS_AUDIT_KEY"]
    settings = Settings(data_dir=data_dir, master_key=master, audit_key=audit)  # as `serve`
    app = open_event_store(settings)
    done = 0
    try:
        with progress_bar(f"fill {run.customers:,}", run.customers) as update:

            def advance(count: int) -> None:
                nonlocal done
                done += count
                update(done, run.customers)

            filled = fill_customers(app, run.customers, random.Random(seed), advance)
    finally:
        app.close()
    run.fill_seconds = filled.seconds
    return filled.ids


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(size: int, args: argparse.Namespace) -> SizeRun:
    """Fill, serve, catch up, load; memory at each stage."""
    run = SizeRun(size, load_before=os.getloadavg()[0])
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as directory:
        data_dir = Path(directory)
        ids = fill_store(data_dir, run, args.seed)
        process = start_service(data_dir, args.port, QUIET_MONITOR, timeout=args.timeout)
        try:
            run.memory["started"] = _mb(memory_kb(process.pid))
            with progress_bar(f"catch-up {size:,}", size) as update:
                run.catch_up_seconds, run.not_running = wait_caught_up(
                    args.port, update, args.timeout
                )
            run.memory["caught up"] = _mb(memory_kb(process.pid))
            mix = MixedLoad(ids, bearer(TENANT), args.seed)
            load = run_load(
                "127.0.0.1", args.port, mix.request, clients=args.clients, total=args.requests
            )
            run.load = asyncio.run(load)
            run.memory["after load"] = _mb(memory_kb(process.pid))
            run.service_cpu = cpu_seconds(process.pid)
        finally:
            stop_service(process)
    run.load_after = os.getloadavg()[0]
    return run


def _mb(kb: tuple[int, int]) -> tuple[float, float]:
    return kb[0] / 1024, kb[1] / 1024


def report(runs: list[SizeRun]) -> None:
    """The per-size table and the largest/smallest ratios."""
    rows = []
    for run in runs:
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(run.load.statuses.items()))
        rows.append(
            [
                f"{run.customers:,}",
                f"{run.fill_seconds:.0f} s",
                f"{run.catch_up_seconds:.0f} s",
                *(
                    f"{run.memory[stage][0]:.0f}"
                    for stage in ("started", "caught up", "after load")
                ),
                f"{run.memory['after load'][1]:.0f}",
                f"{run.load.rate:.0f}",
                f"{run.load.percentile(0.99):.0f}",
                f"{run.service_cpu:.0f} s",
                f"{run.load_before:.1f} → {run.load_after:.1f}",
                statuses,
            ]
        )
    headers = [
        "customers", "fill", "catch-up", "RSS start MB", "RSS caught up", "RSS after load",
        "VmHWM", "req/s", "p99 ms", "serve CPU", "load avg", "statuses",
    ]  # fmt: skip
    print(table(headers, rows))
    for run in runs:
        if run.not_running:
            print(f"{run.customers:,}: not running after catch-up: {', '.join(run.not_running)}")
    first, last = runs[0], runs[-1]
    for stage in ("caught up", "after load"):
        ratio = last.memory[stage][0] / first.memory[stage][0]
        print(f"RSS {stage}: {last.customers:,} / {first.customers:,} = {ratio:.2f}x")
    hwm = last.memory["after load"][1] / first.memory["after load"][1]
    rss = last.memory["after load"][0] / first.memory["after load"][0]
    verdict = "met" if rss <= GOAL else "NOT met"
    print(f"VmHWM: {hwm:.2f}x; goal RSS within {GOAL}x: {verdict}")


def main() -> None:
    """Parse the arguments, measure each size in turn, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated customer counts")
    parser.add_argument("--requests", type=int, default=4000, help="requests of the mixed load")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=18764)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for start, catch-up")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"rss_scale on {machine()}")
    runs = []
    for size in sizes:
        started = time.perf_counter()
        runs.append(measure(size, args))
        print(f"{size:,} customers measured in {time.perf_counter() - started:.0f} s", flush=True)
    report(runs)
    print(f"done on {machine()}")


if __name__ == "__main__":
    main()
