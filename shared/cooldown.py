"""Leave a failed optional dependency alone for a while instead of paying its timeout on
every request (a circuit breaker reduced to what the cache and the rate limiter need)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Cooldown:
    """`ready()` is False for `seconds` after `failed()`; then one caller tries again."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._until = 0.0

    def ready(self) -> bool:
        """True when the dependency may be asked."""
        return self._clock() >= self._until

    def failed(self) -> None:
        """The dependency just failed: skip it for the cooldown."""
        self._until = self._clock() + self._seconds
