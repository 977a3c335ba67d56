"""Where the security monitor counts: the port, and the in-process counters.

The adapters that count across processes live in `shared.adapters` (`alert_counters_redis`
for every API process of a deployment, `alert_counters_sqlite` for the workers of one host).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class AlertCounters(Protocol):
    """Port: windowed counters, distinct-member sets and lockouts."""

    async def add(self, key: str, amount: int, window: float) -> int:
        """Add `amount` to the key's count in its window; the count after."""
        ...

    async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
        """Add `member` to the key's set in its window: (was it new, set size after, seconds
        until the set expires)."""
        ...

    async def lock(self, key: str, seconds: float) -> None:
        """Lock `key` for `seconds` (a later lock extends it)."""
        ...

    async def locked(self, keys: list[str]) -> float:
        """Seconds left of the longest lock among `keys` (0: none)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class InMemoryAlertCounters:
    """Embedded profile: this process only; exact under one lock that never awaits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._sets: dict[str, tuple[set[str], float]] = {}
        self._locks: dict[str, float] = {}
        self._guard = threading.Lock()

    def _sweep(self, now: float) -> None:
        if len(self._counts) + len(self._sets) + len(self._locks) > 50_000:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            self._sets = {k: v for k, v in self._sets.items() if v[1] > now}
            self._locks = {k: v for k, v in self._locks.items() if v > now}

    async def add(self, key: str, amount: int, window: float) -> int:
        """See `AlertCounters.add`."""
        with self._guard:
            now = self._clock()
            self._sweep(now)
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window
            self._counts[key] = (count + amount, ends)
            return count + amount

    async def distinct(self, key: str, member: str, window: float) -> tuple[bool, int, float]:
        """See `AlertCounters.distinct`."""
        with self._guard:
            now = self._clock()
            members, ends = self._sets.get(key, (set(), 0.0))
            if ends <= now:
                members, ends = set(), now + window
            new = member not in members
            members.add(member)
            self._sets[key] = (members, ends)
            return new, len(members), ends - now

    async def lock(self, key: str, seconds: float) -> None:
        """See `AlertCounters.lock`."""
        with self._guard:
            self._locks[key] = max(self._locks.get(key, 0.0), self._clock() + seconds)

    async def locked(self, keys: list[str]) -> float:
        """See `AlertCounters.locked`."""
        with self._guard:
            now = self._clock()
            return max([self._locks.get(key, 0.0) - now for key in keys] + [0.0])

    async def aclose(self) -> None:
        """Nothing to release."""
