"""What the view-store contract modules share: an event builder, a fold, the harness."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from read_side.events import EventEnvelope
from read_side.store import ManagedViewStore
from read_side.views import CustomerDoc, evolve
from tests.contract.event_builder import EventBuilder

Crash = Callable[[ManagedViewStore, list[EventEnvelope], int], Awaitable[None]]


class Log(EventBuilder):
    """Builds EventEnvelopes with increasing positions and per-customer versions."""

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
