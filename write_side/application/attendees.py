"""Turn an order's attendees into customers: match by email, then by a unique phone, else create.

One use case behind `POST /customers/attendees` and the `order.placed` consumer. The order's
outcome is stored in an `OrderRecord` saved in the same transaction as every customer change,
so processing an order twice changes nothing and returns the first results.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.clock import iso_utc
from shared.errors import Conflict, FieldError, FieldErrors, ValidationFailed
from shared.json_types import JSONObject
from write_side.application.decisions import CommandMeta, Decision, Event, Outcome, StaleDecision
from write_side.application.executor import CommandExecutor
from write_side.domain.claims import OrderRecord
from write_side.domain.customer import Customer
from write_side.domain.profile import IDENTIFYING_FIELDS, CustomerType, normalize_fields
from write_side.domain.values import (
    InvalidValue,
    email_identity,
    is_plain_text,
    normalize_region,
)

Results = list[JSONObject]
"""Per attendee, in order: customerId, created, firstTime, matchedBy."""


@dataclass(frozen=True)
class AttendeeInput:
    """An attendee as the order system sends it (raw strings)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_region: str | None = None


@dataclass(frozen=True)
class OrderInput:
    """The order an attendee list belongs to, and the keyed hash of what it says."""

    order_id: str
    placed_at: str
    fingerprint: str


class Lookup(Protocol):
    """What an order's decision reads: orders' records, customers by email or phone, claims."""

    def order_record(self, tenant_id: str, order_id: str) -> OrderRecord | None: ...

    def match(
        self, tenant: str, profile: JSONObject, seen: dict[str, Customer]
    ) -> tuple[Customer | None, str | None, bool]: ...

    def registered(self, customer: Customer) -> None: ...

    def claim_new_email(self, customer: Customer, email: str) -> list[Event]: ...


class AttendeeProcessing:
    """Match or create customers for an order's attendees and record their visit."""

    def __init__(self, executor: CommandExecutor, *, default_region: str = "US") -> None:
        self._executor = executor
        self.executor = executor
        self._repository = executor.repository
        self._claims = executor.claims
        self._default_region = default_region

    async def process(
        self, meta: CommandMeta, order_id: str, placed_at: datetime, attendees: list[AttendeeInput]
    ) -> Results:
        """Results per attendee, in order: customerId, created, firstTime, matchedBy."""
        tenant = meta.principal.tenant_id
        order, profiles = self.prepare(order_id, placed_at, attendees)

        def decide(_first_attempt: bool) -> Decision[Results]:
            return self.decide_order(meta, order, profiles, self)

        outcome = await self._executor.run(meta, decide, lock=("order", tenant, order_id))
        return outcome.answer()

    def prepare(
        self, order_id: str, placed_at: datetime, attendees: list[AttendeeInput]
    ) -> tuple[OrderInput, list[JSONObject]]:
        """The order and its attendees' normalised profiles; `ValidationFailed` when bad."""
        if not is_plain_text(order_id):
            raise ValidationFailed(
                "Invalid order id.", errors=[FieldError("orderId", "must be plain text")]
            )
        profiles = self.normalize(attendees)
        when = iso_utc(placed_at)
        return OrderInput(order_id, when, self._claims.order_fingerprint(when, profiles)), profiles

    def normalize(self, attendees: list[AttendeeInput]) -> list[JSONObject]:
        """Normalised profiles of the attendees; `ValidationFailed` names every bad field."""
        errors = FieldErrors()
        profiles = []
        for index, attendee in enumerate(attendees):
            region: str | None = self._default_region
            if attendee.phone_region:
                try:
                    region = normalize_region(attendee.phone_region)
                except InvalidValue as error:
                    errors.add(f"attendees[{index}].phoneRegion", str(error))
                    region = None  # the phone cannot be read without it: not named too
            raw = {
                "firstName": attendee.first_name,
                "lastName": attendee.last_name,
                "email": attendee.email,
                "phone": attendee.phone if region else None,
            }
            present = {key: value for key, value in raw.items() if value not in (None, "")}
            local = FieldErrors()
            profile = normalize_fields(
                present, region=region or "", today=self._executor.today(), errors=local
            )
            errors.items.extend(
                FieldError(f"attendees[{index}].{e.field}", e.message) for e in local.items
            )
            if region and not local.items and not any(profile.get(k) for k in IDENTIFYING_FIELDS):
                errors.add(f"attendees[{index}]", "needs a name, an email or a phone")
            profiles.append(profile)
        errors.raise_if_any("Some attendees are invalid.")
        return profiles

    def decide_order(
        self, meta: CommandMeta, order: OrderInput, profiles: list[JSONObject], lookup: Lookup
    ) -> Decision[Results]:
        """The order's decision, reading through `lookup`: the store itself (`self`), or the
        state a batch of orders read at once (`attendee_batches`)."""
        tenant, actor = meta.principal.tenant_id, meta.principal.subject
        record = lookup.order_record(tenant, order.order_id)
        if record is not None:
            return self._replay(tenant, order, record)
        touched: dict[str, Customer] = {}
        events: list[Event] = []
        rows: dict[uuid.UUID, uuid.UUID | None] = {}
        results: Results = []
        by_email: dict[str, Customer] = {}
        main: Customer | None = None  # the first new customer: the decision's own
        for profile in profiles:
            customer, matched_by, created = lookup.match(tenant, profile, by_email)
            if customer is None:
                customer = Customer.register(
                    tenant_id=tenant, actor=actor, customer_type=CustomerType.NEW, profile=profile
                )
                lookup.registered(customer)
                created = True
            if customer.email:
                by_email[email_identity(customer.email)] = customer
            key = str(customer.id)
            if key not in touched:
                touched[key] = customer
                if created:
                    if main is None:
                        main = customer
                    else:
                        events.extend(customer.collect_events())
                    if customer.email:
                        events.extend(lookup.claim_new_email(customer, customer.email))
                    if customer.profile.get("phone"):
                        rows[customer.id] = self._claims.phone_row(customer)
            first_time = customer.record_visit(
                actor=actor, order_id=order.order_id, placed_at=order.placed_at
            )
            results.append(
                {
                    "customerId": key,
                    "created": created,
                    "firstTime": first_time,
                    "matchedBy": matched_by,
                }
            )
        main = main or next(iter(touched.values()))
        for customer in touched.values():
            if customer is not main:
                events.extend(customer.collect_events())
        events.extend(self._record(meta, order, results))
        return Decision(main, Outcome.CHANGED, tuple(events), rows, result=results)

    def _replay(self, tenant: str, order: OrderInput, record: OrderRecord) -> Decision[Results]:
        """The first results of an order processed before, unless it now says otherwise."""
        if record.fingerprint and record.fingerprint != order.fingerprint:
            raise Conflict(
                "This orderId was already processed with other attendees or another "
                "placedAt; send the order as it was, or under a new orderId.",
                extra={"orderId": order.order_id},
            )
        first = self._repository.get(tenant, uuid.UUID(record.results[0]["customerId"]))
        return Decision(first, Outcome.CHANGED, replayed=True, result=record.results)

    def _record(self, meta: CommandMeta, order: OrderInput, results: Results) -> list[Event]:
        tenant = meta.principal.tenant_id
        record = OrderRecord(
            record_id=self._claims.order_record_id(tenant, order.order_id), tenant_id=tenant,
            actor=meta.principal.subject, order_id=order.order_id, placed_at=order.placed_at,
            results=results, fingerprint=order.fingerprint,
        )  # fmt: skip
        return list(record.collect_events())

    def order_record(self, tenant_id: str, order_id: str) -> OrderRecord | None:
        """The order's stored record (`Lookup`)."""
        return self._claims.order_record(tenant_id, order_id)

    def registered(self, customer: Customer) -> None:
        """Nothing to note: the store learns of a new customer when it is saved (`Lookup`)."""

    def claim_new_email(self, customer: Customer, email: str) -> list[Event]:
        """Claim the email of an attendee matched by nobody. A concurrent order may have
        created its customer since `match` looked: decide again, which then matches it."""
        try:
            return self._claims.claim_email(customer, email)
        except Conflict as error:
            raise StaleDecision("the attendee's email was claimed meanwhile") from error

    def match(
        self, tenant: str, profile: JSONObject, seen: dict[str, Customer]
    ) -> tuple[Customer | None, str | None, bool]:
        """The active customer with this email, else the only one with this phone."""
        email = profile.get("email")
        if email:
            if email_identity(email) in seen:
                return seen[email_identity(email)], "email", False
            owner = self._claims.email_owner(tenant, email)
            if owner is not None:
                return self._repository.get(tenant, owner), "email", False
        phone = profile.get("phone")
        if phone:
            matches = {
                customer.id: customer
                for holder in self._claims.phone_holders(tenant, phone)
                if (customer := self._phone_holder(tenant, holder, phone)) is not None
            }
            if len(matches) == 1:
                return next(iter(matches.values())), "phone", False
        return None, None, False

    def _phone_holder(self, tenant: str, holder: uuid.UUID, phone: str) -> Customer | None:
        """The active customer holding `phone` by this row: the holder itself, or the target a
        merged holder was folded into (which answers to the source's old number)."""
        customer = self._repository.find(tenant, holder)
        if customer is None or customer.profile.get("phone") != phone:
            return None
        if customer.state == "merged":
            customer = self._repository.current(tenant, customer.id)
        return customer if customer.state == "active" else None


__all__ = ["AttendeeInput", "AttendeeProcessing", "Lookup", "OrderInput", "ValidationFailed"]
