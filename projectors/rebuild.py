"""Blue/green rebuild of one projection: fill generation N+1 from position 0 while N serves,
switch readers atomically, then drop N."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from projectors.envelopes import EventLog

Progress = Callable[[int, int, int], None]  # position, head, events applied


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did."""

    name: str
    old_generation: int
    new_generation: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        """Customer events applied per second."""
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(
    log: EventLog,
    sink_at: Callable[[int], Awaitable[Any]],
    *,
    batch_size: int = 2000,
    grace_seconds: float = 3.0,
    progress: Progress | None = None,
) -> RebuildResult:
    """Rebuild into a new generation; `sink_at(generation)` opens the adapter of a generation."""
    current = await sink_at(1)
    old_generation = await current.active_generation()
    new_generation = old_generation + 1
    target = await sink_at(new_generation)
    await target.drop()
    ensure_indexes = getattr(target, "ensure_indexes", None)
    if ensure_indexes is not None:
        await ensure_indexes()  # the new generation must serve with its query indexes
    started = time.perf_counter()
    position, applied = 0, 0
    head = await asyncio.to_thread(log.head)
    while True:
        batch = await asyncio.to_thread(log.read, position, batch_size)
        if batch.last_position == position:
            break
        await target.apply(batch.envelopes, batch.last_position)
        position = batch.last_position
        applied += len(batch.envelopes)
        head = max(head, position)
        if progress is not None:
            progress(position, head, applied)
        if batch.notifications < batch_size:
            break  # caught up when read; the live projection continues from here
    seconds = time.perf_counter() - started
    await target.activate()
    await asyncio.sleep(grace_seconds)
    old = await sink_at(old_generation)
    await old.drop()
    return RebuildResult(target.name, old_generation, new_generation, applied, seconds)
