"""Segment definitions as an aggregate: created, redefined and removed as events of the log,
so history, rebuilds and audits cover them like every other change. A `SegmentList` per tenant
(deterministic id) names the tenant's segments and is saved in the same transaction as the
segment it changes, so listing never misses or invents one.

A definition names no customer: its name, description and filter are the tenant's business
vocabulary, stored in the clear (declared public in `personal_paths`).
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

from shared.errors import Conflict
from shared.json_types import JSONObject

_NAMESPACE = uuid.UUID("3f2b7c1e-8d4a-4e55-9b0c-5a6d7e8f9a01")


class Segment(Aggregate):
    """One segment of a tenant."""

    @event("Defined")
    def __init__(
        self, tenant_id: str, actor: str, name: str, description: str | None, filter: JSONObject
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.description = description
        self.filter = filter
        self.removed = False

    def check_present(self) -> None:
        """A removed segment takes no command."""
        if self.removed:
            raise Conflict("The segment was removed.")

    @event("Redefined")
    def redefine(self, actor: str, name: str, description: str | None, filter: JSONObject) -> None:
        """A new name, description or filter (membership is recomputed from it)."""
        self.name, self.description, self.filter = name, description, filter

    @event("Removed")
    def remove(self, actor: str) -> None:
        """Gone from lists; its events stay in the log."""
        self.removed = True


class SegmentList(Aggregate):
    """The ids of a tenant's segments, in creation order."""

    @staticmethod
    def create_id(tenant_id: str) -> uuid.UUID:
        """One list per tenant."""
        return uuid.uuid5(_NAMESPACE, tenant_id)

    @event("Opened")
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.ids: list[str] = []

    @event("Listed")
    def add(self, segment_id: str) -> None:
        """A new segment."""
        self.ids.append(segment_id)

    @event("Unlisted")
    def drop(self, segment_id: str) -> None:
        """A removed segment."""
        self.ids = [known for known in self.ids if known != segment_id]
