"""Stored events as the read side's neutral `EventEnvelope`s (split from `envelopes`)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from read_side.events import EventEnvelope
from shared.events.catalog import (
    ATTENDEES_PROCESSED,
    LEDGER_TOPIC_PREFIX,
    ORDER_RECORD_TOPIC,
    SEGMENT_EVENTS,
    SEGMENT_TOPIC_PREFIX,
    event_name,
)

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
