"""Timing pieces of the rebuild benchmark: a timed `rebuild`, its figures, and the sink
factories its worker processes receive (module-level, so they pickle)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.eventfill import BoundedLog, open_bounded_log
from entrypoints.adapters import Clients
from projectors.partitions import Partitioned
from projectors.rebuild import rebuild
from read_side.ports import ManagedGeneration
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store

SinkAt = Callable[[int], Awaitable[Any]]


class OutOfTime(Exception):
    """The rebuild ran past its budget."""


@dataclass
class Timed:
    """One rebuild: events applied, wall seconds, whether it finished, rate per quarter, and
    the CPU seconds of this process and its workers (every thread; not the servers')."""

    events: int
    seconds: float
    complete: bool
    quarters: list[float] = field(default_factory=list)
    cpu: float = 0.0
    marks: list[tuple[float, int]] = field(default_factory=list)

    def projected(self, total: int) -> float:
        """Seconds for `total` events: measured when complete, else extrapolated from a
        least-squares line of seconds-per-event against events applied (a sink whose cost
        per event grows with what it holds keeps growing at the same pace)."""
        if self.complete and self.events >= total:
            return self.seconds
        points = [
            ((a0 + a1) / 2, (t1 - t0) / (a1 - a0))
            for (t0, a0), (t1, a1) in zip(self.marks, self.marks[1:], strict=False)
            if a1 > a0
        ]
        if not points:
            return 0.0
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
        slope = max(0.0, slope)
        intercept = mean_y - slope * mean_x
        return float(intercept * total + slope * total * total / 2)

    @property
    def rate(self) -> float:
        """Events applied per second."""
        return self.events / self.seconds if self.seconds else 0.0


async def timed_rebuild(
    settings: Settings,
    stop: int | None,
    sink_at: SinkAt,
    args: argparse.Namespace,
    open_sink: Callable[[int], tuple[ManagedGeneration, Clients]],
) -> Timed:
    """Rebuild one projection through `projectors.rebuild.rebuild` with a fresh application."""
    app = await asyncio.to_thread(open_event_store, settings)
    marks: list[tuple[float, int]] = [(0.0, 0)]
    cpu = _cpu_seconds()
    started = time.perf_counter()

    def progress(_position: int, _head: int, applied: int) -> None:
        elapsed = time.perf_counter() - started
        marks.append((elapsed, applied))
        if elapsed > args.budget:
            raise OutOfTime

    complete = True
    try:
        result = await rebuild(
            BoundedLog(app, stop),
            sink_at,
            batch_size=args.batch_size,
            grace_seconds=0.0,
            progress=progress,
            stage_limit=args.stage_limit,
            partitioned=Partitioned(
                functools.partial(open_bounded_log, settings, stop), open_sink, args.workers
            ),
        )
        marks.append((result.seconds, result.events))  # staged documents are written last
    except OutOfTime:
        complete = False
    finally:
        app.close()
    seconds, applied = marks[-1]
    cpu_seconds = _cpu_seconds() - cpu
    return Timed(applied, seconds, complete, _quarters(marks), cpu_seconds, marks)


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the rebuild's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _quarters(marks: list[tuple[float, int]]) -> list[float]:
    """Events/s within each quarter of the events applied (shows slow-downs with size)."""
    total = marks[-1][1]
    rates, previous = [], marks[0]
    for quarter in (1, 2, 3, 4):
        mark = next(m for m in marks if m[1] >= total * quarter / 4)
        if mark[0] > previous[0]:
            rates.append((mark[1] - previous[1]) / (mark[0] - previous[0]))
        previous = mark
    return rates


class Opened:
    """Adapters opened through `sink_at`, closed at the end."""

    def __init__(self, factory: Callable[[int], Any]) -> None:
        self.factory = factory
        self.adapters: list[Any] = []

    async def __call__(self, generation: int) -> Any:
        adapter = self.factory(generation)
        self.adapters.append(adapter)
        return adapter

    async def close(self) -> None:
        for adapter in self.adapters:
            await adapter.close()


Row = list[Any]


def sqlite_view(path: Path, generation: int) -> tuple[ManagedGeneration, Clients]:
    """The SQLite view store of a generation (module-level: workers get it pickled)."""
    from read_side.store.sqlite_store import SQLiteViewStore

    return SQLiteViewStore(path, name="customer_view", generation=generation), Clients()


def sqlite_search(path: Path, generation: int) -> tuple[ManagedGeneration, Clients]:
    """The SQLite search index of a generation."""
    from read_side.search.sqlite_index import SQLiteSearchIndex

    return SQLiteSearchIndex(path, name="search", generation=generation), Clients()


def ferret_view(url: str, database: str, generation: int) -> tuple[ManagedGeneration, Clients]:
    """The FerretDB view store of a generation, with a client of its own."""
    from read_side.store.mongo_store import MongoViewStore

    return MongoViewStore.from_url(url, database, generation=generation), Clients()


def redis_search(url: str, prefix: str, generation: int) -> tuple[ManagedGeneration, Clients]:
    """The Redis search index of a generation, and its client."""
    import redis.asyncio as redis

    from read_side.search.redis_index import RedisSearchIndex

    client = redis.Redis.from_url(url, protocol=2)
    return RedisSearchIndex(client, prefix=prefix, generation=generation), Clients(redis=client)


def row(label: str, timed: Timed, target: int, raw: str, head: int) -> Row:
    events = f"{timed.events:,}" + ("" if timed.complete else " (partial)")
    quarters = " / ".join(f"{rate:,.0f}" for rate in timed.quarters)
    per_cpu = timed.events / timed.cpu if timed.cpu else 0.0
    full = timed.projected(head)
    projected = duration(full) + ("" if timed.events >= head else " (extrapolated)")
    row = [label, events, timed.seconds, timed.rate, per_cpu, f"≥ {target:,}", quarters]
    return [*row, projected, raw]


def duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
