"""Wiring of the bulk operations (export, import) to the event log and the read models."""

from __future__ import annotations

import asyncio
import uuid

from projectors.envelopes import EventLog
from read_side.events import EventEnvelope
from read_side.export import CustomerExport
from read_side.queries import CustomerQueries
from write_side.application.ports import EventStore


def build_export(store: EventStore, queries: CustomerQueries) -> CustomerExport:
    """The export over its own log reader (no shared batch cache: its reads are its own)."""
    log = EventLog(store, keep=0)

    async def changes(after: int, limit: int) -> tuple[list[EventEnvelope], int]:
        batch = await asyncio.to_thread(log.read, after, limit)
        return batch.envelopes, batch.last_position

    async def stream(customer_id: str) -> list[EventEnvelope]:
        return await asyncio.to_thread(log.stream, uuid.UUID(customer_id))

    return CustomerExport(queries, changes, stream)
