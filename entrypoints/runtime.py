"""Everything one process runs, started and stopped in order (the composition root's core)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from entrypoints.adapters import ReadAdapters, open_read_adapters
from entrypoints.bulk import build_export
from entrypoints.engagement_wiring import engagement_reads
from entrypoints.event_readers import event_readers, first_events
from entrypoints.leadership import open_leases, rebuild_site
from entrypoints.lifecycle import (
    Sweepable,
    background,
    projector_lock,
    start_consumer,
    sweep_stale_generations,
)
from entrypoints.plugins import Plugin, open_plugins, start_plugins
from entrypoints.retention import retention_loop
from entrypoints.segments_wiring import Job, segment_jobs
from projectors.alert_relay import AlertRelay
from projectors.broker_relay import BrokerRelay
from projectors.checkpoints import CheckpointStore, MongoCheckpointStore, SQLiteCheckpointStore
from projectors.dead_letters import DeadLetterBook
from projectors.discovery import Catalogue, discover
from projectors.envelopes import EventLog
from projectors.leased_runner import LeasedRunner
from projectors.leases import Leases, run_leased
from projectors.pacing import Pacer
from projectors.rebuild_jobs import RebuildJobs
from projectors.runner import ProjectionRunner
from read_side.cache import CachingViewSink, MemoryDocCache, NoDocCache
from read_side.consistency import ConsistencyWaiter
from read_side.engagement import EngagementReads
from read_side.export import CustomerExport
from read_side.ports import ProjectionSink
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from read_side.rendered_cache import RenderedCache, sweep_every
from shared.adapters.pg_notify import PgChannel
from shared.settings import Settings
from write_side.adapters.event_store import CustomersApplication, open_event_store
from write_side.adapters.import_seen import open_seen_keys
from write_side.application.attendees import AttendeeProcessing
from write_side.application.commands import CustomerCommands
from write_side.application.commerce import CommerceCommands
from write_side.application.engagement import EngagementCommands
from write_side.application.executor import CommandExecutor
from write_side.application.imports import ImportCommands
from write_side.application.loyalty import LoyaltyCommands
from write_side.application.phone_backfill import backfill_phone_book
from write_side.application.privacy import PrivacyCommands
from write_side.inbound.consumer import InboundConsumer
from write_side.inbound.handlers import InboundHandlers

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The wired service: write side, read side, projections."""

    settings: Settings
    store: CustomersApplication
    commands: CustomerCommands
    log: EventLog
    read: ReadAdapters
    queries: CustomerQueries
    runner: ProjectionRunner
    dead_letters: DeadLetterBook
    records: CustomerRecords
    attendees: AttendeeProcessing
    commerce: CommerceCommands
    privacy: PrivacyCommands
    loyalty: LoyaltyCommands
    engagement: EngagementCommands
    engagement_reads: EngagementReads
    export: CustomerExport
    imports: ImportCommands
    resources: AsyncExitStack = field(repr=False)
    runs_projections: bool = False
    resumes_imports: bool = False
    consumer: InboundConsumer | None = None
    alert_relay: AlertRelay | None = None
    catalogue: Catalogue = field(default_factory=lambda: Catalogue(()))
    plugins: dict[str, Plugin] = field(default_factory=dict)
    rebuilds: RebuildJobs | None = None

    async def stop(self) -> None:
        """Stop background tasks, consumers and projections, flush commands, close
        connections: everything opened, in reverse order of opening."""
        await self.resources.aclose()


async def start_runtime(settings: Settings, *, projections: bool = True) -> Runtime:
    """Open the event store and read models; start the projections if this process may.
    What a failing step leaves open is closed before the error propagates."""
    async with AsyncExitStack() as resources:
        runtime = await _open(settings, resources)
        await _prepare(runtime.read)
        if settings.amqp_url:  # an erasure also removes the dead-lettered messages naming them
            handlers = InboundHandlers(runtime.attendees, runtime.commerce, runtime.engagement)
            inbound = InboundConsumer(settings.amqp_url, handlers)
            runtime.privacy.before_erase.append(inbound.forget_customer)
        wakeup = _connect_processes(runtime, resources)
        if projections:
            lock = projector_lock(settings)  # the data dir's own duties (imports to resume)
            if lock is not None:
                resources.callback(lock.close)
            leases = runtime.runner.leases if isinstance(runtime.runner, LeasedRunner) else None
            if lock is not None or leases is not None:  # with leases, every process competes
                await _run_projections(runtime, resources, wakeup, leases)
            else:
                logger.info("another process runs the projections for this data dir")
            runtime.resumes_imports = lock is not None
            if settings.amqp_url:
                # Every serving process consumes (competing consumers; effects are idempotent),
                # so `serve --workers N` spreads inbound orders and payments over N processes.
                runtime.consumer = inbound
                resources.push_async_callback(inbound.stop)
                await start_consumer(inbound, resources)
        resources.push_async_callback(runtime.imports.stop)
        if runtime.resumes_imports:  # one process per data dir resumes its imports
            await runtime.imports.resume()
        if not runtime.runs_projections and isinstance(runtime.read.cache, MemoryDocCache):
            # Only the projecting process invalidates its in-process cache; another process's
            # would serve an erased or changed customer until evicted, so it reads the store.
            runtime.read.cache = runtime.queries.cache = NoDocCache()
        if isinstance(runtime.read.cache, RenderedCache):
            background(resources, sweep_every(runtime.read.cache))
        runtime.resources = resources.pop_all()
        return runtime
    raise AssertionError("unreachable: the stack re-raises or the block returns")


async def _open(settings: Settings, resources: AsyncExitStack) -> Runtime:
    """The event store, the read models and the use cases over them, each closed by
    `resources` (the stack closes them in reverse: commands, read models, store)."""
    store = await asyncio.to_thread(open_event_store, settings)
    resources.callback(store.close)
    read = open_read_adapters(settings)
    resources.push_async_callback(read.close)
    executor = CommandExecutor(
        store, index_key=store.index_key, max_batch=settings.group_commit_max_batch
    )
    resources.push_async_callback(asyncio.to_thread, executor.close)
    region = settings.default_phone_region
    commands = CustomerCommands(executor, default_region=region)
    await asyncio.to_thread(backfill_phone_book, store, executor.claims)
    log = EventLog(store)
    dead_letters = DeadLetterBook(store)
    sinks: list[ProjectionSink] = [CachingViewSink(read.views, read.cache), read.index]
    relay = _broker_relay(settings, read)
    if relay is not None:
        resources.push_async_callback(relay.close)
        sinks.append(relay)
    runner = ProjectionRunner(log, sinks, dead_letters, pacer=(pacer := Pacer.serving(settings)))
    leases = open_leases(settings)
    if leases is not None:  # processes on any host share the projections through PostgreSQL
        resources.push_async_callback(leases.close)
        runner = LeasedRunner(log, sinks, dead_letters, leases=leases, pacer=pacer)
    queries = _queries(settings, store, log, read, runner)
    attendees = AttendeeProcessing(executor, default_region=region)
    records = CustomerRecords(queries, read.audit)
    catalogue = discover()
    plugins = open_plugins(settings, read.clients, catalogue)
    for plugin in plugins.values():
        resources.push_async_callback(plugin.live.close)
    rebuilds = RebuildJobs(rebuild_site(settings))
    resources.push_async_callback(rebuilds.stop)
    return Runtime(
        settings=settings,
        store=store,
        commands=commands,
        log=log,
        read=read,
        queries=queries,
        runner=runner,
        dead_letters=dead_letters,
        records=records,
        attendees=attendees,
        commerce=CommerceCommands(executor, attendees),
        privacy=PrivacyCommands(executor),
        loyalty=LoyaltyCommands(executor),
        engagement=EngagementCommands(executor),
        engagement_reads=engagement_reads(settings, records, queries, log, plugins),
        export=build_export(store, queries),
        imports=ImportCommands(commands, settings.data_dir / "imports", open_seen_keys),
        resources=resources,
        catalogue=catalogue,
        plugins=plugins,
        rebuilds=rebuilds,
    )


def _queries(
    settings: Settings,
    store: CustomersApplication,
    log: EventLog,
    read: ReadAdapters,
    runner: ProjectionRunner,
) -> CustomerQueries:
    """The read use cases, waiting for the projections a read depends on."""
    waiter, search_waiter = (
        ConsistencyWaiter(
            checkpoints,
            head=lambda: asyncio.to_thread(log.head),
            timeout=settings.consistency_timeout_seconds,
            read_timeout=settings.service_timeout_seconds,
            on_wait=runner.wanted,  # lifts an import's hold and a burst's deferral
        )
        # A document read needs only the view store: it works while the search index is down.
        for checkpoints in ([read.views.checkpoint], [read.views.checkpoint, read.index.checkpoint])
    )
    stream, chain, ledger = event_readers(store, log)
    return CustomerQueries(
        read.views,
        read.index,
        read.cache,
        waiter,
        stream,
        search_waiter=search_waiter,
        timeout=settings.service_timeout_seconds,
        chain=chain,
        ledger_stream=ledger,
        first_event=first_events(log),
    )


async def _run_projections(
    runtime: Runtime, resources: AsyncExitStack, wakeup: PgChannel | None, leases: Leases | None
) -> None:
    """This process holds the projector lock, or competes for leases: sweep, project, and
    run the single-process jobs (retention, the security-alert relay), each under a lease."""
    settings, runner = runtime.settings, runtime.runner
    await sweep_generations(runtime)
    runtime.commands.executor.committer.on_commit.append(runner.notify)
    if wakeup is not None:
        # After a lost LISTEN connection, commits made meanwhile woke nobody: catch up.
        wakeup.listen(lambda _payload: runner.notify(), on_reconnect=runner.notify)
    await runner.start()
    resources.push_async_callback(runner.stop)
    runtime.imports.quiet = runner.hold  # projected after each import, not while it runs
    assert runtime.rebuilds is not None
    await start_plugins(
        runtime.plugins, runner, runtime.rebuilds, runtime.log, settings.rebuild_grace_seconds
    )
    runtime.runs_projections = True
    every = settings.retention_interval_seconds
    jobs: dict[str, Job] = {"retention": lambda: retention_loop(runtime, every)}
    jobs.update(segment_jobs(runtime))
    if settings.amqp_url:  # security alerts out, from the same single process
        relay = runtime.alert_relay = AlertRelay(settings.amqp_url, runtime.read.alerts)
        jobs["alert_relay"] = relay.run
    for name, job in jobs.items():
        background(resources, job() if leases is None else run_leased(leases, name, job))


async def sweep_generations(runtime: Runtime) -> None:
    """Drop read-model and added projections' generations left by an interrupted rebuild."""
    lives: list[Sweepable] = [runtime.read.views, runtime.read.index]
    lives += [plugin.live for plugin in runtime.plugins.values()]
    await sweep_stale_generations(rebuild_site(runtime.settings), lives)


def _connect_processes(runtime: Runtime, resources: AsyncExitStack) -> PgChannel | None:
    """With PostgreSQL, the processes of a deployment signal each other (LISTEN/NOTIFY):
    commits wake the projecting process at once, and an erasure evicts the customer's key from
    every process's cache at once. Returns the wake-up channel (None on embedded SQLite)."""
    url = runtime.settings.event_store_url or ""
    if not url or url.startswith("sqlite"):
        return None
    wakeup, shredded = PgChannel(url, "events"), PgChannel(url, "shredded")
    for channel in (wakeup, shredded):
        resources.push_async_callback(asyncio.to_thread, channel.close)
    runtime.commands.executor.committer.on_commit.append(lambda: wakeup.send())
    keys = runtime.store.keys
    keys.on_shred.append(lambda customer_id: shredded.send(str(customer_id)))
    shredded.listen(lambda payload: keys.forget(uuid.UUID(payload)), on_reconnect=keys.forget_all)
    return wakeup


def _broker_relay(settings: Settings, read: ReadAdapters) -> BrokerRelay | None:
    """The outbound integration-event relay, when a broker is configured."""
    if not settings.amqp_url:
        return None
    checkpoints: CheckpointStore = SQLiteCheckpointStore(settings.data_dir / "read_models.db")
    if read.clients.mongo is not None:
        checkpoints = MongoCheckpointStore(read.clients.mongo, read.clients.mongo_database())
    return BrokerRelay(settings.amqp_url, checkpoints)


async def _prepare(read: ReadAdapters) -> None:
    """The serving view store has its query indexes (created when missing)."""
    await (await read.views.current()).ensure_indexes()
