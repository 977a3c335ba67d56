"""The customer's own use cases: create, update, delete, restore.

Each decides on current state through the executor's repository and claims and returns the
outcome; storing, retrying and idempotency are the executor's (`executor.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import FieldErrors, ValidationFailed
from shared.principal import Principal
from write_side.application.decisions import CommandMeta, CommandOutcome, Decision, Event, Outcome
from write_side.application.executor import CommandExecutor
from write_side.domain.customer import Customer
from write_side.domain.profile import (
    CustomerType,
    Profile,
    assert_valid_type,
    merge_attributes,
    normalize_fields,
)
from write_side.domain.values import InvalidValue, email_identity, normalize_region


@dataclass(frozen=True)
class ProfileInput:
    """Fields present in a request (`None` clears), the requested type and phone region."""

    fields: Mapping[str, Any]
    customer_type: str | None = None
    phone_region: str | None = None


class CustomerCommands:
    """Create, update, delete and restore a customer."""

    def __init__(self, executor: CommandExecutor, *, default_region: str = "US") -> None:
        self.executor = executor
        self._repository = executor.repository
        self._claims = executor.claims
        self._default_region = default_region

    async def create(self, meta: CommandMeta, data: ProfileInput) -> CommandOutcome[None]:
        """Register a new customer."""
        return await self.executor.run(
            meta, lambda first: self.decide_create(meta.principal, data, optimistic=first)
        )

    async def update(
        self, meta: CommandMeta, customer_id: uuid.UUID, data: ProfileInput
    ) -> CommandOutcome[None]:
        """Change the fields present in `data`; `None` clears a field."""
        return await self.executor.run(
            meta, lambda _: self.decide_update(meta, customer_id, data), lock=customer_id
        )

    async def delete(
        self, meta: CommandMeta, customer_id: uuid.UUID, reason: str | None
    ) -> CommandOutcome[None]:
        """Soft-delete and free the email."""

        def decide(_: bool) -> Decision[None]:
            customer = self._load(meta, customer_id)
            customer.delete(actor=meta.principal.subject, reason=reason)
            events = self._claims.release_identifiers(customer)
            return self._with_phone(customer, events)

        return await self.executor.run(meta, decide, lock=customer_id)

    async def restore(
        self, meta: CommandMeta, customer_id: uuid.UUID, reason: str | None
    ) -> CommandOutcome[None]:
        """Undo a soft delete; `Conflict` when the email now belongs to someone else."""

        def decide(_: bool) -> Decision[None]:
            customer = self._load(meta, customer_id)
            customer.restore(actor=meta.principal.subject, reason=reason)
            events = self._claims.claim_identifiers(customer)
            return self._with_phone(customer, events)

        return await self.executor.run(meta, decide, lock=customer_id)

    @property
    def default_region(self) -> str:
        """Region for phone numbers without a leading `+`."""
        return self._default_region

    # -- internals ---------------------------------------------------------------------------

    def _load(self, meta: CommandMeta, customer_id: uuid.UUID) -> Customer:
        tenant = meta.principal.tenant_id
        return self._repository.load(tenant, customer_id, meta.expected_version)

    def _with_phone(
        self, customer: Customer, events: list[Event], outcome: Outcome = Outcome.CHANGED
    ) -> Decision[None]:
        """A new customer or a change of state: the phone-book row follows when it has a phone."""
        rows: dict[uuid.UUID, uuid.UUID | None] = {}
        if customer.profile.get("phone"):
            rows[customer.id] = self._claims.phone_row(customer)
        return Decision(customer, outcome, tuple(events), rows)

    def normalize(
        self, data: ProfileInput, current: Profile | None = None
    ) -> tuple[Profile, CustomerType | None]:
        """The normalised fields; an `attributes` object is merged into `current`'s."""
        errors = FieldErrors()
        region = self._default_region
        if data.phone_region is not None:
            try:
                region = normalize_region(data.phone_region)
            except InvalidValue as error:
                errors.add("phoneRegion", str(error))
        customer_type = None
        if data.customer_type is not None:
            try:
                customer_type = assert_valid_type(data.customer_type)
            except ValidationFailed as error:
                errors.items.extend(error.errors)
        fields = data.fields
        if isinstance(fields.get("attributes"), dict):
            existing = (current or {}).get("attributes") or {}
            fields = {**fields, "attributes": merge_attributes(existing, fields["attributes"])}
        if errors.items and errors.items[0].field == "phoneRegion":
            # The phone cannot be read without its region: naming it too would mislead.
            fields = {name: value for name, value in fields.items() if name != "phone"}
        today = self.executor.today()
        profile = normalize_fields(fields, region=region, today=today, errors=errors)
        errors.raise_if_any()
        return profile, customer_type

    def decide_create(
        self, principal: Principal, data: ProfileInput, *, optimistic: bool
    ) -> Decision[None]:
        """On a first attempt the email claim is assumed new (no read); a conflict makes the
        retry read it, so a taken email still ends in `Conflict` with `existingId`."""
        profile, customer_type = self.normalize(data)
        customer = Customer.register(
            tenant_id=principal.tenant_id,
            actor=principal.subject,
            customer_type=customer_type or CustomerType.UNREGISTERED,
            profile=profile,
        )
        events = self._claims.claim_identifiers(customer, assume_unclaimed=optimistic)
        return self._with_phone(customer, events, Outcome.CREATED)

    def decide_update(
        self, meta: CommandMeta, customer_id: uuid.UUID, data: ProfileInput
    ) -> Decision[None]:
        """Change the customer's fields present in `data` (also an import row's decision)."""
        customer = self._load(meta, customer_id)
        customer.check_mutable()
        profile, customer_type = self.normalize(data, customer.profile)
        previous_email = customer.email
        previous_external_id = customer.external_id
        previous_phone = customer.profile.get("phone")
        customer.update(actor=meta.principal.subject, changes=profile, customer_type=customer_type)
        rows: dict[uuid.UUID, uuid.UUID | None] = {}
        if customer.profile.get("phone") != previous_phone:
            rows[customer.id] = self._claims.phone_row(customer)
        events: list[Event] = []
        if _identity(previous_email) != _identity(customer.email):
            if previous_email:
                events += self._claims.release_email(customer, previous_email)
            if customer.email:
                events += self._claims.claim_email(customer, customer.email)
        if previous_external_id != customer.external_id:
            if previous_external_id:
                events += self._claims.release_external_id(customer, previous_external_id)
            if customer.external_id:
                events += self._claims.claim_external_id(customer, customer.external_id)
        return Decision(customer, Outcome.CHANGED, tuple(events), rows)


def _identity(email: str | None) -> str | None:
    return email_identity(email) if email else None
