"""Blue/green rebuild of one projection: fill generation N+1 from position 0 while N serves,
switch readers atomically, then drop N.

Nobody reads generation N+1 before the switch, so a sink that offers `write_fresh` gets the
fast path: the rebuild evolves every customer's document in memory (in place, no copies) and
writes each final document once, with plain inserts and no reads. Past `stage_limit` staged
customers it writes what it holds and continues batch by batch through `apply`, so memory
stays bounded. The checkpoint is stored last, once every document is durable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from projectors.envelopes import EventLog
from projectors.partitions import Partitioned, stage_in_workers
from projectors.staging import Staging
from projectors.transient import is_transient
from read_side.events import EventEnvelope
from read_side.ports import ProjectionSink

Progress = Callable[[int, int, int], None]  # position, head, events applied
STAGE_LIMIT = 500_000  # customers held in memory (a few KiB each) before writing them out
APPLY_RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # then the rebuild fails
logger = logging.getLogger(__name__)


class RebuildTarget(ProjectionSink, Protocol):
    """What a rebuild needs of a generation's adapter: the read models' `ManagedGeneration`s
    and the plug-in projections' stores both offer it (a `write_fresh`, when there is one,
    turns the in-memory staging on)."""

    async def active_generation(self) -> int:
        """The active generation of the adapter's projection."""
        ...

    async def activate(self) -> None:
        """Make this generation the active one."""
        ...

    async def ensure_indexes(self) -> None:
        """Create this generation's query indexes."""
        ...

    async def drop(self) -> None:
        """Delete this generation's data and checkpoint."""
        ...

    async def close(self) -> None:
        """Release what the adapter owns."""
        ...


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did."""

    name: str
    old_generation: int
    new_generation: int
    events: int  # customer events applied
    seconds: float
    position: int = 0  # the log position read up to (claims, sequences and records included)

    @property
    def rate(self) -> float:
        """Customer events applied per second."""
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(
    log: EventLog,
    sink_at: Callable[[int], Awaitable[RebuildTarget]],
    *,
    batch_size: int = 2000,
    grace_seconds: float = 3.0,
    progress: Progress | None = None,
    stage_limit: int = STAGE_LIMIT,
    partitioned: Partitioned | None = None,
    switched: Callable[[], None] | None = None,
) -> RebuildResult:
    """Rebuild into a new generation; `sink_at(generation)` opens the adapter of a generation.
    `stage_limit=0` turns the in-memory staging off (every batch goes through `apply`);
    `partitioned` stages in worker processes, one partition of customers each; `switched` is
    called as soon as readers use the new generation (before the old one is dropped)."""
    current = await sink_at(1)
    old_generation = await current.active_generation()
    new_generation = old_generation + 1
    target = await sink_at(new_generation)
    await target.drop()
    await target.ensure_indexes()  # the new generation must serve with its query indexes
    staging = Staging(target, stage_limit)
    started = time.perf_counter()
    position, applied = 0, 0
    head = await asyncio.to_thread(log.head)
    if (
        staging.active
        and partitioned is not None
        and partitioned.workers > 1
        and head >= partitioned.min_events
    ):

        def report(reached: int, events: int) -> None:
            if progress is not None:
                progress(reached, head, events)

        applied = await stage_in_workers(
            partitioned,
            new_generation,
            head,
            batch_size=batch_size,
            stage_limit=stage_limit,
            report=report,
        )
        position, staging.active = head, False  # the workers wrote positions 1..head
    position, applied = await _replay(
        log, target, staging, (position, applied, head), batch_size, progress
    )
    await apply_retrying(target, [], position)  # the checkpoint, once every document is durable
    seconds = time.perf_counter() - started
    await target.activate()
    if switched is not None:
        switched()
    await _drop_when_idle(await sink_at(old_generation), grace_seconds)
    return RebuildResult(target.name, old_generation, new_generation, applied, seconds, position)


async def _replay(
    log: EventLog,
    target: RebuildTarget,
    staging: Staging,
    start: tuple[int, int, int],
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, int]:
    """Read the log from `start` (position, events applied, head) into the new generation,
    staged in memory while the staging holds, else batch by batch; (position, applied)."""
    position, applied, head = start
    while True:
        batch = await asyncio.to_thread(log.read, position, batch_size)
        if batch.last_position == position:
            break
        if staging.active:
            await asyncio.to_thread(staging.stage, batch)
            if len(staging.docs) >= staging.limit:
                await staging.flush()
        else:
            await apply_retrying(target, batch.envelopes, batch.last_position)
        position = batch.last_position
        applied += len(batch.envelopes)
        head = max(head, position)
        if progress is not None:
            progress(position, head, applied)
        if batch.notifications < batch_size:
            break  # caught up when read; the live projection continues from here
    if staging.active:
        await staging.flush()
    return position, applied


async def apply_retrying(
    target: RebuildTarget, events: Sequence[EventEnvelope], position: int
) -> None:
    """`target.apply`, again after a transient failure (idempotent: a batch applied twice is
    harmless). Several projections backfilling into one fresh SQLite file wait for each
    other's write lock; on a loaded machine a wait passed the 10 s busy timeout ("database
    is locked") and failed the whole backfill, which started again from position 0."""
    for pause in APPLY_RETRY_PAUSES:
        try:
            await target.apply(events, position)
            return
        except Exception as error:
            if not is_transient(error):
                raise
            logger.warning("rebuild of %s: %r; batch again in %.0f s", target.name, error, pause)
        await asyncio.sleep(pause)
    await target.apply(events, position)


async def _drop_when_idle(old: RebuildTarget, grace_seconds: float, rounds: int = 10) -> None:
    """Drop the old generation once its checkpoint stood still for `grace_seconds`: a live
    batch that was in flight when readers switched lands before the drop, not after it."""
    last = await old.checkpoint()
    for _ in range(rounds):
        await asyncio.sleep(grace_seconds)
        current = await old.checkpoint()
        if current == last:
            break
        last = current
    await old.drop()
