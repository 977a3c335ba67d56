"""Segments wired into a process: the membership projection's jobs where the projections run
(the sweep for the passing of time and, with a broker, the relay of its outbox:
`projectors.segment_jobs`) and the reads the HTTP handlers use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING

from projectors.segment_jobs import relay_loop, sweep_loop
from read_side.segments.members import SegmentMembers
from read_side.segments.port import SegmentStore
from read_side.segments.projection import MEMBERSHIP
from shared.clock import utc_now

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime
    from read_side.generations import ActiveGeneration
    from read_side.projections.store import ProjectionStore


Job = Callable[[], Coroutine[None, None, None]]


def segment_jobs(runtime: Runtime) -> dict[str, Job]:
    """The sweep (and the relay when a broker is configured), by lease name: like retention,
    each runs in one process of the deployment at a time."""
    plugin = runtime.plugins.get(MEMBERSHIP)
    if plugin is None:
        return {}
    live = plugin.live

    async def current() -> SegmentStore:
        store = await live.current()
        assert isinstance(store, SegmentStore)
        return store

    settings = runtime.settings
    jobs: dict[str, Job] = {
        "segment_sweep": lambda: sweep_loop(current, settings.segment_sweep_interval_seconds)
    }
    if settings.amqp_url:
        from projectors.broker_relay import BrokerRelay
        from projectors.checkpoints import SQLiteCheckpointStore

        relay = BrokerRelay(
            settings.amqp_url,
            SQLiteCheckpointStore(settings.data_dir / "segments.db"),  # unused: no log read
            name="segment_membership_relay",
        )
        jobs["segment_relay"] = lambda: relay_loop(current, relay)
    return jobs


def segment_members(
    runtime: Runtime,
) -> tuple[SegmentMembers, ActiveGeneration[ProjectionStore] | None]:
    """The segment reads, on store instances of their own (own SQLite connection and thread: a
    count is not queued behind a long batch), and those instances (the caller closes them)."""
    from read_side.generations import ActiveGeneration
    from read_side.segments.projection import SegmentMembershipProjection
    from read_side.segments.read_time import ReadTimeMembers

    membership = runtime.plugins.get(MEMBERSHIP)
    readers = ActiveGeneration(membership.factory) if membership is not None else None
    settings = runtime.settings
    members = SegmentMembers(
        readers, clock=utc_now, version=SegmentMembershipProjection.version,
        fallback=ReadTimeMembers(runtime.queries, utc_now),
        head=lambda: asyncio.to_thread(runtime.log.head),
        timeout=settings.consistency_timeout_seconds,
        read_timeout=settings.service_timeout_seconds,
    )  # fmt: skip
    return members, readers
