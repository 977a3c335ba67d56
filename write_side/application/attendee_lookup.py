"""What a batch of orders reads, read once: the `Lookup` its decisions go through.

Decided one order at a time, every attendee cost a claim read, a phone-book read and a replay
of the matched customer's stream. A batch reads every order record and email claim it names
in one probe (then only those that exist), each phone's holders once, and its customers from
the `CustomerCache` (one query brings them up to date). The orders are then decided one after
the other on these objects, so an order sees the customers the batch's earlier orders created
or changed, as it would once they were stored.

A decision that fails midway leaves the objects it touched changed but unsaved: they are
*tainted*, and a later order of the batch that would read one is deferred to the next round
(`Deferred`), decided on fresh state. An order whose record an earlier order of the batch
writes (the same order delivered twice) is deferred too: the next round replays it.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from typing import TypeVar

from eventsourcing.domain import Aggregate, CanMutateAggregate

from shared.errors import NotFound
from shared.json_types import JSONObject
from write_side.application.decisions import Event, StaleDecision
from write_side.application.executor import CommandExecutor
from write_side.domain.claims import EmailClaim, OrderRecord
from write_side.domain.customer import Customer
from write_side.domain.values import email_identity

A = TypeVar("A", bound=Aggregate)
Wanted = tuple[str, str, list[JSONObject]]
"""An order of the batch: tenant, order id, its attendees' normalised profiles."""


class Deferred(Exception):
    """The order reads something an earlier order of the batch left unsaved: next round."""


class BatchLookup:
    """The batch's orders' records, claims, phone holders and customers; see the module."""

    def __init__(self, executor: CommandExecutor, wanted: Sequence[Wanted]) -> None:
        self._executor = executor
        claims = executor.claims
        self._claims = claims
        record_ids = {claims.order_record_id(t, order_id) for t, order_id, _ in wanted}
        emails = {claims.email_claim_id(t, p["email"]) for t, _, ps in wanted for p in ps
                  if p.get("email")}  # fmt: skip
        phones = {claims.phone_key(t, p["phone"]) for t, _, ps in wanted for p in ps
                  if p.get("phone")}  # fmt: skip
        stored = claims.stored_claims([*record_ids, *emails])
        self._records = self._read(stored & record_ids, OrderRecord)
        self._email_claims = self._read(stored & emails, EmailClaim)
        self._holders = executor.app.phones.holders_of(list(phones))
        owners = {c.owner_id for c in self._email_claims.values() if c.owner_id is not None}
        owners.update(holder for holders in self._holders.values() for holder in holders)
        self.customers: dict[uuid.UUID, Customer] = executor.customers.take(list(owners))
        self._new_by_email: dict[uuid.UUID, Customer] = {}
        self._new_by_phone: dict[uuid.UUID, list[Customer]] = {}
        self._decided: set[uuid.UUID] = set()
        self.tainted: set[Hashable] = set()
        self._order: set[Hashable] = set()  # what the order being decided read or touched
        self._staged: list[Customer] = []

    def begin(self) -> None:
        """Before an order's decision."""
        self._order, self._staged = set(), []

    def finish(self, events: Sequence[Event]) -> set[Hashable]:
        """After an order's decision (its events collected): what it read and wrote, and its
        new customers are found by the batch's later orders."""
        touched = self._order | {event.originator_id for event in events}
        for customer in self._staged:
            self.customers[customer.id] = customer
            if customer.email:
                claim_id = self._claims.email_claim_id(customer.tenant_id, customer.email)
                self._new_by_email[claim_id] = customer
            if phone := customer.profile.get("phone"):
                key = self._claims.phone_key(customer.tenant_id, phone)
                self._new_by_phone.setdefault(key, []).append(customer)
        self._decided |= {oid for oid in touched if isinstance(oid, uuid.UUID)}
        return touched

    def fail(self) -> None:
        """After a failed decision: what it touched is tainted (changed, not saved)."""
        self.tainted |= self._order
        for customer in self._staged:
            self.tainted.add(customer.id)

    # ------------------------------------------------------------------------ Lookup
    def order_record(self, tenant_id: str, order_id: str) -> OrderRecord | None:
        """The stored record, read with the batch's."""
        record_id = self._consult(self._claims.order_record_id(tenant_id, order_id))
        if record_id in self._decided:
            raise Deferred("an earlier order of the batch has this order id")
        return self._records.get(record_id)

    def match(
        self, tenant: str, profile: JSONObject, seen: dict[str, Customer]
    ) -> tuple[Customer | None, str | None, bool]:
        """As `AttendeeProcessing.match`, on what the batch read and decided."""
        email = profile.get("email")
        if email:
            if email_identity(email) in seen:
                return seen[email_identity(email)], "email", False
            claim_id = self._consult(self._claims.email_claim_id(tenant, email))
            new = self._new_by_email.get(claim_id)
            if new is not None:
                return self._customer(tenant, new.id), "email", False
            claim = self._email_claims.get(claim_id)
            if claim is not None and claim.owner_id is not None:
                return self._customer(tenant, claim.owner_id), "email", False
        phone = profile.get("phone")
        if phone:
            key = self._consult(self._claims.phone_key(tenant, phone))
            matches: dict[uuid.UUID, Customer] = {}
            for holder in self._holders.get(key, []):
                if (customer := self._phone_holder(tenant, holder, phone)) is not None:
                    matches[customer.id] = customer
            for new in self._new_by_phone.get(key, []):
                matches[new.id] = self._customer(tenant, new.id)
            if len(matches) == 1:
                return next(iter(matches.values())), "phone", False
        return None, None, False

    def registered(self, customer: Customer) -> None:
        """A new customer of the order: found by later orders once the order is decided."""
        self._staged.append(customer)

    def claim_new_email(self, customer: Customer, email: str) -> list[Event]:
        """Claim the email (read with the batch's claims) for a new customer."""
        claim_id = self._consult(self._claims.email_claim_id(customer.tenant_id, email))
        claim = self._email_claims.get(claim_id)
        if claim is None:
            claim = EmailClaim(claim_id=claim_id, owner_id=customer.id)
            self._email_claims[claim_id] = claim
        elif claim.owner_id not in (None, customer.id):
            raise StaleDecision("the attendee's email was claimed meanwhile")
        elif claim.owner_id is None:
            claim.claim(customer.id)
        return list(claim.collect_events())

    # ------------------------------------------------------------------------ reads
    def _consult(self, aggregate_id: uuid.UUID) -> uuid.UUID:
        if aggregate_id in self.tainted:
            raise Deferred("an earlier failed decision of the batch touched this")
        self._order.add(aggregate_id)
        return aggregate_id

    def _customer(self, tenant: str, customer_id: uuid.UUID) -> Customer:
        """The batch's customer (as `CustomerRepository.get`: another tenant's is missing)."""
        self._consult(customer_id)
        customer = self.customers.get(customer_id)
        if customer is None:
            customer = self._executor.repository.find(tenant, customer_id)
            if customer is not None:
                self.customers[customer_id] = customer
        if customer is None or customer.tenant_id != tenant:
            raise NotFound("No customer with this id.")
        return customer

    def _phone_holder(self, tenant: str, holder: uuid.UUID, phone: str) -> Customer | None:
        """As `AttendeeProcessing._phone_holder`."""
        try:
            customer = self._customer(tenant, holder)
        except NotFound:
            return None
        if customer.profile.get("phone") != phone:
            return None
        if customer.state == "merged":
            current = self._executor.repository.current(tenant, customer.id)
            customer = self._customer(tenant, current.id)
        return customer if customer.state == "active" else None

    def _read(self, ids: set[uuid.UUID], kind: type[A]) -> dict[uuid.UUID, A]:
        """The aggregates of `kind` among `ids`: one query where the recorder reads several
        streams at once (PostgreSQL), else one read each."""
        if not ids:
            return {}
        recorder, app = self._executor.app.recorder, self._executor.app
        select_after = getattr(recorder, "select_events_after", None)
        if select_after is None:
            repository = self._executor.repository
            return {i: found for i in ids if (found := repository.aggregate(i, kind)) is not None}
        built: dict[uuid.UUID, Aggregate | None] = {}
        for stored in select_after([(i, 0) for i in ids]):
            event = app.mapper.to_domain_event(stored)
            if isinstance(event, CanMutateAggregate):
                built[event.originator_id] = event.mutate(built.get(event.originator_id))
        return {i: found for i, found in built.items() if isinstance(found, kind)}
