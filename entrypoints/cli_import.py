"""`customers import FILE --tenant T [--dry-run]`: the import of `POST /imports`, run in this
process with a progress bar (rows/s, ETA) and a summary."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from entrypoints import cli_args
from entrypoints.cli_help import plain_help
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.imports.rows import BadFile, check_start, first_line

if TYPE_CHECKING:
    from write_side.domain.imports import ImportJob

console = Console(stderr=True)
COLUMNS = (
    TextColumn("[bold]{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TextColumn("lines  {task.fields[rate]:,.0f} rows/s"),
    TimeRemainingColumn(),
)
FORMATS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}


def add_import_command(commands: cli_args.Commands, data_dir: str) -> None:
    """Register `customers import`."""
    command = commands.add_parser("import", help="import customers from a CSV or NDJSON file")
    command.add_argument("file", help="a .csv file (header row) or .ndjson / .jsonl file")
    command.add_argument(
        "--tenant", required=True, type=cli_args.name, help="the tenant to import into (required)"
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help=plain_help("validate and match, change nothing", "off"),
    )
    actor = plain_help("the actor recorded in the events", "cli-user")
    command.add_argument("--subject", default="cli-user", type=cli_args.name, help=actor)
    command.add_argument("--data-dir", help=data_dir)
    command.set_defaults(handler=_handler)


def _handler(args: argparse.Namespace) -> int:
    settings = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None)
    path = Path(args.file)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        console.print("customers import: the file must end in .csv, .ndjson or .jsonl")
        return 2
    try:
        with path.open("rb") as stream:
            check_start(file_format, first_line(stream))
    except OSError as error:
        console.print(f"customers import: cannot read {path}: {error.strerror}")
        return 2
    except BadFile as error:
        console.print(f"customers import: {error}")
        return 2
    return asyncio.run(run_import(settings, path, file_format, args.tenant, args.subject,
                                  dry_run=args.dry_run))  # fmt: skip


async def run_import(
    settings: Settings, path: Path, file_format: str, tenant: str, subject: str, *, dry_run: bool
) -> int:
    """Copy the file where the service keeps uploads, record the import, run it here."""
    from entrypoints.runtime import start_runtime  # the service's modules only when importing

    runtime = await start_runtime(settings, projections=False)
    try:
        imports = runtime.imports
        imports.uploads.mkdir(parents=True, exist_ok=True)
        spooled = imports.uploads / f".{uuid.uuid4()}.part"
        lines = await asyncio.to_thread(_copy, path, spooled)
        total = max(lines - 1 if file_format == "csv" else lines, 0)
        principal = Principal(subject=subject, tenant_id=tenant, roles=frozenset({Role.STAFF}))
        job = await imports.start(
            principal, file_format, dry_run=dry_run, total=total, spooled=spooled
        )
        with Progress(*COLUMNS, console=console) as bar:
            task = bar.add_task("importing" if not dry_run else "checking", total=total, rate=0.0)
            started = asyncio.get_running_loop().time()

            def progress(current: ImportJob) -> None:
                elapsed = max(asyncio.get_running_loop().time() - started, 1e-6)
                rate = current.counts["processed"] / elapsed
                bar.update(task, completed=current.line - (file_format == "csv"), rate=rate)

            job = await imports.run(job, on_progress=progress)
            elapsed = asyncio.get_running_loop().time() - started
        _summary(job, elapsed)
        return 1 if job.counts["failed"] or job.status != "done" else 0
    finally:
        await runtime.stop()


def _copy(source: Path, target: Path) -> int:
    lines = 0
    last = b"\n"
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(1024 * 1024):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            writing.write(chunk)
    return lines + (0 if last == b"\n" else 1)


def _summary(job: ImportJob, seconds: float) -> None:
    counts = job.counts
    verb = "would be" if job.dry_run else "were"
    print(f"import {job.id}: {job.status}" + (" (dry run: nothing changed)" if job.dry_run else ""))
    print(f"  {counts['processed']:,} rows in {seconds:.1f}s "
          f"({counts['processed'] / max(seconds, 1e-6):,.0f} rows/s)")  # fmt: skip
    print(f"  {counts['created']:,} {verb} created, {counts['updated']:,} updated, "
          f"{counts['unchanged']:,} unchanged, {counts['failed']:,} failed")  # fmt: skip
    for error in job.errors[:20]:
        print(f"  line {error['line']}: {error['field']}: {error['message']}")
    if counts["failed"] > 20:
        print(f"  … {counts['failed'] - 20:,} more failed rows (GET /imports/{job.id})")
