"""Ports of the read side. Each has an embedded (SQLite) and a real-service adapter, and one
contract test suite in `tests/contract/` that both pass.

Generations make blue/green rebuilds possible: every adapter instance works on one
generation (a collection / key namespace / table suffix). A rebuild fills generation N+1 from
position 0 while generation N serves, then `activate(N+1)` switches readers atomically and the
old generation is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from read_side.events import EventEnvelope
from read_side.views import CustomerDoc

SORT_KEYS = ("createdAt", "updatedAt", "firstName", "lastName", "email", "lastVisitAt")


@dataclass(frozen=True)
class ListQuery:
    """`GET /customers` after parameter validation. `sort` is a key of SORT_KEYS, optionally
    prefixed with `-` for descending. `cursor` is an opaque string produced by the adapter."""

    tenant_id: str
    text: str | None = None
    type: str | None = None
    state: str = "active"
    email: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()
    consent: str | None = None
    external_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: str = "-createdAt"
    limit: int = 20
    cursor: str | None = None


@dataclass
class Page:
    """One page of customer ids in sort order, the total matching, and the next cursor."""

    ids: list[str]
    total: int
    next_cursor: str | None = None
    docs: list[CustomerDoc] = field(default_factory=list)


class InvalidCursor(ValueError):
    """The cursor was not produced by this adapter for this query."""


class ProjectionSink(Protocol):
    """Where a projection writes. `apply` must be idempotent (version-guarded per customer)
    and must store the checkpoint only after the batch is durable."""

    name: str

    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        ...

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch of events (in log order), then store `position` as the checkpoint."""
        ...


class CustomerViewStore(ProjectionSink, Protocol):
    """The customer documents (MongoDB, or SQLite embedded)."""

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        """A document of that tenant (any state), or None."""
        ...

    async def get_many(
        self, tenant_id: str, customer_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[CustomerDoc]:
        """Documents for the ids that exist in that tenant, in the order of `customer_ids`;
        with `fields`, only those top-level fields and `id` (a field a document lacks is
        None): a bulk reader decodes a fraction of each document."""
        ...


class SearchIndex(ProjectionSink, Protocol):
    """Search, filters, sorting and pagination (Redis, or SQLite embedded)."""

    async def search(self, query: ListQuery) -> Page:
        """Matching ids in sort order (ties broken by id), `total`, and `next_cursor`."""
        ...

    async def candidates(self, tenant_id: str, keys: Sequence[str]) -> list[str]:
        """Ids of the active customers filed under any of these match keys
        (`read_side.search.match_keys`): per key the first `PER_KEY` by id, keys in order,
        each id once."""
        ...


class ManagedGeneration(ProjectionSink, Protocol):
    """What every read-model adapter offers beyond its port: one generation of the model,
    managed for blue/green rebuilds (and tests)."""

    generation: int

    async def write_fresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Insert final documents of customers this generation does not hold yet (a rebuild's
        in-memory staging), without reading; the checkpoint does not move."""
        ...

    async def activate(self) -> None:
        """Make this adapter's generation the active one for its `name`."""
        ...

    async def active_generation(self) -> int:
        """The active generation for `name` (1 when none was recorded)."""
        ...

    async def generations(self) -> set[int]:
        """Every generation of `name` that holds data or a checkpoint."""
        ...

    async def ensure_indexes(self) -> None:
        """Create this generation's query indexes that are missing (idempotent; a no-op where
        the schema carries them)."""
        ...

    async def drop(self) -> None:
        """Delete this generation's data and checkpoint."""
        ...

    async def close(self) -> None:
        """Release what the adapter owns."""
        ...


class ViewModel(CustomerViewStore, ManagedGeneration, Protocol):
    """The view store as the composition root holds it: the port, its generation management,
    and what retention and the status command ask of it."""

    async def count(self) -> int:
        """Documents in this generation."""
        ...

    async def deleted_before(self, cutoff: str) -> list[tuple[str, str, str]]:
        """(tenantId, id, deletedAt) of customers deleted before `cutoff` (ISO UTC)."""
        ...

    async def loyalty_due(self, cutoff: str) -> list[tuple[str, str]]:
        """(tenantId, id) of customers whose unspent points expire at or before `cutoff`."""
        ...


class SearchModel(SearchIndex, ManagedGeneration, Protocol):
    """The search index as the composition root holds it."""
