"""Port: what the write side's use cases and the projectors need from the event store.

The use cases decide; the executor, the repository and the claims store their decisions and
read state through this port only. The adapter is `write_side.adapters.event_store.
CustomersApplication` (the eventsourcing `Application` on SQLite or PostgreSQL, with the key
rows, phone rows and hash chain written beside the events); the composition root opens it and
hands it in, so nothing in `application/` knows which database or driver is behind it.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import ApplicationRecorder, Mapper, Recording

from write_side.application.audit_chain import Checkpoint
from write_side.application.audit_verify import Progress, Report
from write_side.application.crypto import WrappedKeyStore
from write_side.application.phone_book import PhoneBook, PhoneRows


class AuditLog(Protocol):
    """The tamper-evident log kept beside the events (hash chain and signed checkpoints)."""

    def hashes(self, customer_id: UUID) -> dict[int, bytes]:
        """The stored hash of each of the customer's events, by version."""
        ...

    def verify(self, customer_id: UUID | None = None, progress: Progress | None = None) -> Report:
        """Recompute the chain (one customer's, or the whole log with its checkpoints)."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """The signed checkpoints, oldest first."""
        ...

    def backfill(self) -> int:
        """Chain the events stored before the chain existed (once, recorded); how many."""
        ...


class EventStore(Protocol):
    """The customers' event store: one ordered log of customer, claim and idempotency events."""

    @property
    def repository(self) -> Repository[UUID]:
        """Aggregates rebuilt from their stored events."""
        ...

    @property
    def recorder(self) -> ApplicationRecorder:
        """The stored events and the global log (positions, notifications)."""
        ...

    @property
    def mapper(self) -> Mapper[UUID]:
        """Stored events to domain events (opening the sealed personal values)."""
        ...

    @property
    def keys(self) -> WrappedKeyStore:
        """The customers' data keys (shredding one erases that customer)."""
        ...

    @property
    def phones(self) -> PhoneBook:
        """Which customers hold a phone number (a keyed hash), written with the events."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The hash chain and its checkpoints."""
        ...

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        phone_rows: PhoneRows = ...,
    ) -> list[Recording[UUID]]:
        """Store the events (and phone rows) in one transaction; `IntegrityError` on a clash."""
        ...

    def close(self) -> None:
        """Release the connections."""
        ...
