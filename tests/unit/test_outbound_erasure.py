"""The `customer.erased` message never carries the erasure's reason: the relay may read the
event between its commit and the shredding of the key (the reason is still readable then), and
a published message outlives the erasure in every subscriber's queue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.events.values import ERASED
from shared.integration import to_integration_event


@dataclass(frozen=True)
class Envelope:
    type: str
    data: dict[str, Any]
    event_id: str = "e-1"
    customer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: int = 3
    occurred_at: datetime = datetime(2026, 12, 2, tzinfo=UTC)
    tenant_id: str = "acme"


def test_the_erasure_message_never_carries_the_reason_in_clear() -> None:
    read_before_the_shredding = {"tenant_id": "acme", "actor": "a", "reason": "Zeb phoned us"}
    message = to_integration_event(Envelope("customer.erased", read_before_the_shredding))
    assert message.data["reason"] == ERASED
    assert "Zeb" not in repr(message)


def test_an_erasure_without_a_reason_stays_without_one() -> None:
    message = to_integration_event(Envelope("customer.erased", {"actor": "a", "reason": None}))
    assert message.data["reason"] is None


def test_other_reasons_are_published_as_read() -> None:
    deleted = {"tenant_id": "acme", "actor": "a", "reason": "duplicate"}
    assert to_integration_event(Envelope("customer.deleted", deleted)).data["reason"] == "duplicate"
