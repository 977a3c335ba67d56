"""The staging of a rebuild split across worker processes, one partition of customers each.

Decoding and evolving events is CPU-bound Python, so a single process uses one core. Every
worker reads the whole log up to the rebuild's starting head but decodes only the events of
its own customers (`uuid.int % count`), stages their documents in memory and writes them with
`write_fresh`, exactly like the single-process rebuild. Documents of different customers are
independent, so the partitions' writes never meet. The parent then catches up from that head
through `apply`, stores the checkpoint and switches generations.

Workers are spawned (no inherited threads or event loops); they receive picklable factories
(module-level functions or `functools.partial` of them) and report progress on a queue. They
die with the rebuild process, even when it is killed with SIGKILL (`die_with_parent`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import Protocol, TypeAlias

from projectors.envelopes import EventLog
from projectors.staging import Staging
from read_side.ports import ManagedGeneration
from shared.parent_death import die_with_parent


class Closeable(Protocol):
    """What a sink factory hands back beside the adapter: the clients it opened."""

    async def close(self) -> None:
        """Close them."""
        ...


#: generation -> (adapter, the clients it opened)
SinkFactory = Callable[[int], tuple[ManagedGeneration, Closeable]]
Report = Callable[[int, int], None]  # slowest partition's position, events applied in total
Progress: TypeAlias = "Queue[tuple[int, int, int]]"  # (partition, position, events applied)
_progress: Progress | None = None  # this worker process's queue (set by the pool initializer)


@dataclass(frozen=True)
class Partitioned:
    """How to stage a rebuild in `workers` processes (picklable factories)."""

    open_log: Callable[[], EventLog]
    open_sink: SinkFactory
    workers: int = 2
    min_events: int = 20_000  # below this, spawning workers costs more than it saves


@dataclass(frozen=True)
class _Task:
    plan: Partitioned
    generation: int
    index: int
    stop: int
    batch_size: int
    stage_limit: int


def _start_worker(progress: Progress, parent_pid: int) -> None:
    """Pool initializer: end with the parent, and keep its progress queue."""
    die_with_parent(parent_pid)
    global _progress
    _progress = progress


def _run_partition(task: _Task) -> int:
    return asyncio.run(_stage_partition(task))


async def _stage_partition(task: _Task) -> int:
    log = task.plan.open_log()
    target, clients = task.plan.open_sink(task.generation)
    staging = Staging(target, task.stage_limit)
    partition = (task.index, task.plan.workers)
    position = applied = 0
    try:
        while position < task.stop:
            limit = min(task.batch_size, task.stop - position)
            batch = await asyncio.to_thread(log.read, position, limit, partition=partition)
            if batch.last_position == position:
                break
            if staging.active:
                staging.stage(batch)
                if len(staging.docs) >= staging.limit:
                    await staging.flush()
            else:
                await target.apply(batch.envelopes, batch.last_position)
            position, applied = batch.last_position, applied + len(batch.envelopes)
            assert _progress is not None
            _progress.put((task.index, position, applied))
        if staging.active:
            await staging.flush()
        return applied
    finally:
        await target.close()
        await clients.close()
        log.app.close()


async def stage_in_workers(
    plan: Partitioned,
    generation: int,
    stop: int,
    *,
    batch_size: int,
    stage_limit: int,
    report: Report | None = None,
) -> int:
    """Stage and write positions 1..`stop` of the log in `plan.workers` processes; returns
    the events applied. Raises the first worker's error, if any."""
    context = multiprocessing.get_context("spawn")
    progress: Progress = context.Queue()
    tasks = [
        _Task(plan, generation, index, stop, batch_size, stage_limit)
        for index in range(plan.workers)
    ]
    positions, counts = [0] * plan.workers, [0] * plan.workers
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(
        plan.workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(progress, os.getpid()),
    ) as pool:
        futures = [loop.run_in_executor(pool, _run_partition, task) for task in tasks]
        done = asyncio.gather(*futures)
        while not done.done():
            await asyncio.wait([done], timeout=0.25)
            while True:
                try:
                    index, position, applied = progress.get_nowait()
                except queue.Empty:
                    break
                positions[index], counts[index] = position, applied
            if report is not None:
                report(min(positions), sum(counts))
        return sum(await done)
