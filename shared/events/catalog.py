"""Every event type, declared once: its payload, stored topic, names and personal fields.

The write side raises payloads (`stored_fields` gives the event attributes), the envelope
names stored topics (`event_name`), `evolve` and history fold decoded payloads (`decode`),
the relay publishes under `published_name`, and the cipher seals `personal_paths`. None of
them keeps a list of events or fields of its own.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final

import msgspec

from shared.events import payloads
from shared.events.payloads import CustomerPayload, Payload

CUSTOMER_TOPIC_PREFIX: Final = "write_side.domain.customer:Customer."
ORDER_RECORD_TOPIC: Final = "write_side.domain.claims:OrderRecord.AttendeesProcessed"
LEDGER_TOPIC_PREFIX: Final = "write_side.domain.loyalty_ledger:LoyaltyLedger."
SEGMENT_TOPIC_PREFIX: Final = "write_side.domain.segment:Segment."
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class UnknownEventType(ValueError):
    """A stored event no payload is declared for: the write side gained or renamed an event
    the catalog was not told about. Folding it as "version only" would hide data silently,
    so whoever meets it stops on it (a projection parks it as a dead letter)."""


@dataclass(frozen=True)
class DeclaredPaths:
    """Dotted paths of a payload's fields: personal, public, and neither (a mistake)."""

    personal: tuple[str, ...]
    public: tuple[str, ...]
    undeclared: tuple[str, ...]


@dataclass(frozen=True)
class EventType:
    """One kind of event: payload class, stored topic and the names it goes by."""

    payload: type[Payload]
    topic: str
    #: The stream's kind: `customer.` or, for a customer's loyalty ledger, `loyalty.`.
    prefix: str = "customer."

    @property
    def class_name(self) -> str:
        """The stored event class's name (`VisitRecorded`, `Opened`)."""
        return self.topic.rsplit(".", 1)[-1]

    @property
    def name(self) -> str:
        """The dotted name envelopes, projections and history use (`customer.visit_recorded`,
        `loyalty.points_earned`)."""
        return self.prefix + _CAMEL.sub("_", self.class_name).lower()

    @property
    def published_name(self) -> str:
        """The routing key and `type` of its integration event on the broker."""
        return self.payload.published_as or self.name

    @property
    def fields(self) -> tuple[str, ...]:
        """Its own stored attributes, in order (without tenant, actor and the library's)."""
        return tuple(field.name for field in msgspec.structs.fields(self.payload))

    @property
    def paths(self) -> DeclaredPaths:
        """Which of its fields are personal and which public (from the payload's markers)."""
        return declared_paths(self.payload)


def _customer_event(payload: type[Payload]) -> EventType:
    return EventType(payload, CUSTOMER_TOPIC_PREFIX + payload.__name__)


#: The Customer aggregate's events: what its streams hold and what `evolve` folds.
CUSTOMER_EVENTS: Final = tuple(_customer_event(p) for p in typing.get_args(CustomerPayload))
#: An order's processing, stored by its order record and published to the broker.
ATTENDEES_PROCESSED: Final = EventType(payloads.AttendeesProcessed, ORDER_RECORD_TOPIC)
#: A customer's loyalty ledger: its own stream, folded into the customer's document.
LEDGER_EVENTS: Final = tuple(
    EventType(p, LEDGER_TOPIC_PREFIX + p.__name__.removeprefix("Ledger"), "loyalty.")
    for p in typing.get_args(payloads.LedgerPayload)
)
#: A segment definition's events (`segment.defined`, ...): folded by the membership projection.
SEGMENT_EVENTS: Final = tuple(
    EventType(p, SEGMENT_TOPIC_PREFIX + p.__name__.removeprefix("Segment"), "segment.")
    for p in typing.get_args(payloads.SegmentPayload)
)
EVENTS: Final = (*CUSTOMER_EVENTS, ATTENDEES_PROCESSED, *LEDGER_EVENTS, *SEGMENT_EVENTS)
_BY_NAME: Final = {event.name: event for event in EVENTS}
_BY_TOPIC: Final = {event.topic: event for event in EVENTS}
_BY_PAYLOAD: Final = {event.payload: event for event in EVENTS}


_OTHER_STREAMS: Final = ((LEDGER_TOPIC_PREFIX, "loyalty."), (SEGMENT_TOPIC_PREFIX, "segment."))


def is_event_topic(topic: str) -> bool:
    """True for a topic the read side receives: any Customer or loyalty ledger event (known or
    not, so that an unknown one is met and refused) and processed orders; other aggregates'
    events are not."""
    return topic.startswith((CUSTOMER_TOPIC_PREFIX, LEDGER_TOPIC_PREFIX)) or (
        topic == ORDER_RECORD_TOPIC
    )


def event_name(topic: str) -> str:
    """`…customer:Customer.ProfileChanged` → `customer.profile_changed`. A Customer topic no
    payload is declared for still gets a name, so `decode` can refuse it by that name."""
    known = _BY_TOPIC.get(topic)
    if known is not None:
        return known.name
    prefix = "customer."
    for stream_prefix, name_prefix in _OTHER_STREAMS:
        if topic.startswith(stream_prefix):
            prefix = name_prefix
    return prefix + _CAMEL.sub("_", topic.rsplit(".", 1)[-1]).lower()


def event_type(name: str) -> EventType:
    """The declared event of a dotted name; `UnknownEventType` when none is."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownEventType(name) from None


def event_type_of(payload: Payload) -> EventType:
    """The declared event a payload belongs to."""
    return _BY_PAYLOAD[type(payload)]


def decode(name: str, data: Mapping[str, object]) -> Payload:
    """The typed payload of stored attributes (extra attributes, such as the envelope's, are
    ignored). `UnknownEventType` for an undeclared name, `msgspec.ValidationError` for a
    payload of the wrong shape."""
    return msgspec.convert(data, event_type(name).payload)


def stored_fields(payload: Payload) -> dict[str, object]:
    """The payload as the event attributes it is stored as (plain JSON values)."""
    fields: dict[str, object] = msgspec.to_builtins(payload)
    return fields


@functools.cache
def declared_paths(struct: type[msgspec.Struct]) -> DeclaredPaths:
    """Walk a payload's fields: a `Personal`/`Public` field is a leaf, an unmarked field
    holding a value object is looked into, any other unmarked field is undeclared."""
    personal: list[str] = []
    public: list[str] = []
    undeclared: list[str] = []

    def walk(struct: type[msgspec.Struct], prefix: str) -> None:
        hints = typing.get_type_hints(struct, include_extras=True)
        for field in msgspec.structs.fields(struct):
            path, hint = prefix + field.encode_name, hints[field.name]
            marker = _marker(hint)
            inner = _value_object(hint)
            if marker is not None:
                (personal if marker else public).append(path)
            elif inner is not None:
                walk(inner, path + ".")
            else:
                undeclared.append(path)

    walk(struct, "")
    return DeclaredPaths(tuple(personal), tuple(public), tuple(undeclared))


def _marker(hint: object) -> bool | None:
    if typing.get_origin(hint) is Annotated:
        for meta in getattr(hint, "__metadata__", ()):
            if isinstance(meta, msgspec.Meta) and meta.extra and "personal" in meta.extra:
                return bool(meta.extra["personal"])
    return None


def _value_object(hint: object) -> type[msgspec.Struct] | None:
    if typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if is_union else (hint,)
    found = [t for t in options if isinstance(t, type) and issubclass(t, msgspec.Struct)]
    return found[0] if len(found) == 1 else None
