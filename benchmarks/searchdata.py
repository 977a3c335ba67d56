"""A tenant of realistic customers as batches of `EventEnvelope`s, built directly (no event
store): creations spread over two years, then profile changes, type changes and deletions of
earlier customers mixed in, in log order with consecutive positions."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import people
from read_side.events import EventEnvelope

SPAN = timedelta(days=730)
MakeEnvelope = Callable[[int, str, datetime, dict[str, Any]], EventEnvelope]


@dataclass
class Tenant:
    """What was generated, for building queries that hit real data."""

    tenant_id: str
    customers: int = 0
    events: int = 0
    deleted: int = 0
    phones: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC) - SPAN)


def batches(
    tenant: Tenant, customers: int, rng: random.Random, *, batch: int = 2000
) -> Iterator[list[EventEnvelope]]:
    """Envelopes for `customers` customers (plus ~15% updates and ~4% deletions), `batch` a
    list. `tenant` is filled in as they are generated."""
    start = tenant.started
    step = SPAN / max(1, customers)
    profiles: list[dict[str, Any]] = []
    versions: list[int] = []
    alive: list[bool] = []
    ids: list[str] = []
    pending: list[EventEnvelope] = []
    position = 0

    def envelope(index: int, kind: str, at: datetime, data: dict[str, Any]) -> EventEnvelope:
        nonlocal position
        position += 1
        versions[index] += 1
        return EventEnvelope(
            position=position,
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            type=kind,
            customer_id=ids[index],
            version=versions[index],
            occurred_at=at,
            tenant_id=tenant.tenant_id,
            actor="bench",
            data=data,
        )

    for number in range(customers):
        at = start + step * number
        kind = people.customer_type(rng)
        profile = people.profile(rng, number, kind)
        ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        profiles.append(profile)
        versions.append(0)
        alive.append(True)
        if profile["phone"] and len(tenant.phones) < 5000:
            tenant.phones.append(profile["phone"])
        data = {"customer_type": kind, "profile": profile}
        pending.append(envelope(number, "customer.created", at, data))
        if number > 100 and rng.random() < 0.19:
            pending.append(_later_change(rng, number, at, profiles, alive, envelope, tenant))
        if len(pending) >= batch:
            yield pending
            pending = []
    tenant.customers, tenant.events = customers, position
    if pending:
        yield pending


def _later_change(
    rng: random.Random,
    number: int,
    at: datetime,
    profiles: list[dict[str, Any]],
    alive: list[bool],
    envelope: MakeEnvelope,
    tenant: Tenant,
) -> EventEnvelope:
    """A change to an earlier customer: 4 in 19 a deletion, else a profile change."""
    index = rng.randrange(number)
    while not alive[index]:
        index = rng.randrange(number)
    if rng.random() < 4 / 19:
        alive[index] = False
        tenant.deleted += 1
        return envelope(index, "customer.deleted", at, {"reason": "benchmark"})
    changes = people.change(rng, number, profiles[index])
    profiles[index] = profiles[index] | changes
    return envelope(index, "customer.profile_changed", at, {"changes": changes})
