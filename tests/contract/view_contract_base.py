"""What the view-store contract modules share: an event builder, a fold, the harness."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from read_side.events import EventEnvelope
from read_side.store import ManagedViewStore
from read_side.views import CustomerDoc, evolve

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
Crash = Callable[[ManagedViewStore, list[EventEnvelope], int], Awaitable[None]]


class Log:
    """Builds EventEnvelopes with increasing positions and per-customer versions."""

    def __init__(self) -> None:
        self.position = 0
        self.versions: dict[tuple[str, str], int] = {}

    def event(self, kind: str, tenant: str, customer: str, **data: Any) -> EventEnvelope:
        self.position += 1
        version = self.versions.get((tenant, customer), 0) + 1
        self.versions[(tenant, customer)] = version
        return EventEnvelope(
            position=self.position,
            event_id=str(uuid.uuid4()),
            type=f"customer.{kind}",
            customer_id=customer,
            version=version,
            occurred_at=T0 + timedelta(seconds=self.position),
            tenant_id=tenant,
            actor="user-1",
            data=data,
        )

    def created(self, tenant: str, customer: str, **profile: Any) -> EventEnvelope:
        profile = {"firstName": "Ada", "email": f"{customer[:8]}@example.com"} | profile
        return self.event("created", tenant, customer, customer_type="new", profile=profile)

    def changed(self, tenant: str, customer: str, **changes: Any) -> EventEnvelope:
        return self.event("profile_changed", tenant, customer, changes=changes)


def fold(events: Iterable[EventEnvelope]) -> dict[tuple[str, str], CustomerDoc]:
    """What `evolve` alone makes of the events, per (tenant, customer)."""
    docs: dict[tuple[str, str], CustomerDoc | None] = {}
    for event in events:
        key = (event.tenant_id, event.customer_id)
        docs[key] = evolve(docs.get(key), event)
    return {key: doc for key, doc in docs.items() if doc is not None}


def new_id() -> str:
    return str(uuid.uuid4())


async def snapshot(store: ManagedViewStore, keys: Sequence[tuple[str, str]]) -> list[Any]:
    return [await store.get(tenant, customer) for tenant, customer in keys]


class ViewStoreHarness:
    """Builds stores of the adapter under test."""

    async def make_store(self, generation: int = 1) -> ManagedViewStore:
        """A store on this test's isolated storage (same storage for every generation)."""
        raise NotImplementedError
