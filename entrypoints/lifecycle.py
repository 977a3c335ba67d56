"""What a process holds while it runs: background tasks and the projector lock, each released
by the runtime's exit stack."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from asyncio import Task
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import IO

from shared.settings import Settings


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
