"""The neutral shape in which stored Customer events reach the read side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.events.catalog import decode
from shared.events.payloads import Payload
from shared.json_types import JSONObject


@dataclass(frozen=True)
class EventEnvelope:
    """One stored event, as projections see it.

    `type` is the dotted event name (`customer.created`, `customer.profile_changed`, ...: one
    per payload of `shared.events`); `data` holds the event's own attributes as stored (for
    example `{"changes": {...}}`), never tenant or actor, and `payload` the same typed.
    `hash` is the tamper-evident log's hash of the stored event (hex; set on a customer's
    stream, None elsewhere).
    """

    position: int
    event_id: str
    type: str
    customer_id: str
    version: int
    occurred_at: datetime
    tenant_id: str
    actor: str | None = None
    data: JSONObject = field(default_factory=dict)
    hash: str | None = None

    @property
    def payload(self) -> Payload:
        """The typed payload (decoded once per envelope: several projections fold the same
        envelope). Raises `UnknownEventType` for a type `shared.events` does not declare,
        `msgspec.ValidationError` for a wrong shape."""
        decoded: Payload | None = self.__dict__.get("_payload")
        if decoded is None:
            decoded = decode(self.type, self.data)
            object.__setattr__(self, "_payload", decoded)  # a cache, not state: frozen stays
        return decoded
