"""An import row that creates a customer, decided without rehydrating any aggregate.

A row whose externalId and email match no stored claim (the chunk asked the store for all of
them in one query) is a new customer: its events are the `Created` event and the `Claimed`
events of its email and external id, built directly (`write_side.domain.registration`), with
the API's own normalisation and rules (`CustomerCommands.normalize`, `registered_profile`).
The claims are assumed free, as the API's first attempt assumes them: a claim taken
meanwhile makes the chunk's save conflict, and its rows are then decided again one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from shared.principal import Principal
from write_side.application.claims import Claims
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import Decision, Event, Outcome
from write_side.domain.claims import EmailClaim, ExternalIdClaim
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType, registered_profile
from write_side.domain.registration import claimed_event, creation_event


@dataclass(frozen=True, slots=True)
class Planned:
    """A row's decision as the chunk stores it: every event, the phone-book rows."""

    customer_id: UUID
    outcome: Outcome
    events: list[Event]
    phone_rows: Mapping[UUID, UUID | None] = field(default_factory=dict)

    @classmethod
    def of(cls, decision: Decision[None]) -> Planned:
        """A decision of the per-row path (the customer's pending events collected)."""
        events = [*decision.customer.collect_events(), *decision.events]
        return cls(decision.customer.id, decision.outcome, events, decision.phone_rows)


class NewCustomers:
    """Decides rows that create a customer (see the module doc)."""

    def __init__(self, commands: CustomerCommands, claims: Claims) -> None:
        self._commands = commands
        self._claims = claims

    def plan(self, principal: Principal, data: ProfileInput) -> Planned:
        """The new customer's events; `ValidationFailed` as `decide_create` raises it."""
        profile, customer_type = self._commands.normalize(data)
        kind = customer_type or CustomerType.UNREGISTERED
        stored = registered_profile(profile, kind)
        customer_id, at = uuid4(), Customer.Created.create_timestamp()
        tenant, claims = principal.tenant_id, self._claims
        created = creation_event(
            customer_id=customer_id,
            tenant_id=tenant,
            actor=principal.subject,
            customer_type=kind,
            profile=stored,
            at=at,
        )
        events: list[Event] = [created]
        email, external_id, phone = stored["email"], stored["externalId"], stored["phone"]
        if email:  # the order `Claims.claim_identifiers` keeps: email, then external id
            claim_id = claims.email_claim_id(tenant, email)
            events.append(claimed_event(EmailClaim, claim_id, customer_id, at))
        if external_id:
            claim_id = claims.external_id_claim_id(tenant, external_id)
            events.append(claimed_event(ExternalIdClaim, claim_id, customer_id, at))
        rows = {customer_id: claims.phone_key(tenant, phone)} if phone else {}
        return Planned(customer_id, Outcome.CREATED, events, rows)
