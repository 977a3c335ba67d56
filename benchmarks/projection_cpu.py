"""Benchmark: CPU per event of each projection a serving process runs, at a write burst's
batch sizes (issue 16 B: what the projections cost the cores the requests share).

    python -m benchmarks.projection_cpu [--events 6000] [--batches 8,64,1000]
                                        [--postgres URL]

Fills an event store (embedded SQLite, or a fresh schema of --postgres with SQLite read
models, as the peer harness runs the PostgreSQL target) with creates and updates through the
eventsourcing application, then reads the log once in batches of each size (decoding and
decrypting: the part all projections share) and applies those batches to each projection
alone, from position 0 in a fresh data dir, timing the process's CPU (every thread) and
the wall clock. Figures are per event read, so they do not depend on the machine's load
(the CPU figure) except through cache effects.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks.eventfill import fill
from benchmarks.figures import machine, table
from projectors.envelopes import EventLog, LogBatch
from read_side.ports import ProjectionSink
from shared.settings import Settings


@dataclass(frozen=True)
class Cost:
    """One projection at one batch size: CPU and wall micro-seconds per event."""

    name: str
    batch: int
    cpu_us: float
    wall_us: float


def cpu_seconds() -> float:
    """User + system CPU of the whole process (the sinks run on worker threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def read_all(log: EventLog, size: int) -> list[LogBatch]:
    """The whole log in batches of `size` (decoded once, as the shared reader does)."""
    batches: list[LogBatch] = []
    position = 0
    while True:
        batch = log.read(position, size)
        if batch.last_position == position:
            return batches
        batches.append(batch)
        position = batch.last_position


async def measure(name: str, sink: ProjectionSink, batches: list[LogBatch], size: int) -> Cost:
    """Apply every batch to `sink`, as the runner does, and time it."""
    events = sum(len(batch.envelopes) for batch in batches)
    cpu, wall = cpu_seconds(), time.perf_counter()
    for batch in batches:
        await sink.apply(batch.envelopes, batch.last_position)
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    return Cost(name, size, 1e6 * cpu / events, 1e6 * wall / events)


async def sinks_of(settings: Settings) -> tuple[list[tuple[str, ProjectionSink]], object]:
    """Every projection `serve` runs on this profile, on fresh read models (no relay: the
    harness runs without a broker)."""
    from entrypoints.runtime import start_runtime

    runtime = await start_runtime(settings, projections=False)
    found: list[tuple[str, ProjectionSink]] = [
        ("customer_view", runtime.runner.sinks["customer_view"]),
        ("search", runtime.runner.sinks["search"]),
    ]
    found += [(name, plugin.live) for name, plugin in sorted(runtime.plugins.items())]
    return found, runtime


async def run(args: argparse.Namespace) -> list[Cost]:
    """Fill once, then measure every batch size and projection on fresh read models."""
    from entrypoints.runtime import Runtime

    costs: list[Cost] = []
    with tempfile.TemporaryDirectory() as folder:
        url = None
        if args.postgres:
            sep = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{sep}schema=projcpu_{uuid.uuid4().hex[:8]}"
        store_settings = Settings(data_dir=Path(folder) / "store", event_store_url=url)
        from write_side.adapters.event_store import open_event_store

        app = open_event_store(store_settings)
        fill(app, args.events, random.Random(7), per_save=60)
        app.close()
        for size in args.batches:
            log = EventLog(open_event_store(store_settings), keep=0)
            cpu, wall = cpu_seconds(), time.perf_counter()
            batches = read_all(log, size)
            events = sum(len(batch.envelopes) for batch in batches)
            costs.append(
                Cost(
                    "(shared) read+decode", size, 1e6 * (cpu_seconds() - cpu) / events,
                    1e6 * (time.perf_counter() - wall) / events,
                )
            )  # fmt: skip
            log.app.close()
            read = Settings(data_dir=Path(folder) / f"read{size}", event_store_url=url)
            # the read models of another data dir, over the same event store
            found, runtime = await sinks_of(read)
            assert isinstance(runtime, Runtime)
            try:
                for name, sink in found:
                    costs.append(await measure(name, sink, batches, size))
            finally:
                await runtime.stop()
        if url is not None:
            drop_schema(url)
    return costs


def drop_schema(url: str) -> None:
    """Remove the benchmark's PostgreSQL schema."""
    import psycopg

    base, _, schema = url.rpartition("schema=")
    with psycopg.connect(base.rstrip("?&"), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--batches", default="8,64,1000")
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    args.batches = [int(part) for part in args.batches.split(",")]
    costs = asyncio.run(run(args))
    print(machine())
    rows = [[c.name, str(c.batch), f"{c.cpu_us:.0f}", f"{c.wall_us:.0f}"] for c in costs]
    print(table(["projection", "batch", "CPU µs/event", "wall µs/event"], rows))
    for size in args.batches:
        total = sum(c.cpu_us for c in costs if c.batch == size)
        print(f"batch {size}: all projections + shared read {total:.0f} µs CPU per event")


if __name__ == "__main__":
    main()
