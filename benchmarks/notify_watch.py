"""The notifications benchmark's watch on the engagement use cases the consumer calls: when
each notification was stored (committed: visible to `GET .../communications`), and each
batch's size and time in its commands. Installed over the runtime's own use cases (the
consumer holds them), restored on exit."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.figures import percentile


class Watch:
    """`stored` (notification id → wall time) and `spans` (messages, ms per batch)."""

    def __init__(self, engagement: Any) -> None:
        self.stored: dict[str, float] = {}
        self.spans: list[tuple[int, float]] = []
        self._engagement = engagement
        self._one = engagement.record_communication
        self._many = engagement.record_communication_batches

    def install(self) -> None:
        """Put the watching wrappers in place of the use cases."""
        object.__setattr__(self._engagement, "record_communication", self._record_one)
        object.__setattr__(self._engagement, "record_communication_batches", self._record_many)

    def restore(self) -> None:
        """Put the use cases back."""
        object.__setattr__(self._engagement, "record_communication", self._one)
        object.__setattr__(self._engagement, "record_communication_batches", self._many)

    async def _record_one(self, meta: Any, customer_id: Any, item: Any, **kw: Any) -> Any:
        outcome = await self._one(meta, customer_id, item, **kw)  # kw: follow_merges
        self.stored[item.communication_id] = time.time()
        return outcome

    async def _record_many(self, batches: Any) -> Any:
        started = time.perf_counter()
        answers = await self._many(batches)
        now = time.time()
        self.spans.append(
            (sum(len(c) for _, _, c in batches), (time.perf_counter() - started) * 1e3)
        )
        for _, _, communications in batches:
            for communication in communications:
                self.stored[communication.communication_id] = now
        return answers

    def batches(self) -> str:
        """How many batches, their mean size, and their time in the commands."""
        if not self.spans:
            return "no batches"
        ms = [span for _, span in self.spans]
        size = sum(n for n, _ in self.spans) / len(self.spans)
        return (
            f"{len(self.spans)} batches, {size:.0f} messages each, {sum(ms) / len(ms):.0f} ms "
            f"mean / {percentile(ms, 0.99):.0f} p99 in the commands"
        )
