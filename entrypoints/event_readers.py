"""Readers of the event log for the read side's queries, run off the event loop (the store's
reads are blocking): a customer's stream, its loyalty ledger, the chain check, a timeline page."""

from __future__ import annotations

import asyncio
import uuid

from projectors.chain import check_chain
from projectors.envelopes import EventLog
from read_side.chain import ChainCheck, ChainVerifier
from read_side.events import EventEnvelope
from read_side.queries import EventStream
from read_side.timeline import NewestEvents
from write_side.adapters.event_store import CustomersApplication


def event_readers(
    store: CustomersApplication, log: EventLog
) -> tuple[EventStream, ChainVerifier, EventStream]:
    """A customer's event stream, the log's verification and the customer's loyalty ledger,
    read off the event loop."""

    async def stream(customer_id: str) -> list[EventEnvelope]:
        try:
            parsed = uuid.UUID(customer_id)
        except ValueError:
            return []
        return await asyncio.to_thread(log.stream, parsed)

    async def ledger(customer_id: str) -> list[EventEnvelope]:
        return await asyncio.to_thread(log.ledger_stream, uuid.UUID(customer_id))

    async def chain(customer_id: str | None) -> ChainCheck:
        parsed = None if customer_id is None else uuid.UUID(customer_id)
        return await asyncio.to_thread(check_chain, store, parsed)

    return stream, chain, ledger


def newest_events(log: EventLog) -> NewestEvents:
    """The end of a customer's stream, read off the event loop (timeline pages)."""

    async def newest(customer_id: str, below: int | None, limit: int) -> list[EventEnvelope]:
        try:
            parsed = uuid.UUID(customer_id)
        except ValueError:
            return []
        return await asyncio.to_thread(log.newest, parsed, below, limit)

    return newest


def first_events(log: EventLog) -> EventStream:
    """A customer's first event alone (a list of at most one): who owns a customer whose
    later events were edited by hand and no longer decode."""
    newest = newest_events(log)

    async def first(customer_id: str) -> list[EventEnvelope]:
        return await newest(customer_id, 2, 1)

    return first
