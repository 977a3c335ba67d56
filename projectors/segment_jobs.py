"""The two jobs segment membership needs besides its projection, run where the projections run:

- the sweep: every `interval` seconds the serving generation re-evaluates the customers whose
  last visit crossed a `lastVisitWithinDays` / `noVisitWithinDays` boundary (the clock is the
  store's, injectable);
- the outbox relay: membership changes (`segment.member_added` / `segment.member_removed`,
  `data: {segmentId}`) are published on `customers.events` with publisher confirms and removed
  from the outbox only once confirmed. At least once: `message_id` is stable per change
  (generation and outbox sequence), so consumers dedupe as for every other event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import aio_pika

from projectors.broker_relay import BrokerRelay
from read_side.segments.port import SegmentStore
from read_side.segments.reads import Message
from shared.integration import CustomerIntegrationEvent, encode

logger = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("5c1d7a52-2f0e-4b7a-9e61-0d3f4b8a6c19")

Current = Callable[[], Awaitable[SegmentStore]]


async def sweep_loop(current: Current, interval_seconds: float) -> None:
    """Sweep at once (a rebuilt or restarted generation catches up with time), then every
    `interval_seconds`."""
    while True:
        try:
            changed = await (await current()).sweep()
            if changed:
                logger.info("segment sweep moved members", extra={"count": changed})
        except Exception:
            logger.exception("segment sweep failed; will retry at the next interval")
        await asyncio.sleep(interval_seconds)


async def relay_once(store: SegmentStore, relay: BrokerRelay, limit: int = 500) -> int:
    """Publish the oldest outbox entries; how many were confirmed (and forgotten)."""
    pending = await store.pending(limit)
    if not pending:
        return 0
    await relay.publish([_message(store.generation, item) for item in pending])
    await store.acknowledge(pending[-1].seq)
    return len(pending)


async def relay_loop(current: Current, relay: BrokerRelay, poll_seconds: float = 0.5) -> None:
    """Drain the outbox of the serving generation until cancelled (broker failures are
    retried); the relay's connection is closed on the way out."""
    try:
        while True:
            try:
                if await relay_once(await current(), relay) > 0:
                    continue
            except Exception as error:
                logger.warning("segment membership relay: %s", error)
                await asyncio.sleep(max(poll_seconds, 1.0))
            await asyncio.sleep(poll_seconds)
    finally:
        await relay.close()


def _message(generation: int, item: Message) -> tuple[str, aio_pika.Message]:
    event = CustomerIntegrationEvent(
        event_id=str(uuid.uuid5(_NAMESPACE, f"{generation}:{item.seq}")),
        type=item.kind,
        occurred_at=item.at,
        tenant_id=item.tenant_id,
        customer_id=item.customer_id,
        version=item.version,
        data={"segmentId": item.segment_id},
    )
    message = aio_pika.Message(
        encode(event),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=event.event_id,
        type=event.type,
        app_id="customer-management",
    )
    return event.type, message
