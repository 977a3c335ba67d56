"""Rebuilds running in this process, each under its projection's rebuild lock, and their
progress (`GET /admin/projections`, the backfill log lines).

A job is started only when the projection's rebuild lock is free: another rebuild of it, in
this process or another on the same data dir, means "already running" (409 over HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from projectors.rebuild import Progress, RebuildResult
from projectors.rebuild_lock import rebuild_lock
from shared.json_types import JSONObject

logger = logging.getLogger(__name__)
Job = Callable[[Progress], Awaitable[RebuildResult]]
LOG_EVERY_SECONDS = 5.0


@dataclass
class RebuildProgress:
    """How far one rebuild got: log positions read of the head, and the rate so far."""

    name: str
    started: float = field(default_factory=time.monotonic)
    processed: int = 0
    total: int = 0
    logged: float = 0.0

    def update(self, position: int, head: int, _applied: int) -> None:
        """The rebuild's progress callback."""
        self.processed, self.total = position, max(head, position)
        now = time.monotonic()
        if now - self.logged >= LOG_EVERY_SECONDS:
            self.logged = now
            logger.info("rebuilding %s: position %d of %d", self.name, position, self.total)

    def as_json(self) -> JSONObject:
        """`{processed, total, eventsPerSecond, eta}` (eta in seconds, None while unknown)."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.processed / elapsed
        left = max(0, self.total - self.processed)
        eta = round(left / rate, 1) if rate > 0 else None
        return {
            "processed": self.processed,
            "total": self.total,
            "eventsPerSecond": round(rate, 1),
            "eta": eta,
        }


class RebuildJobs:
    """Starts rebuilds in the background and knows which run and how far they got."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = data_dir
        self.running: dict[str, RebuildProgress] = {}
        self.results: dict[str, RebuildResult | str] = {}  # the last outcome (or error) by name
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, name: str, job: Job) -> bool:
        """Run `job` in the background under the rebuild lock of `name`; False (nothing
        started) when a rebuild of `name` already runs here or elsewhere on this data dir."""
        if name in self.running:
            return False
        locked = contextlib.ExitStack()
        if not locked.enter_context(rebuild_lock(self.data_dir, name, wait=False)):
            locked.close()
            return False
        progress = RebuildProgress(name)
        self.running[name] = progress
        self.keep(asyncio.create_task(self._run(name, job, progress, locked)))
        return True

    async def _run(
        self,
        name: str,
        job: Job,
        progress: RebuildProgress,
        locked: contextlib.ExitStack,
    ) -> None:
        try:
            result = await job(progress.update)
            self.results[name] = result
            logger.info(
                "rebuilt %s: generation %d -> %d, %d events in %.1fs",
                name, result.old_generation, result.new_generation, result.events, result.seconds,
            )  # fmt: skip
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.results[name] = f"{type(error).__name__}: {error}"[:300]
            logger.error("rebuild of %s failed: %s", name, error)
        finally:
            self.running.pop(name, None)
            locked.close()

    def keep(self, task: asyncio.Task[None]) -> None:
        """Hold a task that starts a rebuild later (cancelled with the rebuilds on stop)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def progress(self, name: str) -> JSONObject | None:
        """The progress of a running rebuild of `name` (None: none runs in this process)."""
        running = self.running.get(name)
        return running.as_json() if running is not None else None

    async def wait(self, name: str) -> None:
        """Until no rebuild of `name` runs in this process (tests, the CLI)."""
        while name in self.running:
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Cancel the running rebuilds (a killed rebuild's generation is swept at next start)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
