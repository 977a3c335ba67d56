"""The projection runner: one catch-up loop per projection over the global, ordered log.

Each loop reads a batch after the projection's checkpoint, hands it to the sink (which writes
idempotently and then stores the checkpoint), and waits for a wake-up signal (in-process
commits) or a short poll (other processes). A batch that keeps failing is retried with
backoff, then applied event by event so that exactly the failing event is parked as a dead
letter; that projection then stops and reports it. Nothing is skipped silently. A stopped
projection looks at its dead letters every `parked_poll` seconds and resumes by itself from its
checkpoint once they are cleared (`customers projections retry NAME`, from any process).

`projectors.leased_runner.LeasedRunner` runs each loop only while holding its projection's
lease (processes sharing PostgreSQL); this one runs every projection it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from projectors.dead_letters import DeadLetter, DeadLetterBook
from projectors.envelopes import EventLog, LogBatch
from projectors.leases import LeaseLost
from projectors.pacing import Pacer
from projectors.status import ProjectionStatus
from projectors.transient import is_transient
from read_side.events import EventEnvelope
from read_side.generations import GenerationChanged
from read_side.ports import ProjectionSink
from shared.fencing import Fenced
from shared.heap import release_free_memory

logger = logging.getLogger(__name__)


class ProjectionRunner:
    """Runs every projection until `stop()`; `notify()` is safe to call from any thread."""

    def __init__(
        self,
        log: EventLog,
        sinks: Sequence[ProjectionSink],
        dead_letters: DeadLetterBook,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.25,
        max_retries: int = 4,
        backoff: float = 0.05,
        parked_poll: float = 2.0,
        pacer: Pacer | None = None,
    ) -> None:
        self.log = log
        self.sinks = {sink.name: sink for sink in sinks}
        self.dead_letters = dead_letters
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.backoff = backoff
        self.parked_poll = parked_poll
        self.pacer = pacer or Pacer()  # default: no turns, no deferral
        self.status = {name: ProjectionStatus(name) for name in self.sinks}
        self._wake: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._running = False
        self._stopped = asyncio.Event()
        self.head = 0
        self._holds = 0  # bulk work (an import) running in this process: projections wait
        self._wanted_until = 0.0  # a reader here waits for a position: the hold is lifted

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the projections idle while the block runs (on the event loop): an import's
        rows are then written without sharing this process's CPU and GIL with projecting
        them (py-spy: half of it), and the projections catch up after, in large batches.
        A reader of this process waiting on a consistency token lifts the hold (`wanted`)."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if not self._holds:
                self.notify()

    def wanted(self, seconds: float = 5.0) -> None:
        """A reader waits for the projections: project for the next `seconds` despite holds
        and bursts (`projectors.pacing`)."""
        self._wanted_until = time.monotonic() + seconds
        self.pacer.hurry(seconds)
        self.notify()

    def _holding(self) -> bool:
        return bool(self._holds) and time.monotonic() >= self._wanted_until

    def notify(self) -> None:
        """Wake every projection (called after a commit, possibly from another thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for event in list(self._wake.values()):  # a copy: `add` may grow it meanwhile
            loop.call_soon_threadsafe(event.set)

    async def start(self) -> None:
        """Start one task per projection."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._running = True
        for sink in self.sinks.values():
            self._start(sink)

    def add(self, sink: ProjectionSink) -> None:
        """Run one more projection (a plug-in whose backfill just finished); started at once
        when the runner runs, else with the others on `start()`."""
        if sink.name in self.sinks:
            raise ValueError(f"projection {sink.name!r} already runs")
        self.sinks[sink.name] = sink
        self.status[sink.name] = ProjectionStatus(sink.name)
        if self._running:
            self._start(sink)

    def _start(self, sink: ProjectionSink) -> None:
        self._wake[sink.name] = asyncio.Event()
        task = asyncio.create_task(self._follow(sink), name=f"projection:{sink.name}")
        self._tasks.append(task)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Let in-flight batches finish (up to `grace_seconds`), then cancel what remains.

        A batch cut short is re-applied harmlessly on the next start (idempotent sinks).
        """
        self._stopping = True
        self._running = False
        self._stopped.set()
        self.notify()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            _, stuck = await asyncio.wait(pending, timeout=2.0)
            if stuck:
                logger.warning("%d projection task(s) did not stop in time", len(stuck))

    async def catch_up(self) -> None:
        """Apply everything up to the current head, once (used by tests and rebuilds)."""
        for sink in self.sinks.values():
            while True:
                try:
                    await self._drain(sink)
                    break
                except GenerationChanged:
                    continue

    async def _follow(self, sink: ProjectionSink) -> None:
        status = self.status[sink.name]
        letters = await asyncio.to_thread(self.dead_letters.parked, sink.name)
        if letters:
            status.stop(letters)
        wake = self._wake[sink.name]
        while not self._stopping:
            if status.state == "stopped":
                await self._until_cleared(sink)
                continue
            await self._guard(sink)  # idle too: a lost lease is noticed at once
            wake.clear()  # before reading the log, so a commit during the drain is not lost
            if self._holding():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll_interval)
                continue
            try:
                progressed = await self._drain(sink, yielding=True)
            except (LeaseLost, Fenced):
                raise
            except _Parked:
                continue
            except GenerationChanged:
                continue  # a rebuild switched generations: resume from the new checkpoint
            except Exception as error:
                status.last_error = f"{type(error).__name__}: {error}"
                logger.warning("projection %s cannot progress: %s", sink.name, error)
                progressed = False
            if not progressed and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll_interval)

    async def _until_cleared(self, sink: ProjectionSink) -> None:
        """Wait while the projection has dead letters; resume once an operator cleared them.
        Polled rather than woken by commits: the book is read at most every `parked_poll` s."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout=self.parked_poll)
        if self._stopping:
            return
        try:
            letters = await asyncio.to_thread(self.dead_letters.parked, sink.name)
        except Exception as error:  # the event store is down: look again later
            logger.warning("cannot read the dead letters of %s: %s", sink.name, error)
            return
        if not letters:
            self.status[sink.name].resume()
            logger.info("projection %s resumes: its dead letters were cleared", sink.name)

    async def _drain(self, sink: ProjectionSink, *, yielding: bool = False) -> bool:
        """Apply batches until the head (`yielding`: or until a hold starts); True when
        anything was applied."""
        status = self.status[sink.name]
        position = await sink.checkpoint()
        status.position = position
        progressed = False
        while True:
            await self.pacer.settle(lambda: self._stopping)  # requests first during a burst
            async with self.pacer.turn():  # one projection at a time (see `projectors.pacing`)
                batch = await asyncio.to_thread(self.log.read, position, self.batch_size)
                self.head = max(self.head, batch.last_position)
                caught_up = batch.last_position == position
                skipped = caught_up or self._stopping or (yielding and self._holding())
                if not skipped:
                    await self._guard(sink)  # never write on a lease this process may have lost
                    await self._apply(sink, batch)
            if caught_up:
                status.caught_up(self.head)
                if progressed:  # a burst of batches is over: give its freed heap back
                    await asyncio.to_thread(release_free_memory)
            if skipped:
                return progressed
            position = batch.last_position
            status.applied(batch, self.head)
            progressed = True

    async def _guard(self, sink: ProjectionSink) -> None:
        """Raise `LeaseLost` when this process may no longer write `sink` (no lease here)."""

    async def _apply(self, sink: ProjectionSink, batch: LogBatch) -> None:
        """Apply a batch; on repeated failure find the failing event and park it.

        Unavailable dependencies (connection, timeout, lock errors) are never parked: the
        error goes up to `_follow`, which waits and retries from the checkpoint.
        """
        for attempt in range(self.max_retries):
            try:
                await sink.apply(batch.envelopes, batch.last_position)
                return
            except (GenerationChanged, Fenced):
                raise
            except Exception as error:
                self.status[sink.name].last_error = f"{type(error).__name__}: {error}"
                if is_transient(error) and attempt == self.max_retries - 1:
                    raise
                await asyncio.sleep(self.backoff * 2**attempt)
        for envelope in batch.envelopes:
            try:
                await sink.apply([envelope], envelope.position)
            except (GenerationChanged, Fenced):
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                await self._park(sink, envelope, error)
                raise _Parked from error
        await sink.apply([], batch.last_position)

    async def _park(self, sink: ProjectionSink, envelope: EventEnvelope, error: Exception) -> None:
        letter = DeadLetter(
            projection=sink.name,
            position=envelope.position,
            event_id=envelope.event_id,
            event_type=envelope.type,
            customer_id=envelope.customer_id,
            error=f"{type(error).__name__}: {error}"[:500],
            at=datetime.now(tz=UTC).isoformat(),
        )
        await asyncio.to_thread(self.dead_letters.park, letter)
        self.status[sink.name].stop([letter])
        logger.error("projection %s parked event %s", sink.name, envelope.event_id)

    def positions(self) -> dict[str, int]:
        """Checkpoint of every projection as last seen by this runner."""
        return {name: status.position for name, status in self.status.items()}

    def lag_seconds(self) -> float:
        """The worst lag in seconds across projections."""
        return max((s.lag_seconds(time.time()) for s in self.status.values()), default=0.0)


class _Parked(Exception):
    """A projection stopped on a dead letter."""
