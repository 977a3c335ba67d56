"""Reading and changing the deterministic claim aggregates inside a command."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from shared.errors import Conflict, IdempotencyMismatch
from write_side.application.decisions import CommandMeta, Decision, StaleDecision
from write_side.application.event_store import CustomersApplication
from write_side.domain.claims import (
    EmailClaim,
    IdempotencyRecord,
    OrderRecord,
    keyed_id,
)
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerState
from write_side.domain.values import email_identity

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class Claims:
    """Email uniqueness, idempotency keys and phone-book rows, saved with the customer's events."""

    def __init__(self, app: CustomersApplication, index_key: bytes) -> None:
        self._app = app
        self._key = index_key

    def get(self, aggregate_id: uuid.UUID) -> Any:
        """Any aggregate by id, or None."""
        try:
            return self._app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def email_owner(self, tenant_id: str, email: str) -> uuid.UUID | None:
        """The customer currently holding `email` in the tenant, if any."""
        claim = self.get(keyed_id(self._key, tenant_id, "email", email_identity(email)))
        return claim.owner_id if isinstance(claim, EmailClaim) else None

    def claim_email(
        self, decision: Decision, email: str, *, assume_unclaimed: bool = False
    ) -> None:
        """Take `email` for the decision's customer, or refuse with 409 naming the holder.

        With `assume_unclaimed` the claim is not read first: if it exists, the save conflicts
        and the command is decided again without the assumption.
        """
        customer = decision.customer
        claim_id = keyed_id(self._key, customer.tenant_id, "email", email_identity(email))
        claim = None if assume_unclaimed else self.get(claim_id)
        if claim is None:
            claim = EmailClaim(claim_id=claim_id, owner_id=customer.id)
        elif claim.owner_id not in (None, customer.id):
            raise Conflict(
                "Another customer of this tenant already has this email.",
                extra={"existingId": str(claim.owner_id)},
            )
        elif claim.owner_id is None:
            claim.claim(customer.id)
        decision.events.extend(claim.collect_events())

    def release_email(self, decision: Decision, email: str) -> None:
        """Free `email` if the decision's customer holds it."""
        customer = decision.customer
        claim = self.get(keyed_id(self._key, customer.tenant_id, "email", email_identity(email)))
        if isinstance(claim, EmailClaim) and claim.owner_id == customer.id:
            claim.release(customer.id)
            decision.events.extend(claim.collect_events())

    def phone_holders(self, tenant_id: str, phone: str) -> list[uuid.UUID]:
        """Up to two customers currently holding `phone` (callers re-check each one)."""
        return self._app.phones.holders(self.phone_key(tenant_id, phone))

    def phone_key(self, tenant_id: str, phone: str) -> uuid.UUID:
        """The phone book's key for a number: an HMAC of tenant and number."""
        return keyed_id(self._key, tenant_id, "phone", phone)

    def index_phone(self, decision: Decision, customer: Customer) -> None:
        """Write the customer's phone-book row with the decision's events. Call after every
        change of the customer's phone or state."""
        decision.phone_rows[customer.id] = self.phone_row(customer)

    def phone_row(self, customer: Customer) -> uuid.UUID | None:
        """The customer's phone-book key: its current phone while active, else none."""
        phone = customer.profile.get("phone")
        active = customer.state == CustomerState.ACTIVE.value
        return self.phone_key(customer.tenant_id, phone) if phone and active else None

    def order_record(self, tenant_id: str, order_id: str) -> OrderRecord | None:
        """The stored outcome of an order's attendee processing, if any."""
        record = self.get(self.order_record_id(tenant_id, order_id))
        return record if isinstance(record, OrderRecord) else None

    def order_record_id(self, tenant_id: str, order_id: str) -> uuid.UUID:
        """Deterministic id of an order's record."""
        return keyed_id(self._key, tenant_id, "order", order_id)

    def order_fingerprint(self, placed_at: str, profiles: list[dict[str, Any]]) -> str:
        """A keyed hash of what an order says about its attendees, in order."""
        canonical = json.dumps([placed_at, profiles], sort_keys=True, separators=(",", ":"))
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def replay(self, meta: CommandMeta, now: datetime) -> Decision | None:
        """The first outcome for this idempotency key, if fresh; 422 if the request differs."""
        if not meta.idempotency_key:
            return None
        record = self.get(self._record_id(meta, meta.idempotency_key))
        if not isinstance(record, IdempotencyRecord):
            return None
        if not record.is_fresh(now, IDEMPOTENCY_TTL_SECONDS):
            return None
        if record.fingerprint != meta.fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was used with a different request in the last 24 hours."
            )
        outcome = record.outcome
        customer: Any = self._app.repository.get(
            uuid.UUID(outcome["customerId"]), version=outcome["version"]
        )
        assert isinstance(customer, Customer)
        return Decision(customer=customer, status=outcome["status"], replayed=True)

    def remember(self, meta: CommandMeta, decision: Decision, now: datetime) -> None:
        """Record the decision's outcome under the idempotency key, in the same save."""
        if not meta.idempotency_key:
            return
        record_id = self._record_id(meta, meta.idempotency_key)
        outcome = {
            "status": decision.status,
            "customerId": str(decision.customer.id),
            "version": decision.customer.version,
        }
        record = self.get(record_id)
        if isinstance(record, IdempotencyRecord) and record.is_fresh(now, IDEMPOTENCY_TTL_SECONDS):
            raise StaleDecision("the idempotency key was recorded meanwhile")
        if isinstance(record, IdempotencyRecord):
            record.renew(fingerprint=meta.fingerprint, outcome=outcome)
        else:
            record = IdempotencyRecord(
                record_id=record_id, fingerprint=meta.fingerprint, outcome=outcome
            )
        decision.events.extend(record.collect_events())

    def _record_id(self, meta: CommandMeta, key: str) -> uuid.UUID:
        return keyed_id(self._key, meta.principal.tenant_id, "idempotency", key)
