"""`customers projections run|status|rebuild|retry` and `customers history`."""

from __future__ import annotations

import asyncio
import signal
import uuid

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from entrypoints.adapters import BROKER_RELAY, SEARCH_PROJECTION, VIEW_PROJECTION
from entrypoints.leadership import rebuild_site
from entrypoints.projection_admin import describe, rebuild_job
from entrypoints.runtime import start_runtime
from projectors.chain import check_chain
from projectors.rebuild import RebuildResult
from projectors.rebuild_jobs import Job
from projectors.rebuild_lock import rebuild_lock
from read_side.chain import ChainCheck
from read_side.history import history_items
from shared.settings import Settings

PROJECTIONS = (VIEW_PROJECTION, SEARCH_PROJECTION)
#: everything that can park dead letters: the rebuildable projections and the broker relay
DEAD_LETTER_NAMES = (*PROJECTIONS, BROKER_RELAY)
console = Console(stderr=False)
#: The bar and the summary count the same things: log positions read of the head (email and
#: phone claims, invoice sequences and order records included) and the customer events among
#: them, which are what the projection applies (issue 10.20: the bar said 74/74, the summary 47).
REBUILD_COLUMNS = (
    TextColumn("[bold]{task.description}"),
    BarColumn(),
    TextColumn("position"),
    MofNCompleteColumn(),
    TextColumn("{task.fields[applied]} customer events"),
    TextColumn("{task.fields[rate]:>8.0f}/s"),
    TimeRemainingColumn(),
)


async def run_worker(settings: Settings) -> int:
    """Run only the projections until SIGINT/SIGTERM (the docker-compose worker)."""
    runtime = await start_runtime(settings, projections=True)
    if not runtime.runs_projections:
        console.print("another process already runs the projections for this data dir")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print(f"projections running: {', '.join(PROJECTIONS)}")
    await stop.wait()
    await runtime.stop()
    return 0


async def show_status(settings: Settings) -> int:
    """Print each projection's generation, position, lag and dead letters: every projection
    this configuration runs (the broker relay too when a broker is set), as `/health` does."""
    runtime = await start_runtime(settings, projections=False)
    try:
        described = await describe(runtime)
        table = Table(title=f"projections (event store head {described.head})")
        columns = ("projection", "generation", "position", "lag events", "lag seconds")
        for column in (*columns, "dead letters"):
            table.add_column(column, no_wrap=column == "projection")
        for row in described.items:
            letters = "; ".join(
                f"{d.event_type} @{d.position}: {d.error}" for d in row.dead_letters
            )
            table.add_row(
                row.name,
                str(row.generation or "-"),
                str(row.position),
                str(row.lag_events),
                f"{row.lag_seconds:.1f}",
                letters or "-",
            )
        console.print(table)
        return 0
    finally:
        await runtime.stop()


async def run_rebuild(settings: Settings, names: list[str]) -> int:
    """Blue/green rebuild of the named projections (read models or added ones), each under
    its rebuild lock, with a progress bar."""
    runtime = await start_runtime(settings, projections=False)
    try:
        for name in names:
            job = rebuild_job(runtime, name)
            with rebuild_lock(rebuild_site(settings), name, wait=True):
                result = await _with_bar(name, job)
            console.print(
                f"{name}: generation {result.old_generation} → {result.new_generation}, "
                f"log position {result.position}, {result.events} customer events "
                f"in {result.seconds:.1f}s ({result.rate:.0f} customer events/s)"
            )
        return 0
    finally:
        await runtime.stop()


async def _with_bar(name: str, job: Job) -> RebuildResult:
    with Progress(*REBUILD_COLUMNS, console=console) as bar:
        task = bar.add_task(name, total=None, rate=0.0, applied=0)
        started = asyncio.get_running_loop().time()

        def progress(position: int, head: int, applied: int) -> None:
            elapsed = asyncio.get_running_loop().time() - started
            rate = applied / max(elapsed, 1e-6)
            bar.update(task, completed=position, total=head, rate=rate, applied=applied)

        return await job(progress)


async def clear_dead_letters(settings: Settings, name: str, actor: str) -> int:
    """Forget a projection's dead letters; it resumes from its checkpoint on next start."""
    runtime = await start_runtime(settings, projections=False)
    try:
        cleared = await asyncio.to_thread(runtime.dead_letters.clear, name, actor)
        console.print(
            f"{name}: cleared {cleared} dead letter(s); a running service resumes it from its "
            "checkpoint within seconds (or at its next start)"
        )
        return 0
    finally:
        await runtime.stop()


async def print_history(settings: Settings, tenant: str, customer_id: str) -> int:
    """The audit trail of one customer as a terminal table: each event's hash in the
    tamper-evident log, then whether the customer's chain verifies."""
    runtime = await start_runtime(settings, projections=False)
    try:
        events = await asyncio.to_thread(runtime.log.stream, uuid.UUID(customer_id))
        if not events or events[0].tenant_id != tenant:
            console.print("no such customer in this tenant")
            return 1
        table = Table(title=f"customer {customer_id}")
        for column in ("version", "event", "at", "actor", "changes"):
            table.add_column(column)
        # The first 16 hex digits, as git abbreviates: the endpoint and export carry all 64.
        table.add_column("hash", no_wrap=True, min_width=17)
        for item in history_items(events):
            changes = "\n".join(
                f"{field}: {change['from']!r} → {change['to']!r}"
                for field, change in item["changes"].items()
            )
            table.add_row(
                str(item["version"]),
                item["type"],
                item["occurredAt"],
                str(item["actor"]),
                changes,
                f"{item['hash'][:16]}…" if item["hash"] else "-",
            )
        console.print(table)
        check = await asyncio.to_thread(check_chain, runtime.store, uuid.UUID(customer_id))
        console.print(chain_verdict(check), markup=False)
        return 0
    finally:
        await runtime.stop()


def chain_verdict(check: ChainCheck) -> str:
    """One line: whether the customer's chain in the tamper-evident log verifies."""
    if check.first_broken is None:
        return f"chain verifies: {check.verified} events intact"
    broken = check.first_broken
    return (
        f"chain BROKEN: the event at position {broken.position} (v{broken.version}) was"
        f" {broken.kind}: {broken.detail} ({check.verified} events intact before it)"
    )


async def run_retention_once(settings: Settings, *, dry_run: bool) -> int:
    """`customers retention run [--dry-run]`: erase (or list) customers past retention, and
    expire the loyalty points whose time has come (not in a dry run)."""
    from entrypoints.retention import run_loyalty_expiry, run_retention

    runtime = await start_runtime(settings, projections=False)
    try:
        rows = await run_retention(runtime, dry_run=dry_run)
        table = Table(
            title=f"retention ({settings.retention_days} days){' — dry run' if dry_run else ''}"
        )
        for column in ("tenant", "customer", "deleted at", "erased"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["tenantId"], row["customerId"], row["deletedAt"], str(row["erased"]))
        console.print(table)
        if not dry_run:
            console.print(f"loyalty points expired: {await run_loyalty_expiry(runtime)}")
        return 0
    finally:
        await runtime.stop()
