"""The neutral shape in which stored Customer events reach the read side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.json_types import JSONObject


@dataclass(frozen=True)
class EventEnvelope:
    """One stored event, as projections see it.

    `type` is the dotted event name (`customer.created`, `customer.profile_changed`,
    `customer.type_changed`, `customer.deleted`, `customer.restored`, ...); `data` holds the
    event's own attributes (for example `{"changes": {...}}`), never tenant or actor.
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
