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
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from projectors.envelopes import EventLog, LogBatch
from read_side.views import CustomerDoc, evolve_in_place

Progress = Callable[[int, int, int], None]  # position, head, events applied
STAGE_LIMIT = 500_000  # customers held in memory (a few KiB each) before writing them out
_FRESH_CHUNK = 2000  # documents per write_fresh call


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


class _Staging:
    """Documents of the new generation evolving in memory until they are written once."""

    def __init__(self, target: Any, limit: int) -> None:
        self.target = target
        self.limit = limit
        self.docs: dict[tuple[str, str], CustomerDoc] = {}
        self.active = limit > 0 and callable(getattr(target, "write_fresh", None))

    def stage(self, batch: LogBatch) -> None:
        """Evolve the batch's documents in memory (runs off the event loop)."""
        docs = self.docs
        for event in batch.envelopes:
            key = (event.tenant_id, event.customer_id)
            doc = evolve_in_place(docs.get(key), event)
            if doc is not None:
                docs[key] = doc

    async def flush(self) -> None:
        """Write every staged document once, then stop staging. Two chunks are in flight, so
        the sink prepares one while its server (or SQLite, outside the GIL) writes the other."""
        docs: Sequence[CustomerDoc] = list(self.docs.values())
        self.docs, self.active = {}, False
        in_flight: asyncio.Task[None] | None = None
        for start in range(0, len(docs), _FRESH_CHUNK):
            chunk = docs[start : start + _FRESH_CHUNK]
            task = asyncio.ensure_future(self.target.write_fresh(chunk))
            if in_flight is not None:
                await in_flight
            in_flight = task
        if in_flight is not None:
            await in_flight


async def rebuild(
    log: EventLog,
    sink_at: Callable[[int], Awaitable[Any]],
    *,
    batch_size: int = 2000,
    grace_seconds: float = 3.0,
    progress: Progress | None = None,
    stage_limit: int = STAGE_LIMIT,
) -> RebuildResult:
    """Rebuild into a new generation; `sink_at(generation)` opens the adapter of a generation.
    `stage_limit=0` turns the in-memory staging off (every batch goes through `apply`)."""
    current = await sink_at(1)
    old_generation = await current.active_generation()
    new_generation = old_generation + 1
    target = await sink_at(new_generation)
    await target.drop()
    ensure_indexes = getattr(target, "ensure_indexes", None)
    if ensure_indexes is not None:
        await ensure_indexes()  # the new generation must serve with its query indexes
    staging = _Staging(target, stage_limit)
    started = time.perf_counter()
    position, applied = 0, 0
    head = await asyncio.to_thread(log.head)
    while True:
        batch = await asyncio.to_thread(log.read, position, batch_size)
        if batch.last_position == position:
            break
        if staging.active:
            await asyncio.to_thread(staging.stage, batch)
            if len(staging.docs) >= staging.limit:
                await staging.flush()
        else:
            await target.apply(batch.envelopes, batch.last_position)
        position = batch.last_position
        applied += len(batch.envelopes)
        head = max(head, position)
        if progress is not None:
            progress(position, head, applied)
        if batch.notifications < batch_size:
            break  # caught up when read; the live projection continues from here
    if staging.active:
        await staging.flush()
    await target.apply([], position)  # the checkpoint, after every document is durable
    seconds = time.perf_counter() - started
    await target.activate()
    await asyncio.sleep(grace_seconds)
    old = await sink_at(old_generation)
    await old.drop()
    return RebuildResult(target.name, old_generation, new_generation, applied, seconds)
