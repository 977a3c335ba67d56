"""The port of a projection's document store: one generation of one projection's documents,
managed like the built-in read models (blue/green rebuilds, sweeps of stale generations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from read_side.events import EventEnvelope
from read_side.projections.api import Document

#: Names a projection may not take: the built-in read models and the relay keep their
#: tables, collections and checkpoints under them.
RESERVED = ("customer_view", "search", "broker_relay")


@dataclass(frozen=True)
class KeyedDocument:
    """One stored document and its key (within a tenant)."""

    key: str
    doc: Document


class ProjectionStore(Protocol):
    """One generation of a projection's documents."""

    name: str
    generation: int

    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        ...

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Fold a batch (idempotently) and store `position` as the checkpoint."""
        ...

    async def find(self, tenant_id: str, prefix: str = "") -> list[KeyedDocument]:
        """The tenant's non-empty documents whose key starts with `prefix`, by key."""
        ...

    async def get(self, tenant_id: str, key: str) -> KeyedDocument | None:
        """One document by its key (None when absent or empty)."""
        ...

    async def activate(self) -> None:
        """Make this generation the active one, recording the projection's version."""
        ...

    async def active_generation(self) -> int:
        """The active generation (1 when none was recorded)."""
        ...

    async def active_version(self) -> int | None:
        """The projection version the active generation was built with (None: never built)."""
        ...

    async def generations(self) -> set[int]:
        """Every generation that holds data or a checkpoint."""
        ...

    async def ensure_indexes(self) -> None:
        """Create missing query indexes (idempotent)."""
        ...

    async def drop(self) -> None:
        """Delete this generation's documents and checkpoint."""
        ...

    async def close(self) -> None:
        """Release what the adapter owns."""
        ...


def is_reserved(name: str) -> bool:
    """True when `name` would share tables or checkpoints with a built-in read model."""
    return any(name == taken or name.startswith(f"{taken}_") for taken in RESERVED)
