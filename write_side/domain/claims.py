"""Deterministic aggregates that make uniqueness and idempotency atomic.

An `EmailClaim` has an id derived from the tenant and the email's keyed hash, so two customers
claiming one email write the same aggregate version and the event store refuses the second.
An `ExternalIdClaim` does it for `externalId`, an `IdempotencyRecord` for `Idempotency-Key`
headers. None holds personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from shared.json_types import JSONObject

_NAMESPACE = uuid.UUID("6d1f0c55-6a55-4f7e-9a1e-4c1a2b9e7c11")


def keyed_id(key: bytes, *parts: str) -> uuid.UUID:
    """A UUID from an HMAC of the parts: stable, and not reversible without the key."""
    digest = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    return uuid.uuid5(_NAMESPACE, digest)


class EmailClaim(Aggregate):
    """Who holds an email within a tenant. `owner_id` is None while the email is free."""

    @staticmethod
    def create_id(claim_id: uuid.UUID) -> uuid.UUID:
        """The id is computed by the caller with `keyed_id`."""
        return claim_id

    @event("Claimed")
    def __init__(self, claim_id: uuid.UUID, owner_id: uuid.UUID) -> None:
        self.owner_id: uuid.UUID | None = owner_id

    @event("Reclaimed")
    def claim(self, owner_id: uuid.UUID) -> None:
        """Take a free email."""
        self.owner_id = owner_id

    @event("Released")
    def release(self, owner_id: uuid.UUID) -> None:
        """Free the email (owner deleted, erased or changed address)."""
        self.owner_id = None


class ExternalIdClaim(Aggregate):
    """Who holds an `externalId` within a tenant (keyed hash id; the value is not stored).

    A class of its own rather than an `EmailClaim` under another key: the stored topics then
    say which uniqueness a row enforces."""

    @staticmethod
    def create_id(claim_id: uuid.UUID) -> uuid.UUID:
        """The id is computed by the caller with `keyed_id`."""
        return claim_id

    @event("Claimed")
    def __init__(self, claim_id: uuid.UUID, owner_id: uuid.UUID) -> None:
        self.owner_id: uuid.UUID | None = owner_id

    @event("Reclaimed")
    def claim(self, owner_id: uuid.UUID) -> None:
        """Take a free external id."""
        self.owner_id = owner_id

    @event("Released")
    def release(self, owner_id: uuid.UUID) -> None:
        """Free the external id (owner deleted, erased or given another one)."""
        self.owner_id = None


UniqueClaim = EmailClaim | ExternalIdClaim


class IdempotencyRecord(Aggregate):
    """The first outcome of a command sent with an `Idempotency-Key`."""

    @staticmethod
    def create_id(record_id: uuid.UUID) -> uuid.UUID:
        """The id is computed by the caller with `keyed_id`."""
        return record_id

    @event("Recorded")
    def __init__(self, record_id: uuid.UUID, fingerprint: str, outcome: JSONObject) -> None:
        self.fingerprint = fingerprint
        self.outcome = outcome

    @event("Renewed")
    def renew(self, fingerprint: str, outcome: JSONObject) -> None:
        """Reuse an expired key for a new command."""
        self.fingerprint = fingerprint
        self.outcome = outcome

    def is_fresh(self, now: datetime, ttl_seconds: float) -> bool:
        """True while the key still replays (24 h by default)."""
        return (now - self.modified_on).total_seconds() < ttl_seconds


class PhoneIndex(Aggregate):
    """Customers that had a phone number, per tenant (keyed hash id; no number stored).

    Entries are only ever added: readers check each customer's current phone and state."""

    @staticmethod
    def create_id(index_id: uuid.UUID) -> uuid.UUID:
        """The id is computed by the caller with `keyed_id`."""
        return index_id

    @event("Indexed")
    def __init__(self, index_id: uuid.UUID, owner_id: uuid.UUID) -> None:
        self.owners: list[str] = [str(owner_id)]

    @event("Added")
    def add(self, owner_id: uuid.UUID) -> None:
        """Remember another customer with this phone."""
        if str(owner_id) not in self.owners:
            self.owners.append(str(owner_id))


class OrderRecord(Aggregate):
    """Which customers an order's attendees became: makes attendee processing idempotent."""

    @staticmethod
    def create_id(record_id: uuid.UUID) -> uuid.UUID:
        """The id is computed by the caller with `keyed_id`."""
        return record_id

    @event("AttendeesProcessed")
    def __init__(
        self,
        record_id: uuid.UUID,
        tenant_id: str,
        actor: str,
        order_id: str,
        placed_at: str,
        results: list[JSONObject],
        fingerprint: str = "",
    ) -> None:
        self.tenant_id = tenant_id
        self.order_id = order_id
        self.results = results
        # A keyed hash of placedAt and the normalised attendees (no personal data): a replay
        # with another body is refused. Records written before it have "" and are not compared.
        self.fingerprint = fingerprint


class InvoiceSequence(Aggregate):
    """Invoice numbers of a tenant: sequential, saved with the invoice, so never reused."""

    @staticmethod
    def create_id(sequence_id: uuid.UUID) -> uuid.UUID:
        """The id is computed by the caller with `keyed_id`."""
        return sequence_id

    @event("Started")
    def __init__(self, sequence_id: uuid.UUID) -> None:
        self.last = 0

    @event("NumberIssued")
    def issue(self, number: int, customer_id: str) -> None:
        """Consume the next number."""
        self.last = number
