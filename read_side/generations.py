"""Follow the active generation of a projection (blue/green rebuilds switch it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from read_side.events import EventEnvelope


class Generational(Protocol):
    """What every read-side adapter offers beyond its port."""

    name: str

    async def active_generation(self) -> int:
        """The generation readers should use."""
        ...

    async def checkpoint(self) -> int:
        """Position of the last applied event."""
        ...

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch and store the checkpoint."""
        ...

    async def generations(self) -> set[int]:
        """Every generation of `name` that holds data or a checkpoint."""
        ...

    async def drop(self) -> None:
        """Delete this generation's data and checkpoint."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


A = TypeVar("A", bound=Generational)


class GenerationChanged(Exception):
    """The active generation switched between reading a checkpoint and applying a batch."""


class ActiveGeneration(Generic[A]):
    """Hands out the adapter of the active generation, re-checking the pointer every `ttl`."""

    def __init__(self, factory: Callable[[int], A], *, ttl: float = 1.0) -> None:
        self._factory = factory
        self._ttl = ttl
        self._instances: dict[int, A] = {}
        self._generation = 0
        self._checked = 0.0
        self._pinned: int | None = None
        self.name = factory(1).name

    async def current(self) -> A:
        """The adapter readers and the live projection should use now."""
        now = time.monotonic()
        if not self._generation or now - self._checked > self._ttl:
            probe = self._instances.get(self._generation) or self._instance(1)
            self._generation = await probe.active_generation()
            self._checked = now
        return self._instance(self._generation)

    def refresh(self) -> None:
        """Read the active generation again on the next call (a rebuild of this process just
        switched it: waiting out `ttl` would send a batch to the old generation)."""
        self._checked = 0.0

    def _instance(self, generation: int) -> A:
        if generation not in self._instances:
            self._instances[generation] = self._factory(generation)
        return self._instances[generation]

    async def checkpoint(self) -> int:
        """The active generation's checkpoint; later batches must go to that generation."""
        adapter = await self.current()
        self._pinned = self._generation
        return await adapter.checkpoint()

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply to the active generation, unless it changed since the checkpoint was read."""
        adapter = await self.current()
        if self._pinned is not None and self._pinned != self._generation:
            self._pinned = None
            raise GenerationChanged(self.name)
        await adapter.apply(events, position)

    async def sweep(self) -> list[int]:
        """Drop every generation but the active one; the generations dropped.

        Erasure only reaches the active generation, so a generation left behind by a rebuild
        killed mid-build or mid-switch would keep erased values forever. The caller must hold
        the projection's rebuild lock (`projectors.rebuild_lock`): a live rebuild's target
        is not active yet either."""
        self._checked = 0.0
        active_adapter = await self.current()
        active = self._generation
        stale = sorted(await active_adapter.generations() - {active})
        for generation in stale:
            adapter = self._instances.pop(generation, None) or self._factory(generation)
            try:
                await adapter.drop()
            finally:
                await adapter.close()
        return stale

    async def close(self) -> None:
        """Close every adapter this object created."""
        for adapter in self._instances.values():
            await adapter.close()
        self._instances.clear()
