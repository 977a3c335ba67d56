"""A new customer's events, built without the aggregate (a bulk import creates thousands).

`Customer.register` and `EmailClaim(...)` go through the library's aggregate machinery: the
metaclass call, keyword filtering, the event's `mutate` building an aggregate only to have its
pending event collected. For a bulk import that was a third of deciding a row (py-spy,
docs/benchmarks.md). These functions build the very same event objects directly: the same
classes (so the same stored topics), the same attributes, the same checks on the profile
(`registered_profile`). `tests/unit/test_registration.py` compares both ways.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from write_side.domain.claims import EmailClaim, ExternalIdClaim
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType, Profile


@functools.cache
def _topic(cls: type) -> str:
    """The aggregate's stored topic (asked on first use: the library's topic registry must
    not be filled while modules load)."""
    return get_topic(cls)


def creation_event(
    *,
    customer_id: UUID,
    tenant_id: str,
    actor: str,
    customer_type: CustomerType,
    profile: Profile,
    at: datetime,
) -> DomainEventProtocol[UUID]:
    """The `Created` event `Customer.register` would raise; `profile` is what
    `registered_profile` made of the input (its checks raise `ValidationFailed` likewise)."""
    return Customer.Created(  # type: ignore[call-arg]
        originator_id=customer_id,
        originator_version=Customer.INITIAL_VERSION,
        timestamp=at,
        originator_topic=_topic(Customer),
        tenant_id=tenant_id,
        actor=actor,
        customer_type=customer_type.value,
        profile=profile,
    )


def claimed_event(
    kind: type[EmailClaim | ExternalIdClaim], claim_id: UUID, owner_id: UUID, at: datetime
) -> DomainEventProtocol[UUID]:
    """The first event of a claim aggregate, as `kind(claim_id=…, owner_id=…)` raises it."""
    claimed: Callable[..., DomainEventProtocol[UUID]] = getattr(kind, "Claimed")  # noqa: B009
    return claimed(
        originator_id=claim_id,
        originator_version=kind.INITIAL_VERSION,
        timestamp=at,
        originator_topic=_topic(kind),
        claim_id=claim_id,
        owner_id=owner_id,
    )
