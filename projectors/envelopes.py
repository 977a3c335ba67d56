"""Read the event store's global log and turn stored Customer events into `EventEnvelope`s.

This is the one place that knows both the write side's event classes and the read side's
neutral envelope, so neither side imports the other.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from projectors.envelope_mapping import event_id as event_id
from projectors.envelope_mapping import to_envelope as to_envelope
from read_side.events import EventEnvelope
from shared.events.catalog import (
    CUSTOMER_TOPIC_PREFIX,
    LEDGER_TOPIC_PREFIX,
    SEGMENT_TOPIC_PREFIX,
    is_event_topic,
)
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.ports import EventStore
from write_side.domain.loyalty import ledger_id

#: Decoded envelopes kept per batch the log keeps (`keep`): about a batch of every projection.
DECODED_PER_BATCH = 1000
#: an erasure drops the customer's decoded envelopes from the caches (see `_forget_erased`)
ERASED_TYPE = "customer.erased"


@dataclass(frozen=True)
class LogBatch:
    """Envelopes of Customer events from one read of the log, and the last position read."""

    envelopes: list[EventEnvelope]
    last_position: int
    notifications: int = 0


class EventLog:
    """Synchronous reader of the global, ordered notification log (call it off the loop).

    The projections of a process usually read the same batch one after the other, so recent
    non-empty batches are kept and shared: each stored event is decoded and decrypted once
    per process, not once per projection. A kept batch that ended short of `limit` is extended
    with what was stored after it (so a slower projection is not held to a faster one's small
    batches; such a batch may hold up to a few times `limit`). Empty batches are never kept.
    """

    def __init__(self, app: EventStore, *, keep: int = 8) -> None:
        self.app = app
        self._keep = keep
        self._recent: OrderedDict[tuple[int, int, tuple[int, int] | None], LogBatch] = OrderedDict()
        self._lock = threading.Lock()
        self._decoded: dict[int, EventEnvelope] = {}
        self._decoding = threading.Lock()
        self._decoded_cap = keep * DECODED_PER_BATCH

    def head(self) -> int:
        """The position of the newest stored event (0 when empty)."""
        return int(self.app.recorder.max_notification_id() or 0)

    def read(self, after: int, limit: int, *, partition: tuple[int, int] | None = None) -> LogBatch:
        """Up to `limit` notifications after position `after`, Customer events enveloped;
        with `partition=(index, count)` only events of customers with `uuid % count == index`
        are decoded (a rebuild's worker processes)."""
        key = (after, limit, partition)
        with self._lock:
            kept = self._recent.get(key)
        if kept is not None:
            if kept.notifications >= limit:
                return kept  # full: a later read would return the same
            rest = self.read(kept.last_position, limit, partition=partition)
            if not rest.notifications:
                return kept  # nothing stored since
            envelopes = kept.envelopes + rest.envelopes
            count = kept.notifications + rest.notifications
            return LogBatch(envelopes, rest.last_position, count)
        batch = self._read(after, limit, partition)
        erasing = any(e.type == ERASED_TYPE for e in batch.envelopes)  # see `_forget_erased`
        if batch.notifications and self._keep and not erasing:
            with self._lock:
                self._recent[key] = batch
                while len(self._recent) > self._keep:
                    self._recent.popitem(last=False)
        return batch

    def _read(self, after: int, limit: int, partition: tuple[int, int] | None) -> LogBatch:
        notifications = self.app.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        last = notifications[-1].id if notifications else after
        count = len(notifications)
        if partition is not None:
            index, parts = partition
            notifications = [
                n
                for n in notifications
                if n.topic.startswith(LEDGER_TOPIC_PREFIX) or _uuid(n).int % parts == index
            ]
        projected = [n for n in notifications if is_projected(n.topic)]
        envelopes = self._envelopes(projected) if partition is None else self._decode(projected)
        if partition is not None:  # a ledger's events go with its customer's, decoded to know it
            envelopes = [e for e in envelopes if _in_partition(e, index, parts)]
        return LogBatch(envelopes, last, count)

    def _envelopes(self, notifications: list[Notification]) -> list[EventEnvelope]:
        """Decode `notifications`, reusing the envelopes of positions decoded recently.

        Projections at different checkpoints read overlapping batches that the batch cache
        cannot match (their starts differ): during an import every stored event was decrypted
        about twice. Positions are kept in the order decoded, the oldest dropped first."""
        if not self._decoded_cap:
            return self._decode(notifications)
        with self._decoding:  # projections woken together would each decode the same batch
            return self._reuse_or_decode(notifications)

    def _reuse_or_decode(self, notifications: list[Notification]) -> list[EventEnvelope]:
        with self._lock:
            known = {n.id: self._decoded[n.id] for n in notifications if n.id in self._decoded}
        fresh = self._decode([n for n in notifications if n.id not in known])
        decoded = iter(fresh)
        envelopes = [known[n.id] if n.id in known else next(decoded) for n in notifications]
        with self._lock:
            for envelope in fresh:
                self._decoded[envelope.position] = envelope
            excess = len(self._decoded) - self._decoded_cap
            for position in list(itertools.islice(self._decoded, max(excess, 0))):
                del self._decoded[position]
            self._forget_erased(fresh)
        return envelopes

    def _forget_erased(self, fresh: list[EventEnvelope]) -> None:
        """Once an erasure is read, no decrypted envelope of that customer stays in memory:
        its key is shredded, and a cache must not keep what the store no longer can (nor hand
        it to a projection rebuilt later). Kept batches are dropped whole (erasures are rare);
        the caller holds `_lock`."""
        erased = {e.customer_id for e in fresh if e.type == ERASED_TYPE}
        if not erased:
            return
        self._recent.clear()
        for position in [p for p, e in self._decoded.items() if e.customer_id in erased]:
            del self._decoded[position]

    def _decode(self, notifications: list[Notification]) -> list[EventEnvelope]:
        with self.app.keys.batch(keyed_customers(notifications)):  # one query, not one each
            return [self.envelope(n) for n in notifications]

    def stored_at(self, after: int) -> datetime | None:
        """When the first event after position `after` was stored (None: there is none)."""
        found = self.app.recorder.select_notifications(
            start=after, limit=1, inclusive_of_start=False
        )
        if not found:
            return None
        event: Any = self.app.mapper.to_domain_event(found[0])
        moment: datetime = event.timestamp
        return moment

    def envelope(self, notification: Notification) -> EventEnvelope:
        """Decode one stored Customer event."""
        domain_event: Any = self.app.mapper.to_domain_event(notification)
        return to_envelope(domain_event, notification.topic, notification.id)

    def stream(self, customer_id: uuid.UUID) -> list[EventEnvelope]:
        """Every event of one customer, oldest first (for history and asOf), each with the
        hash the tamper-evident log stored for it."""
        stored = self.app.recorder.select_events(customer_id)
        hashes = self.app.audit.hashes(customer_id)
        return [
            replace(
                to_envelope(self.app.mapper.to_domain_event(s), s.topic, 0),
                hash=hashes[s.originator_version].hex() if s.originator_version in hashes else None,
            )
            for s in stored
            if is_customer_event(s.topic)
        ]

    def ledger_stream(self, customer_id: uuid.UUID) -> list[EventEnvelope]:
        """The events of the customer's loyalty ledger, oldest first (export)."""
        stored = self.app.recorder.select_events(ledger_id(customer_id))
        return [to_envelope(self.app.mapper.to_domain_event(s), s.topic, 0) for s in stored]

    def newest(self, customer_id: uuid.UUID, below: int | None, limit: int) -> list[EventEnvelope]:
        """Up to `limit` events of one customer, newest first, with versions below `below`
        (all when None): a timeline page reads the end of the stream, never all of it."""
        lte = None if below is None else below - 1
        if lte is not None and lte < 1:
            return []
        stored = self.app.recorder.select_events(customer_id, lte=lte, desc=True, limit=limit)
        return [
            to_envelope(self.app.mapper.to_domain_event(s), s.topic, 0)
            for s in stored
            if is_customer_event(s.topic)
        ]

    def tenant_of(self, customer_id: uuid.UUID) -> str | None:
        """The tenant a customer belongs to (its first event), None when there is none."""
        first = self.app.recorder.select_events(customer_id, limit=1)
        if not first or not is_customer_event(first[0].topic):
            return None
        return to_envelope(self.app.mapper.to_domain_event(first[0]), first[0].topic, 0).tenant_id


def keyed_customers(notifications: Sequence[Notification]) -> list[uuid.UUID]:
    """The customers whose keys open these notifications' Customer events."""
    return [_uuid(n) for n in notifications if n.topic.startswith(CUSTOMER_TOPIC_PREFIX)]


def _in_partition(envelope: EventEnvelope, index: int, parts: int) -> bool:
    """Ledger events were read by every partition: keep those of this one's customers."""
    if not envelope.type.startswith("loyalty."):
        return True
    return uuid.UUID(envelope.customer_id).int % parts == index


def _uuid(notification: Notification) -> uuid.UUID:
    originator = notification.originator_id
    return originator if isinstance(originator, uuid.UUID) else uuid.UUID(originator)


def open_log(settings: Settings) -> EventLog:
    """A log reader on its own connection to the event store (close with `log.app.close()`)."""
    return EventLog(open_event_store(settings))


def is_customer_event(topic: str) -> bool:
    """True for Customer events, processed orders and the events of customers' loyalty ledgers
    (other claims, records and programs are skipped)."""
    return is_event_topic(topic)


def is_projected(topic: str) -> bool:
    """What the projections read: Customer events (`is_customer_event`) and segment
    definitions (`segment.defined`, `segment.redefined`, `segment.removed`)."""
    return is_customer_event(topic) or topic.startswith(SEGMENT_TOPIC_PREFIX)


def positions(envelopes: Sequence[EventEnvelope]) -> list[int]:
    """The positions of a batch (for logs and tests)."""
    return [e.position for e in envelopes]
