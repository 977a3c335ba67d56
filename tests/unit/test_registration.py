"""A new customer's events built directly (the bulk import's path) are the events the
aggregates raise: same classes, same attributes, same refusals, and they fold the same."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.errors import ValidationFailed
from shared.events.values import CustomerType
from write_side.domain.claims import EmailClaim, ExternalIdClaim
from write_side.domain.customer import Customer
from write_side.domain.profile import registered_profile
from write_side.domain.registration import claimed_event, creation_event

PROFILE = {"firstName": "Ann", "email": "ann@example.com", "tags": ["vip"], "externalId": "a-1"}


def state(event: object) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in ("originator_id", "timestamp")}


def test_the_creation_event_is_the_one_register_raises() -> None:
    customer = Customer.register(
        tenant_id="t", actor="me", customer_type=CustomerType.UNREGISTERED,
        profile=PROFILE,
    )  # fmt: skip
    (raised,) = customer.collect_events()
    built = creation_event(
        customer_id=uuid.uuid4(),
        tenant_id="t",
        actor="me",
        customer_type=CustomerType.UNREGISTERED,
        profile=registered_profile(PROFILE, CustomerType.UNREGISTERED),
        at=raised.timestamp,
    )
    assert type(built) is type(raised) and state(built) == state(raised)
    folded = built.mutate(None)
    assert isinstance(folded, Customer)
    assert folded.profile == customer.profile and folded.state == customer.state
    assert folded.id == built.originator_id and folded.version == 1


def test_the_profile_rules_refuse_alike() -> None:
    with pytest.raises(ValidationFailed) as raised:
        registered_profile({"email": "a@example.com"}, CustomerType.REGULAR)
    with pytest.raises(ValidationFailed) as aggregate:
        Customer.register(
            tenant_id="t", actor="me", customer_type=CustomerType.REGULAR,
            profile={"email": "a@example.com"},
        )  # fmt: skip
    assert raised.value.errors == aggregate.value.errors


@pytest.mark.parametrize("kind", [EmailClaim, ExternalIdClaim])
def test_the_claimed_event_is_the_one_a_new_claim_raises(
    kind: type[EmailClaim | ExternalIdClaim],
) -> None:
    claim_id, owner = uuid.uuid4(), uuid.uuid4()
    (raised,) = kind(claim_id=claim_id, owner_id=owner).collect_events()
    built = claimed_event(kind, claim_id, owner, raised.timestamp)
    assert type(built) is type(raised) and vars(built) == vars(raised)
