"""A built-in projection serving one of the service's own reads (the timeline,
contactability): its store once it is built with the code's version, after a consistency
token; None before, so the read falls back to what served it before the projection existed."""

from __future__ import annotations

from read_side.consistency import ConsistencyWaiter
from read_side.deadline import within
from read_side.generations import ActiveGeneration
from read_side.projections.store import ProjectionStore


class ServedBy:
    """The projection `live` (built with `version`) behind a read."""

    def __init__(
        self,
        live: ActiveGeneration[ProjectionStore],
        version: int,
        *,
        waiter: ConsistencyWaiter | None = None,
        timeout: float = 2.0,
    ) -> None:
        self._live = live
        self._version = version
        self._waiter = waiter
        self._timeout = timeout
        self._built = False

    async def store(self, token: str | None) -> ProjectionStore | None:
        """The active generation's store once the projection passed `token`, or None while
        it is not built with the code's version (the first start after an upgrade backfills
        it in the background)."""
        if self._waiter is not None:
            await self._waiter.wait(token)
        what = f"the {self._live.name} projection"
        store = await within(self._timeout, self._live.current(), what)
        if not self._built:  # once built with this version it stays so (rebuilds keep it)
            built = await within(self._timeout, store.active_version(), what)
            self._built = built == self._version
        return store if self._built else None
