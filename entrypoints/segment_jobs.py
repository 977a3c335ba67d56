"""Segment membership's jobs in the process that runs the projections: the sweep for the
passing of time and, with a broker, the relay of its outbox (`projectors.segment_jobs`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING

from projectors.segment_jobs import relay_loop, sweep_loop
from read_side.segments.projection import MEMBERSHIP
from read_side.segments.store import MembershipStore

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime


Job = Callable[[], Coroutine[None, None, None]]


def segment_jobs(runtime: Runtime) -> dict[str, Job]:
    """The sweep (and the relay when a broker is configured), by lease name: like retention,
    each runs in one process of the deployment at a time."""
    plugin = runtime.plugins.get(MEMBERSHIP)
    if plugin is None:
        return {}
    live = plugin.live

    async def current() -> MembershipStore:
        store = await live.current()
        assert isinstance(store, MembershipStore)
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
