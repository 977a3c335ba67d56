"""The projections anyone can add, wired into one process: their stores (following the
active generation, like the read models), their backfill when new or of a new version, and
rebuild jobs for every projection, built-in read models included.

A projection whose active generation was built with its current version joins the runner at
once. Otherwise a background rebuild fills a new generation from the start of the log while
the service serves (the old generation, if any, stays readable), switches to it, and only
then hands the projection to the runner, which continues from the new checkpoint.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from entrypoints.adapters import (
    SEARCH_PROJECTION,
    VIEW_PROJECTION,
    Clients,
    make_sink,
)
from projectors.discovery import Catalogue, Discovered, is_internal
from projectors.envelopes import EventLog, open_log
from projectors.partitions import Partitioned
from projectors.rebuild import Progress, RebuildResult, RebuildTarget, rebuild
from projectors.rebuild_jobs import Job, RebuildJobs
from projectors.runner import ProjectionRunner
from read_side.generations import ActiveGeneration
from read_side.ports import SearchModel, ViewModel
from read_side.projections.api import Projection
from read_side.projections.store import ProjectionStore
from shared.clock import utc_now
from shared.settings import Settings

logger = logging.getLogger(__name__)
READ_MODELS = (VIEW_PROJECTION, SEARCH_PROJECTION)


@dataclass
class Plugin:
    """One added projection in this process: what it is, where from, and its live store."""

    projection: Projection
    origin: str
    live: ActiveGeneration[ProjectionStore]
    factory: Callable[[int], ProjectionStore]


def store_factory(
    settings: Settings, clients: Clients, projection: Projection
) -> Callable[[int], ProjectionStore]:
    """A function generation → store of `projection`: its own when it brings one
    (`open_store(settings, generation, clock)`), else MongoDB when configured, else SQLite."""
    own = getattr(projection, "open_store", None)
    if callable(own):
        return lambda generation: cast(ProjectionStore, own(settings, generation, utc_now))
    if clients.mongo is not None:
        from read_side.projections.mongo_store import MongoProjectionStore
        from read_side.projections.redis_mirror import RedisMirror

        client, database = clients.mongo, clients.mongo_database()
        mirror = None
        if clients.redis is not None and is_internal(projection):  # read by key per request
            mirror = RedisMirror(clients.redis, settings.redis_prefix, projection.name)
        return lambda generation: MongoProjectionStore(
            client, database, projection, generation=generation, mirror=mirror
        )
    from read_side.projections.sqlite_store import SQLiteProjectionStore

    path = settings.data_dir / "read_models.db"
    return lambda generation: SQLiteProjectionStore(path, projection, generation=generation)


def open_plugins(settings: Settings, clients: Clients, catalogue: Catalogue) -> dict[str, Plugin]:
    """The stores of every discovered projection (nothing is connected yet)."""
    plugins: dict[str, Plugin] = {}
    for found in catalogue.projections:
        plugins[found.projection.name] = _plugin(settings, clients, found)
    return plugins


def _plugin(settings: Settings, clients: Clients, found: Discovered) -> Plugin:
    factory = store_factory(settings, clients, found.projection)
    return Plugin(found.projection, found.origin, ActiveGeneration(factory), factory)


#: the first pause before a failed backfill starts again; it doubles up to the maximum
BACKFILL_RETRY_SECONDS = 2.0
BACKFILL_RETRY_MAX_SECONDS = 60.0


async def start_plugins(
    plugins: dict[str, Plugin],
    runner: ProjectionRunner,
    jobs: RebuildJobs,
    log: EventLog,
    grace_seconds: float = 3.0,
) -> None:
    """Run each projection built with its current version; backfill the others first."""
    for name, plugin in plugins.items():
        try:
            built = await (await plugin.live.current()).active_version()
        except Exception as error:  # its store is down: the projection waits for a restart
            logger.warning("projection %s cannot start: %r", name, error)
            continue
        if built == plugin.projection.version:
            runner.add(plugin.live)
            continue
        logger.info(
            "projection %s (version %d, built %s) backfills from the start of the log",
            name, plugin.projection.version, built,
        )  # fmt: skip
        grace = 0.0 if built is None else grace_seconds
        backfill = _backfill_when_free(name, plugin, runner, jobs, log, grace_seconds=grace)
        jobs.keep(asyncio.create_task(backfill))


async def _backfill_when_free(
    name: str,
    plugin: Plugin,
    runner: ProjectionRunner,
    jobs: RebuildJobs,
    log: EventLog,
    *,
    grace_seconds: float,
) -> None:
    """Start the backfill; while another rebuild of it runs (the CLI), wait and look again.
    A backfill that fails (SQLite "database is locked" while several backfill at once on a
    fresh store) is started again after a growing pause: left failed, the projection stayed
    `pending` until the next restart. A projection never built before has no readers on its
    old generation: that one is dropped at once (`grace_seconds` 0) rather than after the
    rebuild's grace period."""
    pause = BACKFILL_RETRY_SECONDS
    while True:

        def switched(plugin: Plugin = plugin) -> None:
            plugin.live.refresh()
            runner.add(plugin.live)

        job = plugin_job(plugin, log, switched=switched, grace_seconds=grace_seconds)
        if jobs.start(name, job):
            await jobs.wait(name)
            if not isinstance(jobs.results.get(name), str):
                return
            logger.warning("backfill of %s failed; again in %.0f s", name, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, BACKFILL_RETRY_MAX_SECONDS)
            continue
        await asyncio.sleep(1.0)
        if await (await plugin.live.current()).active_version() == plugin.projection.version:
            runner.add(plugin.live)  # the other rebuild built this version
            return


def plugin_job(
    plugin: Plugin,
    log: EventLog,
    *,
    switched: Callable[[], None] | None = None,
    grace_seconds: float = 3.0,
) -> Job:
    """A blue/green rebuild of an added projection; `switched` runs once readers use the new
    generation (a backfill hands the projection to the runner then)."""

    async def job(progress: Progress) -> RebuildResult:
        opened: list[ProjectionStore] = []

        async def sink_at(generation: int) -> RebuildTarget:
            store = plugin.factory(generation)
            opened.append(store)
            return store

        try:
            await plugin.live.sweep()
            return await rebuild(
                log, sink_at, progress=progress, stage_limit=0, switched=switched,
                grace_seconds=grace_seconds,
            )  # fmt: skip
        finally:
            for store in opened:
                await store.close()

    return job


def read_model_job(
    settings: Settings,
    log: EventLog,
    name: str,
    live: ActiveGeneration[ViewModel] | ActiveGeneration[SearchModel],
) -> Job:
    """A blue/green rebuild of a built-in read model (`customer_view` or `search`), staged in
    worker processes like `customers projections rebuild`."""

    async def job(progress: Progress) -> RebuildResult:
        opened: list[RebuildTarget | Clients] = []

        async def sink_at(generation: int) -> RebuildTarget:
            sink, clients = make_sink(settings, name, generation)
            opened.extend((sink, clients))
            return sink

        try:
            await live.sweep()
            workers = Partitioned(
                open_log=functools.partial(open_log, settings),
                open_sink=functools.partial(make_sink, settings, name),
                workers=rebuild_workers(),
            )
            return await rebuild(
                log, sink_at, progress=progress, partitioned=workers,
                grace_seconds=settings.rebuild_grace_seconds,
            )  # fmt: skip
        finally:
            for item in opened:
                await item.close()

    return job


def rebuild_workers() -> int:
    """Worker processes of a rebuild: one per CPU (at most 4), 1 below 2 CPUs."""
    import os

    return max(1, min(4, os.cpu_count() or 1))
