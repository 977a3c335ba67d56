"""How the projections of a serving process share its cores with the requests (issue 16 B).

During a write burst the projections used to wake on every commit, each on its own thread,
and fold a few events at a time: seven threads taking the GIL in turn delayed the event
loop (p99 of `POST /customers` in the hundreds of ms), and seven SQLite writers on one
read-model file waited for each other's write lock. A `Pacer` changes two things:

- **Turns.** At most `turns` projections read and apply a batch at once (1 on SQLite read
  models: the file has one writer anyway, and Python folding does not run in parallel).
- **Deferral while busy.** Before reading the log, a projection waits while this process
  has `busy_at` or more HTTP requests in flight (a client writing one request at a time is
  never deferred), for at most `max_defer` seconds: requests get the cores during a burst,
  the projections then apply larger batches (cheaper per event), and the lag returns to 0
  once the burst ends. A read waiting for a consistency token calls `hurry()`, which ends
  the deferral at once.

Nothing is skipped or applied twice: only when a batch is read and applied changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from shared.http.in_flight import InFlight
from shared.settings import Settings

#: how often a deferred projection looks again whether the process is still busy
RECHECK_SECONDS = 0.02


class Pacer:
    """Turn-taking and deferral for the loops of one `ProjectionRunner` (see the module)."""

    def __init__(
        self,
        *,
        turns: int | None = None,
        max_defer: float = 0.0,
        busy_at: int = 2,
        in_flight: InFlight | None = None,
    ) -> None:
        self.max_defer = max_defer
        self.busy_at = busy_at
        self.in_flight = in_flight or InFlight()
        self._turns = asyncio.Semaphore(turns) if turns else None
        self._hurry_until = 0.0

    @classmethod
    def serving(cls, settings: Settings) -> Pacer:
        """The pacer of a serving process: turns on SQLite read models (one writer per file
        anyway), deferral up to `projection_defer_seconds` (`create_app` sets `in_flight`)."""
        turns = 1 if settings.mongo_url is None else None
        return cls(turns=turns, max_defer=settings.projection_defer_seconds)

    def hurry(self, seconds: float = 1.0) -> None:
        """Someone waits for the projections: no deferral for `seconds`."""
        self._hurry_until = time.monotonic() + seconds

    def busy(self) -> bool:
        """Requests are in flight and nobody waits for the projections."""
        return self.in_flight.count >= self.busy_at and time.monotonic() >= self._hurry_until

    async def settle(self, stopping: Callable[[], bool]) -> None:
        """Wait while busy, at most `max_defer` seconds."""
        if self.max_defer <= 0:
            return
        deadline = time.monotonic() + self.max_defer
        while self.busy() and not stopping() and time.monotonic() < deadline:
            await asyncio.sleep(RECHECK_SECONDS)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the `turns` while reading and applying a batch."""
        if self._turns is None:
            yield
            return
        async with self._turns:
            yield
