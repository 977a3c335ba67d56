"""In-memory staging of a rebuild: documents of a generation nobody reads yet evolve in place
and are written once, with the sink's `write_fresh` (plain inserts, no reads)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from projectors.envelopes import LogBatch
from read_side.views import CustomerDoc, evolve_in_place

FRESH_CHUNK = 2000  # documents per write_fresh call


@runtime_checkable
class FreshWriter(Protocol):
    """A sink that can write a new generation's documents in one go (the read models do; a
    plug-in projection's store need not)."""

    async def write_fresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Write documents into an empty generation."""
        ...


class Staging:
    """Documents of the new generation evolving in memory until they are written once.

    Inactive when `limit` is 0 or the sink has no `write_fresh`; `flush` ends it (the caller
    then goes on batch by batch through `apply`)."""

    def __init__(self, target: object, limit: int) -> None:
        self.writer = target if isinstance(target, FreshWriter) else None
        self.limit = limit
        self.docs: dict[tuple[str, str], CustomerDoc] = {}
        self.active = limit > 0 and self.writer is not None

    def stage(self, batch: LogBatch) -> None:
        """Evolve the batch's documents in memory."""
        docs = self.docs
        for event in batch.envelopes:
            key = (event.tenant_id, event.customer_id)
            doc = evolve_in_place(docs.get(key), event)
            if doc is not None:
                docs[key] = doc

    async def flush(self) -> None:
        """Write every staged document once, then stop staging. Two chunks are in flight, so
        the sink prepares one while its server (or SQLite, outside the GIL) writes the other."""
        docs: Sequence[CustomerDoc] = list(self.docs.values())
        self.docs, self.active = {}, False
        if self.writer is None:
            return
        in_flight: asyncio.Task[None] | None = None
        for start in range(0, len(docs), FRESH_CHUNK):
            chunk = docs[start : start + FRESH_CHUNK]
            task = asyncio.ensure_future(self.writer.write_fresh(chunk))
            if in_flight is not None:
                await in_flight
            in_flight = task
        if in_flight is not None:
            await in_flight
