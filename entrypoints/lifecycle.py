"""What a process holds while it runs: background tasks and the projector lock, each released
by the runtime's exit stack."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from asyncio import Task
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import IO, Protocol

from projectors.rebuild_lock import rebuild_lock
from shared.settings import Settings
from write_side.inbound.consumer import InboundConsumer

logger = logging.getLogger(__name__)


def background(resources: AsyncExitStack, job: Coroutine[None, None, None]) -> Task[None]:
    """Run `job` until the runtime stops: the task is kept (a dropped task can be garbage-
    collected mid-run) and cancelled and awaited on stop."""
    task = asyncio.create_task(job)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    resources.push_async_callback(cancel)
    return task


def projector_lock(settings: Settings) -> IO[str] | None:
    """One process per data dir runs the projections; others serve only."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(settings.data_dir / "projectors.lock", "w")  # noqa: SIM115 - held while running
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class Sweepable(Protocol):
    """A projection's live generations (`ActiveGeneration` of any adapter)."""

    name: str

    async def sweep(self) -> list[int]:
        """Drop every generation but the active one."""
        ...


async def sweep_stale_generations(data_dir: Path | str, lives: Sequence[Sweepable]) -> None:
    """Drop generations left by a rebuild killed mid-build or mid-switch (erasure would never
    reach them), skipping a projection whose rebuild is running now. A store that is down is
    not a reason to refuse to start: the next start sweeps again."""
    for adapter in lives:
        with rebuild_lock(data_dir, adapter.name, wait=False) as free:
            if not free:
                logger.info("projection %s is being rebuilt: no sweep now", adapter.name)
                continue
            try:
                dropped = await adapter.sweep()
            except Exception as error:
                logger.warning("could not sweep old generations of %s: %r", adapter.name, error)
                continue
            if dropped:
                logger.warning("dropped generation(s) %s of %s left by an interrupted rebuild",
                               dropped, adapter.name)  # fmt: skip


async def start_consumer(consumer: InboundConsumer, resources: AsyncExitStack) -> None:
    """Start consuming; a broker that is down now is retried in the background."""
    try:
        await consumer.start()
    except Exception as error:
        logger.warning("inbound consumer could not start: %s; retrying in background", error)

        async def retry() -> None:
            while True:
                await asyncio.sleep(5)
                try:
                    await consumer.start()
                    return
                except Exception:  # noqa: S112 - keep trying while the service runs
                    continue

        background(resources, retry())
