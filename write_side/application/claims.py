"""Reading and changing the deterministic claim aggregates inside a command.

Each helper returns the events it decided (saved with the customer's, in one transaction);
nothing here appends to a shared decision.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Never

from eventsourcing.domain import Aggregate

from shared.errors import Conflict, IdempotencyMismatch
from shared.json_types import JSONObject
from write_side.application.decisions import (
    CommandMeta,
    Decision,
    Event,
    Outcome,
    StaleDecision,
)
from write_side.application.ports import EventStore
from write_side.application.repository import CustomerRepository
from write_side.domain.claims import (
    EmailClaim,
    ExternalIdClaim,
    IdempotencyRecord,
    OrderRecord,
    UniqueClaim,
    keyed_id,
)
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerState
from write_side.domain.values import email_identity

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
CLAIM_ID_CACHE = 4096


class Claims:
    """Email uniqueness, idempotency keys and phone-book rows, saved with the customer's events."""

    def __init__(self, app: EventStore, index_key: bytes) -> None:
        self._app = app
        self._repository = CustomerRepository(app)
        self._key = index_key
        # An import asks for a row's claim ids several times (prefetch, match, claim): an
        # HMAC each was a quarter of its decisions' CPU. Bounded, so memory stays flat.
        self._claim_id = functools.lru_cache(maxsize=CLAIM_ID_CACHE)(self._keyed)

    def email_owner(self, tenant_id: str, email: str) -> uuid.UUID | None:
        """The customer currently holding `email` in the tenant, if any."""
        claim = self._repository.aggregate(self._email_id(tenant_id, email), EmailClaim)
        return claim.owner_id if claim is not None else None

    def stored_claims(self, claim_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these claims exist at all (one query: a bulk import asks for a whole
        chunk's before deciding its rows, and reads only those that exist)."""
        probe = getattr(self._app.recorder, "latest_versions", None)
        if probe is None:
            return set(claim_ids)
        return set(probe(claim_ids))

    def email_claim_id(self, tenant_id: str, email: str) -> uuid.UUID:
        """The id of the claim on `email` (normalised) in the tenant."""
        return self._email_id(tenant_id, email)

    def external_id_claim_id(self, tenant_id: str, external_id: str) -> uuid.UUID:
        """The id of the claim on `external_id` (normalised) in the tenant."""
        return self._external_id(tenant_id, external_id)

    def owner_of(self, claim_id: uuid.UUID) -> uuid.UUID | None:
        """The holder of an email or external-id claim, by the claim's id."""
        claim = self._repository.aggregate(claim_id, Aggregate)
        return claim.owner_id if isinstance(claim, EmailClaim | ExternalIdClaim) else None

    def external_id_owner(self, tenant_id: str, external_id: str) -> uuid.UUID | None:
        """The customer currently holding `external_id` in the tenant, if any."""
        claim_id = self._external_id(tenant_id, external_id)
        claim = self._repository.aggregate(claim_id, ExternalIdClaim)
        return claim.owner_id if claim is not None else None

    def claim_email(
        self, customer: Customer, email: str, *, assume_unclaimed: bool = False
    ) -> list[Event]:
        """Take `email` for `customer`, or refuse with `Conflict` naming the holder.

        With `assume_unclaimed` the claim is not read first: if it exists, the save conflicts
        and the command is decided again without the assumption.
        """
        claim_id = self._email_id(customer.tenant_id, email)
        return self._claim(EmailClaim, claim_id, customer, "email", assume_unclaimed)

    def release_email(self, customer: Customer, email: str) -> list[Event]:
        """Free `email` if `customer` holds it."""
        return self._release(EmailClaim, self._email_id(customer.tenant_id, email), customer)

    def claim_external_id(
        self, customer: Customer, external_id: str, *, assume_unclaimed: bool = False
    ) -> list[Event]:
        """Take `external_id` for `customer`, or refuse with `Conflict` naming the holder."""
        claim_id = self._external_id(customer.tenant_id, external_id)
        return self._claim(ExternalIdClaim, claim_id, customer, "externalId", assume_unclaimed)

    def release_external_id(self, customer: Customer, external_id: str) -> list[Event]:
        """Free `external_id` if `customer` holds it."""
        claim_id = self._external_id(customer.tenant_id, external_id)
        return self._release(ExternalIdClaim, claim_id, customer)

    def transfer(self, claim_id: uuid.UUID, field: str, new_owner: uuid.UUID | None) -> list[Event]:
        """Point an email (`field` "email") or external-id claim at `new_owner`, or free it
        (None): a merge moves the source's claims to its target, an unmerge moves them back."""
        claim = self._repository.aggregate(claim_id, Aggregate)
        if not isinstance(claim, EmailClaim | ExternalIdClaim):
            if new_owner is None:
                return []
            kind = EmailClaim if field == "email" else ExternalIdClaim
            return list(kind(claim_id=claim_id, owner_id=new_owner).collect_events())
        if claim.owner_id == new_owner:
            return []
        if claim.owner_id is not None:
            claim.release(claim.owner_id)
        if new_owner is not None:
            claim.claim(new_owner)
        return list(claim.collect_events())

    def claim_identifiers(
        self, customer: Customer, *, assume_unclaimed: bool = False
    ) -> list[Event]:
        """Claim the customer's email and external id (a new or restored customer)."""
        events: list[Event] = []
        if customer.email:
            events += self.claim_email(customer, customer.email, assume_unclaimed=assume_unclaimed)
        if customer.external_id:
            events += self.claim_external_id(
                customer, customer.external_id, assume_unclaimed=assume_unclaimed
            )
        for claim_id in self._merged_claims(customer):  # a restored target: taken if free
            if self.owner_of(claim_id) is None:
                events += self.transfer(claim_id, "claim", customer.id)
        return events

    def release_identifiers(self, customer: Customer) -> list[Event]:
        """Free the customer's email and external id (it leaves the active customers)."""
        events: list[Event] = []
        if customer.email:
            events += self.release_email(customer, customer.email)
        if customer.external_id:
            events += self.release_external_id(customer, customer.external_id)
        for claim_id in self._merged_claims(customer):
            if self.owner_of(claim_id) == customer.id:
                events += self.transfer(claim_id, "claim", None)
        return events

    def _merged_claims(self, customer: Customer) -> list[uuid.UUID]:
        """The claims merges brought to the customer, other than its own email's and
        external id's (those follow its profile)."""
        tenant, own = customer.tenant_id, set()
        if customer.email:
            own.add(self._email_id(tenant, customer.email))
        if customer.external_id:
            own.add(self._external_id(tenant, customer.external_id))
        held = (uuid.UUID(c) for memory in customer.merges.values() for c in memory.claims)
        return [claim_id for claim_id in held if claim_id not in own]

    def _claim(
        self,
        kind: type[UniqueClaim],
        claim_id: uuid.UUID,
        customer: Customer,
        field: str,
        assume_unclaimed: bool,
    ) -> list[Event]:
        claim = None if assume_unclaimed else self._repository.aggregate(claim_id, kind)
        if claim is None:
            claim = kind(claim_id=claim_id, owner_id=customer.id)
        elif claim.owner_id not in (None, customer.id):
            raise Conflict(
                f"Another customer of this tenant already has this {field}.",
                extra={"existingId": str(claim.owner_id)},
            )
        elif claim.owner_id is None:
            claim.claim(customer.id)
        return list(claim.collect_events())

    def _release(
        self, kind: type[UniqueClaim], claim_id: uuid.UUID, customer: Customer
    ) -> list[Event]:
        claim = self._repository.aggregate(claim_id, kind)
        if claim is None or claim.owner_id != customer.id:
            return []
        claim.release(customer.id)
        return list(claim.collect_events())

    def phone_holders(self, tenant_id: str, phone: str) -> list[uuid.UUID]:
        """Up to two customers currently holding `phone` (callers re-check each one)."""
        return self._app.phones.holders(self.phone_key(tenant_id, phone))

    def phone_key(self, tenant_id: str, phone: str) -> uuid.UUID:
        """The phone book's key for a number: an HMAC of tenant and number."""
        return keyed_id(self._key, tenant_id, "phone", phone)

    def phone_row(self, customer: Customer) -> uuid.UUID | None:
        """The customer's phone-book key: its current phone while active, else none. Write it
        with every change of the customer's phone or state."""
        phone = customer.profile.get("phone")
        active = customer.state == CustomerState.ACTIVE.value
        return self.phone_key(customer.tenant_id, phone) if phone and active else None

    def order_record(self, tenant_id: str, order_id: str) -> OrderRecord | None:
        """The stored outcome of an order's attendee processing, if any."""
        return self._repository.aggregate(self.order_record_id(tenant_id, order_id), OrderRecord)

    def order_record_id(self, tenant_id: str, order_id: str) -> uuid.UUID:
        """Deterministic id of an order's record."""
        return keyed_id(self._key, tenant_id, "order", order_id)

    def order_fingerprint(self, placed_at: str, profiles: list[JSONObject]) -> str:
        """A keyed hash of what an order says about its attendees, in order."""
        canonical = json.dumps([placed_at, profiles], sort_keys=True, separators=(",", ":"))
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def replay(self, meta: CommandMeta, now: datetime) -> Decision[Never] | None:
        """The first outcome for this idempotency key, if fresh; refused if the request differs."""
        if not meta.idempotency_key:
            return None
        record = self._repository.aggregate(self._record_id(meta), IdempotencyRecord)
        if record is None or not record.is_fresh(now, IDEMPOTENCY_TTL_SECONDS):
            return None
        if record.fingerprint != meta.fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was used with a different request in the last 24 hours."
            )
        first = record.outcome
        customer = self._repository.at_version(uuid.UUID(first["customerId"]), first["version"])
        return Decision(customer, _recorded_outcome(first), replayed=True)

    def remember(self, meta: CommandMeta, decision: Decision[object], now: datetime) -> list[Event]:
        """The events recording the decision's outcome under the idempotency key, if any."""
        if not meta.idempotency_key:
            return []
        record_id = self._record_id(meta)
        outcome = {
            "outcome": decision.outcome.value,
            "customerId": str(decision.customer.id),
            "version": decision.customer.version,
        }
        record = self._repository.aggregate(record_id, IdempotencyRecord)
        if record is not None and record.is_fresh(now, IDEMPOTENCY_TTL_SECONDS):
            raise StaleDecision("the idempotency key was recorded meanwhile")
        if record is not None:
            record.renew(fingerprint=meta.fingerprint, outcome=outcome)
        else:
            record = IdempotencyRecord(
                record_id=record_id, fingerprint=meta.fingerprint, outcome=outcome
            )
        return list(record.collect_events())

    def request_id(self, meta: CommandMeta) -> str | None:
        """A keyed name of the command's `Idempotency-Key` (None without one), for a record
        that must find the answer of the command made under it (a redemption's entry)."""
        return str(self._record_id(meta)) if meta.idempotency_key else None

    def _email_id(self, tenant_id: str, email: str) -> uuid.UUID:
        return self._claim_id(tenant_id, "email", email_identity(email))

    def _external_id(self, tenant_id: str, external_id: str) -> uuid.UUID:
        return self._claim_id(tenant_id, "externalId", external_id)

    def _keyed(self, tenant_id: str, kind: str, value: str) -> uuid.UUID:
        return keyed_id(self._key, tenant_id, kind, value)

    def _record_id(self, meta: CommandMeta) -> uuid.UUID:
        return keyed_id(
            self._key, meta.principal.tenant_id, "idempotency", meta.idempotency_key or ""
        )


def _recorded_outcome(first: JSONObject) -> Outcome:
    """The first request's outcome. Records written before outcomes had names kept the HTTP
    status instead (201 meant created); they expire after 24 hours."""
    if "outcome" in first:
        return Outcome(first["outcome"])
    return Outcome.CREATED if first.get("status") == 201 else Outcome.CHANGED
