"""Everything one process runs, started and stopped in order (the composition root's core)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from entrypoints.adapters import ReadAdapters, open_read_adapters
from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.runner import ProjectionRunner
from read_side.cache import CachingViewSink
from read_side.consistency import ConsistencyWaiter
from read_side.events import EventEnvelope
from read_side.ports import ProjectionSink
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from shared.settings import Settings
from write_side.application.attendees import AttendeeProcessing
from write_side.application.commands import CustomerCommands
from write_side.application.commerce import CommerceCommands
from write_side.application.event_store import CustomersApplication, open_event_store
from write_side.application.privacy import PrivacyCommands

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The wired service: write side, read side, projections."""

    settings: Settings
    store: CustomersApplication
    commands: CustomerCommands
    log: EventLog
    read: ReadAdapters
    queries: CustomerQueries
    runner: ProjectionRunner
    dead_letters: DeadLetterBook
    records: CustomerRecords
    attendees: AttendeeProcessing
    commerce: CommerceCommands
    privacy: PrivacyCommands
    runs_projections: bool = False
    _lock_file: IO[str] | None = field(default=None, repr=False)

    async def stop(self) -> None:
        """Stop projections, flush commands, close connections."""
        await self.runner.stop()
        await asyncio.to_thread(self.commands.close)
        await self.read.close()
        self.store.close()
        if self._lock_file is not None:
            self._lock_file.close()


def _projector_lock(settings: Settings) -> IO[str] | None:
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


async def start_runtime(settings: Settings, *, projections: bool = True) -> Runtime:
    """Open the event store and read models; start the projections if this process may."""
    store = await asyncio.to_thread(open_event_store, settings)
    commands = CustomerCommands(
        store,
        index_key=settings.resolved_index_key(),
        default_region=settings.default_phone_region,
        max_batch=settings.group_commit_max_batch,
    )
    log = EventLog(store)
    read = open_read_adapters(settings)
    dead_letters = DeadLetterBook(store)
    sinks: list[ProjectionSink] = [CachingViewSink(read.views, read.cache), read.index]
    runner = ProjectionRunner(log, sinks, dead_letters)
    waiter = ConsistencyWaiter(
        [read.views.checkpoint, read.index.checkpoint],
        timeout=settings.consistency_timeout_seconds,
    )

    async def stream(customer_id: str) -> list[EventEnvelope]:
        try:
            parsed = uuid.UUID(customer_id)
        except ValueError:
            return []
        return await asyncio.to_thread(log.stream, parsed)

    queries = CustomerQueries(read.views, read.index, read.cache, waiter, stream)
    attendees = AttendeeProcessing(commands)
    runtime = Runtime(
        settings=settings,
        store=store,
        commands=commands,
        log=log,
        read=read,
        queries=queries,
        runner=runner,
        dead_letters=dead_letters,
        records=CustomerRecords(queries, read.audit),
        attendees=attendees,
        commerce=CommerceCommands(commands, attendees),
        privacy=PrivacyCommands(commands),
    )
    await _prepare(read)
    if projections:
        runtime._lock_file = _projector_lock(settings)
        if runtime._lock_file is not None:
            commands.committer.on_commit.append(runner.notify)
            await runner.start()
            runtime.runs_projections = True
        else:
            logger.info("another process runs the projections for this data dir")
    return runtime


async def _prepare(read: ReadAdapters) -> None:
    views: Any = await read.views.current()
    if hasattr(views, "ensure_indexes"):
        await views.ensure_indexes()
