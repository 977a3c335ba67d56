"""Every integration message that crosses RabbitMQ, in one place (see docs/asyncapi.yaml).

Outbound: `CustomerIntegrationEvent`, published to `customers.events` with the routing key
`integration_event_name(type)`. Its `type` is that public name too; consumers should ignore
fields they do not know, since new ones may be added. Every key is camelCase and every event
type has one `data` shape (`outbound_data`), stamped `schemaVersion: 2`; version 1 (no such
field) had snake_case `data` keys and two shapes of `customer.updated` (docs/decisions.md).

Inbound (`orders.events`, `payments.events`): unknown fields are ALLOWED (producers add fields
without asking), but every documented field is checked: required ones must be present with the
right JSON type, ids non-empty, times RFC 3339 with an offset, `currency` an active ISO 4217
code in capitals (`shared.currencies`), `amount` a non-negative integer of minor units
(refunds carry the refunded amount; the routing key says what happened). A body that fails
raises `msgspec.ValidationError` (or `msgspec.DecodeError` for non-JSON), which the consumer
dead-letters with the reason.

This module imports nothing above `shared`: envelopes are read through the `Enveloped` protocol,
and the events' names and payloads come from `shared.events`.
"""

from __future__ import annotations

import base64
import enum
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

import msgspec

from shared.clock import iso_utc
from shared.currencies import is_invoice_currency
from shared.engagement import NOTIFICATION_STATUSES
from shared.events import payloads as ev
from shared.events.catalog import decode, event_type, stored_fields
from shared.events.values import ERASED  # `Erased` in docs/asyncapi.yaml
from shared.json_types import JSONObject

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
MinorUnits = Annotated[int, msgspec.Meta(ge=0)]

#: The shape of outbound messages (`schemaVersion`); v1 messages carried no such field.
SCHEMA_VERSION = 2


class _Message(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base: immutable, keyword-only, camelCase on the wire, unknown fields ignored."""


# ------------------------------------------------------------------------------- outbound
class CustomerIntegrationEvent(_Message, frozen=True):
    """One stored Customer event as published on `customers.events` (`message_id` = eventId)."""

    event_id: str
    type: str
    occurred_at: str
    tenant_id: str
    customer_id: str
    version: int
    data: JSONObject = msgspec.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION


class Enveloped(Protocol):
    """What `to_integration_event` reads (`read_side.events.EventEnvelope` fits)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def data(self) -> JSONObject: ...


def is_published(envelope_type: str) -> bool:
    """True for the envelopes published on `customers.events`: the customer's own events (and
    processed orders). A loyalty ledger's entries (`loyalty.*`) stay inside; the tier they
    lead to is the customer's `customer.tier_changed`."""
    return envelope_type.startswith("customer.") and envelope_type != "customer."


def integration_event_name(envelope_type: str) -> str:
    """The public routing key of an internal envelope type (`customer.profile_changed` →
    `customer.updated`, as its payload declares). Raises ValueError (`UnknownEventType`) for
    anything `shared.events` does not declare."""
    return event_type(envelope_type).published_name


def to_integration_event(envelope: Enveloped) -> CustomerIntegrationEvent:
    """The outbound message for one envelope; `data` is made JSON-safe (see `json_safe`)."""
    return CustomerIntegrationEvent(
        event_id=envelope.event_id,
        type=integration_event_name(envelope.type),
        occurred_at=_iso(envelope.occurred_at),
        tenant_id=envelope.tenant_id,
        customer_id=envelope.customer_id,
        version=envelope.version,
        data=json_safe(outbound_data(decode(envelope.type, envelope.data))),
    )


def outbound_data(payload: ev.Payload) -> JSONObject:
    """The version-2 `data` of an event: its payload with the stored attribute names in
    camelCase (nested objects already are), and one shape for `customer.updated` whichever
    internal event it comes from: `changes` (field → new value, the type as `customerType`)
    and `previous` (the old values the event records: only `customerType`; old profile
    values are personal data the stored event does not hold)."""
    match payload:
        case ev.TypeChanged(previous=previous, to=to):
            return {
                "changes": {"customerType": to.value},
                "previous": {"customerType": previous.value},
            }
        case ev.ProfileChanged(changes=changes):
            return {"changes": stored_fields_of(changes), "previous": {}}
        case ev.MergeAbsorbed(customer_id=source_id, target_id=target_id):
            # One shape for both customers' messages; what moved stays inside (the target's
            # own `GET` tells its new values, and the source's data is not broadcast again).
            return {"sourceId": source_id, "targetId": target_id}
        case ev.Merged() | ev.Unmerged() | ev.MergeUndone():
            return {"sourceId": payload.source_id, "targetId": payload.target_id}
        case ev.Erased(reason=reason) if reason is not None:
            # The erasure's reason is sealed under the key it shreds a moment later: a relay
            # that reads the event in between must not publish it, or it would outlive the
            # erasure in every subscriber's queue (the message tells them to drop their copies).
            payload = msgspec.structs.replace(payload, reason=ERASED)
    return {_camel(key): value for key, value in stored_fields(payload).items()}


def stored_fields_of(value: msgspec.Struct) -> JSONObject:
    """A value object as the JSON object it is stored as."""
    fields: JSONObject = msgspec.to_builtins(value)
    return fields


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def encode(message: msgspec.Struct) -> bytes:
    """The JSON body of any message of this module."""
    return msgspec.json.encode(message)


def json_safe(value: Any) -> Any:
    """Plain JSON values: datetimes → ISO-8601 UTC strings (as the API writes them), dates →
    `YYYY-MM-DD`, UUIDs, decimals and enums → strings, tuples and sets → lists, bytes → base64.
    Raises TypeError for anything else, so that no value is silently mangled."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot publish a value of type {type(value).__name__}")


def _iso(moment: datetime) -> str:
    return iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# -------------------------------------------------------------------------------- inbound
class Attendee(_Message, frozen=True):
    """One attendee of an order (the same shape as `POST /customers/attendees`)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_region: str | None = None


class OrderPlaced(_Message, frozen=True):
    """`order.placed`."""

    order_id: NonEmpty
    tenant_id: NonEmpty
    placed_at: Timestamp
    attendees: Annotated[tuple[Attendee, ...], msgspec.Meta(max_length=1000)]


class OrderClosed(_Message, frozen=True):
    """`order.completed` and `order.cancelled`."""

    order_id: NonEmpty
    tenant_id: NonEmpty


class Payer(_Message, frozen=True):
    """Who paid, when the payment does not name a customer."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


class PaymentEvent(_Message, frozen=True):
    """`payment.pending`, `payment.succeeded`, `payment.failed` and `payment.refunded`.

    It must name the customer (`customerId`) or describe the `payer`, or both."""

    payment_id: NonEmpty
    tenant_id: NonEmpty
    amount: MinorUnits
    currency: Currency
    at: Timestamp
    order_id: NonEmpty | None = None
    customer_id: NonEmpty | None = None
    payer: Payer | None = None
    method: str | None = None

    def __post_init__(self) -> None:
        if self.customer_id is None and self.payer is None:
            raise ValueError("a payment needs `customerId` or `payer`")
        if not is_invoice_currency(self.currency):
            # Three capitals are not enough: a payment in a code no invoice request could name
            # would wait uninvoiced for good (shared/currencies.py says which codes count).
            raise ValueError("`currency` is not an active ISO 4217 currency code")


class NotificationEvent(_Message, frozen=True):
    """`notification.sent`, `.delivered`, `.opened`, `.bounced`, `.failed`: recorded once per
    (notificationId, status) as a communication of the customer."""

    notification_id: NonEmpty
    tenant_id: NonEmpty
    customer_id: uuid.UUID
    channel: Literal["email", "sms", "push"]
    at: Timestamp
    purpose: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    template: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    bounce_type: Literal["hard", "soft"] | None = None


InboundMessage = OrderPlaced | OrderClosed | PaymentEvent | NotificationEvent
INBOUND_TYPES: dict[str, type[InboundMessage]] = {
    "order.placed": OrderPlaced,
    "order.completed": OrderClosed,
    "order.cancelled": OrderClosed,
    "payment.pending": PaymentEvent,
    "payment.succeeded": PaymentEvent,
    "payment.failed": PaymentEvent,
    "payment.refunded": PaymentEvent,
    **{f"notification.{status}": NotificationEvent for status in NOTIFICATION_STATUSES},
}


class UnknownMessageType(ValueError):
    """An inbound routing key that this service does not handle."""


def decode_inbound(routing_key: str, body: bytes) -> InboundMessage:
    """Decode and validate an inbound body by its routing key.

    Raises UnknownMessageType, `msgspec.DecodeError` (not JSON) or `msgspec.ValidationError`
    (wrong shape; the message says which field), all subclasses of ValueError."""
    kind = INBOUND_TYPES.get(routing_key)
    if kind is None:
        raise UnknownMessageType(f"unknown routing key {routing_key!r}")
    return msgspec.json.decode(body, type=kind)
