"""Envelopes for contract tests: increasing positions and per-customer versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from read_side.events import EventEnvelope

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class EventBuilder:
    """Builds EventEnvelopes in log order; events without a time are one second apart."""

    def __init__(self) -> None:
        self.position = 0
        self.versions: dict[tuple[str, str], int] = {}

    def event(
        self, kind: str, tenant: str, customer: str, at: datetime | None = None, **data: Any
    ) -> EventEnvelope:
        self.position += 1
        version = self.versions.get((tenant, customer), 0) + 1
        self.versions[(tenant, customer)] = version
        return EventEnvelope(
            position=self.position,
            event_id=str(uuid.uuid4()),
            type=f"customer.{kind}",
            customer_id=customer,
            version=version,
            occurred_at=at or T0 + timedelta(seconds=self.position),
            tenant_id=tenant,
            actor="user-1",
            data=data,
        )

    def visit(self, tenant: str, customer: str, order_id: str, placed_at: str) -> EventEnvelope:
        """A visit as the aggregate records it (the snapshot left out)."""
        return self.event(
            "visit_recorded",
            tenant,
            customer,
            order_id=order_id,
            placed_at=placed_at,
            first_time=True,
            snapshot=None,
        )
