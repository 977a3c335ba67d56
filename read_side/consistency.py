"""Read-your-writes: wait until every read-model projection has passed a command's position."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from shared.errors import MalformedRequest, ServiceUnavailable

Checkpoint = Callable[[], Awaitable[int]]


class ConsistencyWaiter:
    """Polls the projections' checkpoints (cheap reads) until they reach the token."""

    def __init__(
        self, checkpoints: Sequence[Checkpoint], *, timeout: float = 5.0, interval: float = 0.01
    ) -> None:
        self._checkpoints = list(checkpoints)
        self._timeout = timeout
        self._interval = interval

    async def wait(self, token: str | None) -> None:
        """Return once every projection is at or past `token`; 503 after the timeout."""
        if not token:
            return
        if not token.isdigit() or len(token) > 18:
            raise MalformedRequest("X-Consistency-Token must be a token returned by a command.")
        wanted = int(token)
        deadline = time.monotonic() + self._timeout
        while True:
            positions = await asyncio.gather(*(read() for read in self._checkpoints))
            if min(positions, default=wanted) >= wanted:
                return
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(
                    "The read models have not caught up with this consistency token yet.",
                    retry_after=1,
                )
            await asyncio.sleep(self._interval)
