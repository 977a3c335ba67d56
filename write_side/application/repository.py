"""Typed reads of stored aggregates for the use cases: customers within a tenant, claims by id.

The use cases never touch the eventsourcing application: they read through this, decide, and
hand the new events to the executor.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from shared.errors import NotFound
from write_side.application.ports import EventStore
from write_side.domain.customer import Customer

A = TypeVar("A", bound=Aggregate)


class CustomerRepository:
    """Customers by tenant and id (another tenant's customer looks missing), claims by id."""

    def __init__(self, app: EventStore) -> None:
        self._app = app

    def get(self, tenant_id: str, customer_id: uuid.UUID) -> Customer:
        """The current customer, or `NotFound` (also for another tenant's customer)."""
        customer = self.find(tenant_id, customer_id)
        if customer is None:
            raise NotFound("No customer with this id.")
        return customer

    def find(self, tenant_id: str, customer_id: uuid.UUID) -> Customer | None:
        """The current customer, or None (also for another tenant's customer)."""
        customer = self.aggregate(customer_id, Customer)
        if customer is None or customer.tenant_id != tenant_id:
            return None
        return customer

    def current(self, tenant_id: str, customer_id: uuid.UUID) -> Customer:
        """The customer, or the one it was merged into (and so on): where its orders,
        payments and identifiers are now (`NotFound` as `get`)."""
        customer = self.get(tenant_id, customer_id)
        for _ in range(100):  # a chain of merges; a cycle cannot be recorded, but bound it
            if customer.merged_into is None or customer.state != "merged":
                return customer
            customer = self.get(tenant_id, uuid.UUID(customer.merged_into))
        return customer

    def load(self, tenant_id: str, customer_id: uuid.UUID, expected: int | None) -> Customer:
        """The customer to change, refused when the caller saw another version."""
        customer = self.get(tenant_id, customer_id)
        customer.check_version(expected)
        return customer

    def at_version(self, customer_id: uuid.UUID, version: int) -> Customer:
        """The customer as it was at `version` (the answer to a replayed command)."""
        customer: Any = self._app.repository.get(customer_id, version=version)
        if not isinstance(customer, Customer):
            raise NotFound("No customer with this id.")
        return customer

    def aggregate(self, aggregate_id: uuid.UUID, kind: type[A]) -> A | None:
        """The aggregate with this id if it is a `kind`, else None."""
        try:
            found: Any = self._app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def position(self) -> int:
        """The log's last position (the consistency token of a command that stored nothing)."""
        return self._app.recorder.max_notification_id() or 0
