"""Read the event store's global log and turn stored Customer events into `EventEnvelope`s.

This is the one place that knows both the write side's event classes and the read side's
neutral envelope, so neither side imports the other.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from read_side.events import EventEnvelope
from shared.events.catalog import (
    ATTENDEES_PROCESSED,
    CUSTOMER_TOPIC_PREFIX,
    LEDGER_TOPIC_PREFIX,
    ORDER_RECORD_TOPIC,
    SEGMENT_EVENTS,
    SEGMENT_TOPIC_PREFIX,
    event_name,
    is_event_topic,
)
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.ports import EventStore
from write_side.domain.loyalty import ledger_id

_EVENT_ID_NAMESPACE = uuid.UUID("0b9f6f4e-3f57-4c39-9d0a-6d2f0a8e7b21")
_NAMESPACE_BYTES = _EVENT_ID_NAMESPACE.bytes
_ENVELOPE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}
_ORDER_FIELDS = ATTENDEES_PROCESSED.fields
_SEGMENT_FIELDS = {event.topic: event.fields for event in SEGMENT_EVENTS}


def event_id(customer_id: uuid.UUID | str, version: int) -> str:
    """A stable id per stored event (the integration events' `eventId` / `message_id`):
    `uuid5(namespace, "{customer_id}:{version}")`, formatted without building UUID objects
    (this runs once per event read, on every projection and rebuild)."""
    name = _NAMESPACE_BYTES + f"{customer_id}:{version}".encode()
    digest = bytearray(hashlib.sha1(name, usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest[:16].hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


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
        if batch.notifications and self._keep:
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
        with self.app.keys.batch(keyed_customers(notifications)):  # one query, not one each
            envelopes = [self.envelope(n) for n in notifications if is_projected(n.topic)]
        if partition is not None:  # a ledger's events go with its customer's, decoded to know it
            envelopes = [e for e in envelopes if _in_partition(e, index, parts)]
        return LogBatch(envelopes, last, count)

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


def to_envelope(domain_event: Any, topic: str, position: int) -> EventEnvelope:
    """Neutral envelope of a decoded domain event.

    A processed order (`customer.attendees_processed`) is named after its first attendee's
    customer with version 0, so read models ignore it and the broker relay publishes it.
    """
    attributes = dict(domain_event.__dict__)
    if topic.startswith(LEDGER_TOPIC_PREFIX):
        return _ledger_envelope(domain_event, topic, position)
    if topic.startswith(SEGMENT_TOPIC_PREFIX):  # named after the segment; its tenant only
        return EventEnvelope(
            position=position, event_id=event_id(domain_event.originator_id,
            domain_event.originator_version), type=event_name(topic),
            customer_id=str(domain_event.originator_id),
            version=int(domain_event.originator_version), occurred_at=domain_event.timestamp,
            tenant_id=str(attributes.get("tenant_id", "")), actor=attributes.get("actor"),
            data={key: attributes.get(key) for key in _SEGMENT_FIELDS.get(topic, ())},
        )  # fmt: skip
    if topic == ORDER_RECORD_TOPIC:
        results = attributes.get("results") or [{}]
        return EventEnvelope(
            position=position,
            event_id=event_id(domain_event.originator_id, domain_event.originator_version),
            type=ATTENDEES_PROCESSED.name,
            customer_id=str(results[0].get("customerId", "")),
            version=0,
            occurred_at=domain_event.timestamp,
            tenant_id=str(attributes.get("tenant_id", "")),
            actor=attributes.get("actor"),
            data={k: attributes.get(k) for k in _ORDER_FIELDS},
        )
    data = {
        key: value
        for key, value in attributes.items()
        if key not in _ENVELOPE_FIELDS and key not in ("tenant_id", "actor")
    }
    return EventEnvelope(
        position=position,
        event_id=event_id(domain_event.originator_id, domain_event.originator_version),
        type=event_name(topic),
        customer_id=str(domain_event.originator_id),
        version=int(domain_event.originator_version),
        occurred_at=domain_event.timestamp,
        tenant_id=str(attributes.get("tenant_id", "")),
        actor=attributes.get("actor"),
        data=data,
    )


def _ledger_envelope(domain_event: Any, topic: str, position: int) -> EventEnvelope:
    """A ledger event, named after its customer (`loyalty.points_earned`, ...) with the
    ledger's own version, which read models guard by separately from the customer's."""
    attributes = dict(domain_event.__dict__)
    hidden = _ENVELOPE_FIELDS | {"tenant_id", "actor"}
    return EventEnvelope(
        position=position,
        event_id=event_id(domain_event.originator_id, domain_event.originator_version),
        type=event_name(topic),
        customer_id=str(attributes["customer_id"]),
        version=int(domain_event.originator_version),
        occurred_at=domain_event.timestamp,
        tenant_id=str(attributes.get("tenant_id", "")),
        actor=attributes.get("actor"),
        data={key: value for key, value in attributes.items() if key not in hidden},
    )


def positions(envelopes: Sequence[EventEnvelope]) -> list[int]:
    """The positions of a batch (for logs and tests)."""
    return [e.position for e in envelopes]
