"""The engagement reads wired to the projections that serve them in this process."""

from __future__ import annotations

import asyncio

from entrypoints.event_readers import newest_events
from entrypoints.plugins import Plugin
from projectors.envelopes import EventLog
from read_side.consistency import ConsistencyWaiter
from read_side.contactability_projection import CONTACTABILITY
from read_side.engagement import EngagementReads
from read_side.projections.served import ServedBy
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from read_side.timeline_projection import TIMELINE
from shared.settings import Settings


def engagement_reads(
    settings: Settings,
    records: CustomerRecords,
    queries: CustomerQueries,
    log: EventLog,
    plugins: dict[str, Plugin],
) -> EngagementReads:
    """The engagement reads; the timeline and contactability served by their projections
    once built."""
    return EngagementReads(
        records, queries, newest_events(log),
        timeline=_served(settings, log, plugins.get(TIMELINE)),
        contacts=_served(settings, log, plugins.get(CONTACTABILITY)),
    )  # fmt: skip


def _served(settings: Settings, log: EventLog, plugin: Plugin | None) -> ServedBy | None:
    if plugin is None:
        return None
    live = plugin.live

    async def checkpoint() -> int:  # not `live.checkpoint`: that pins the runner's batch
        return await (await live.current()).checkpoint()

    waiter = ConsistencyWaiter(
        [checkpoint],
        head=lambda: asyncio.to_thread(log.head),
        timeout=settings.consistency_timeout_seconds,
        read_timeout=settings.service_timeout_seconds,
    )
    return ServedBy(
        live, plugin.projection.version, waiter=waiter, timeout=settings.service_timeout_seconds
    )
