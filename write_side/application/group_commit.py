"""Group commit: events of concurrent commands are appended in one event-store transaction.

Writers to the event store are serialised (PostgreSQL table lock, SQLite's single writer), so
one transaction per command caps throughput near the commit latency. A single committer thread
takes every request waiting in its queue and saves them together. When that combined save
conflicts, it falls back to saving each request on its own, so only the conflicting command
sees the conflict (and is retried by its handler).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Recording

from write_side.application.event_store import CustomersApplication

logger = logging.getLogger(__name__)

Events = Sequence[DomainEventProtocol[UUID]]


@dataclass
class _Request:
    events: Events
    done: Future[int] = field(default_factory=Future)


class GroupCommitter:
    """Saves batches of pending events; `submit` returns a future of the last global position."""

    def __init__(self, app: CustomersApplication, *, max_batch: int = 256) -> None:
        self._app = app
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.events_appended = 0
        self.on_commit: list[Callable[[], None]] = []

    def start(self) -> None:
        """Start the committer thread (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Finish queued requests, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def submit(self, events: Events) -> Future[int]:
        """Queue events for saving; the future resolves to their highest notification id."""
        request = _Request(events)
        if not events:
            request.done.set_result(0)
            return request.done
        self.start()
        self._queue.put(request)
        return request.done

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Request]) -> None:
        if len(batch) > 1:
            try:
                recordings = self._app.save(*[e for request in batch for e in request.events])
            except IntegrityError:
                logger.debug("group commit conflicted; saving %d requests one by one", len(batch))
            except Exception as error:
                for request in batch:
                    request.done.set_exception(error)
                return
            else:
                self._resolve(batch, recordings)
                return
        for request in batch:
            try:
                recordings = self._app.save(*request.events)
            except Exception as error:
                request.done.set_exception(error)
            else:
                self._resolve([request], recordings)

    def _resolve(self, batch: list[_Request], recordings: list[Recording[UUID]]) -> None:
        self.batches += 1
        self.events_appended += len(recordings)
        positions = {id(r.domain_event): r.notification.id for r in recordings}
        for listener in self.on_commit:
            listener()
        for request in batch:
            request.done.set_result(max(positions[id(e)] for e in request.events))
