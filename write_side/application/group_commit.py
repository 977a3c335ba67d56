"""Group commit: events of concurrent commands are appended in one event-store transaction.

Writers to the event store are serialised (PostgreSQL table lock, SQLite's single writer), so
one transaction per command caps throughput near the commit latency. A single committer thread
takes every request waiting in its queue and saves them together. A conflict must not cost the
rest of the batch its shared transaction: requests that collide with an earlier request of the
same batch are refused before saving, and when the combined save conflicts with the store the
committer asks the store which aggregates already have the versions the batch wanted (one
query), refuses only those requests (their handlers decide again) and saves the others together
again. Only a conflict it cannot attribute makes it save the batch one request at a time.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Recording

from write_side.application.crypto import KeyShredded
from write_side.application.phone_book import PhoneRows, latest_conflicts, merge_rows
from write_side.application.ports import EventStore

logger = logging.getLogger(__name__)

Events = Sequence[DomainEventProtocol[UUID]]
MAX_REBATCHES = 3


class VersionProbe(Protocol):
    """What the customers' recorders answer: the highest stored version per aggregate."""

    def latest_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]: ...


@dataclass
class PendingSave:
    """One command's events (and phone-book rows) waiting for the committer."""

    events: Events
    phone_rows: PhoneRows = field(default_factory=dict)
    done: Future[int] = field(default_factory=Future)

    def first_versions(self) -> dict[UUID, int]:
        """The first version each aggregate of this request appends."""
        firsts: dict[UUID, int] = {}
        for event in self.events:
            version = firsts.get(event.originator_id)
            if version is None or event.originator_version < version:
                firsts[event.originator_id] = event.originator_version
        return firsts


class GroupCommitter:
    """Saves batches of pending events; `submit` returns a future of the last global position.

    `transactions` counts save attempts, `batches` successful ones (for tests and metrics).
    """

    def __init__(self, app: EventStore, *, max_batch: int = 256) -> None:
        self._app = app
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[list[PendingSave] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.transactions = 0
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

    def submit(self, events: Events, phone_rows: PhoneRows | None = None) -> Future[int]:
        """Queue events for saving; the future resolves to their highest notification id."""
        request = PendingSave(events, phone_rows or {})
        if not events:
            request.done.set_result(0)
            return request.done
        self.start()
        self._queue.put([request])
        return request.done

    def submit_many(self, requests: Sequence[tuple[Events, PhoneRows]]) -> list[Future[int]]:
        """Queue several requests at once: the committer takes them together (one
        transaction, up to `max_batch` requests), each answered on its own future."""
        pending = [PendingSave(events, rows) for events, rows in requests]
        for request in pending:
            if not request.events:
                request.done.set_result(0)
        waiting = [request for request in pending if request.events]
        if waiting:
            self.start()
            self._queue.put(waiting)
        return [request.done for request in pending]

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = list(first)
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch += item
            self.commit(batch)

    def commit(self, batch: list[PendingSave]) -> None:
        """Save a batch: together, minus the requests that conflict; see the module doc.

        Every request of the batch is answered, whatever fails: an error while attributing a
        conflict (the store went away between the save and the query) used to escape, kill
        the committer thread and leave the batch and every later request waiting forever."""
        try:
            self._commit(batch)
        except Exception as error:
            for request in batch:
                if not request.done.done():
                    request.done.set_exception(error)

    def _commit(self, batch: list[PendingSave]) -> None:
        pending = self._refuse_collisions(batch)
        for _ in range(MAX_REBATCHES):
            if len(pending) <= 1:
                break
            try:
                self._resolve(pending, self._save(pending))
                return
            except IntegrityError as error:
                conflicting = self._conflicting(pending, error)
                if not conflicting:
                    logger.debug("unattributed conflict; saving %d one by one", len(pending))
                    break
                for request in conflicting:
                    request.done.set_exception(error)
                pending = [request for request in pending if request not in conflicting]
            except Exception as error:
                for request in pending:
                    request.done.set_exception(error)
                return
        for request in pending:
            try:
                self._resolve([request], self._save([request]))
            except Exception as error:
                request.done.set_exception(error)

    def _save(self, requests: list[PendingSave]) -> list[Recording[UUID]]:
        self.transactions += 1
        events = [event for request in requests for event in request.events]
        rows = merge_rows(request.phone_rows for request in requests)
        return self._app.save(*events, phone_rows=rows)

    def _refuse_collisions(self, batch: list[PendingSave]) -> list[PendingSave]:
        """Refuse a request appending a version an earlier request of the batch appends."""
        taken: set[tuple[UUID, int]] = set()
        kept = []
        for request in batch:
            versions = {(e.originator_id, e.originator_version) for e in request.events}
            if versions & taken:
                request.done.set_exception(
                    IntegrityError("another command of the batch changes the same aggregate")
                )
                continue
            taken |= versions
            kept.append(request)
        return kept

    def _conflicting(self, pending: list[PendingSave], error: IntegrityError) -> list[PendingSave]:
        """The requests that caused `error`: a shredded key, or versions the store holds."""
        if isinstance(error, KeyShredded):
            shredded = str(error)
            return [r for r in pending if any(str(e.originator_id) == shredded for e in r.events)]
        recorder = self._app.recorder
        if not hasattr(recorder, "latest_versions"):
            return []
        probe: VersionProbe = recorder
        wanted = [request.first_versions() for request in pending]
        stored = probe.latest_versions([oid for firsts in wanted for oid in firsts])
        return [
            request
            for request, firsts in zip(pending, wanted, strict=True)
            if latest_conflicts(firsts, stored)
        ]

    def _resolve(self, batch: list[PendingSave], recordings: list[Recording[UUID]]) -> None:
        self.batches += 1
        self.events_appended += len(recordings)
        positions = {id(r.domain_event): r.notification.id for r in recordings}
        for listener in self.on_commit:
            listener()
        for request in batch:
            request.done.set_result(max(positions[id(e)] for e in request.events))
