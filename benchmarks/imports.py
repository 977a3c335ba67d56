"""Benchmark: `POST /imports`' engine and `GET /customers/export`, in-process.

    python -m benchmarks.imports [--rows 100000] [--postgres URL] [--export] [--again]

Each run is a fresh subprocess per size (peak RSS is per process): it writes a CSV of `--rows`
customers (externalId, names, email, phone, tags), imports it (`ImportCommands.run`, as the
service and the CLI do), with `--again` imports it again (must change nothing), and, with
`--export`, waits
for the read models and exports every customer as CSV. Baseline in the same run: creates
through `CustomerCommands.create`, 64 at a time (the API's path without HTTP). Prints rows/s,
the ratio to the baseline, peak RSS, and the export's seconds. PostgreSQL comes from
--postgres, else CUSTOMERS_TEST_POSTGRES_URL (the event store; read models embedded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from shared.principal import Principal, Role
from shared.settings import Settings

PRINCIPAL = Principal(subject="bench", tenant_id="bench", roles=frozenset({Role.STAFF}))


def write_csv(path: Path, rows: int) -> None:
    """A CSV of `rows` distinct customers."""
    with path.open("w") as out:
        out.write("externalId,firstName,lastName,email,phone,tags\n")
        for i in range(rows):
            phone = f"+1415{5550000 + i % 9000:07d}" if i % 3 == 0 else ""
            out.write(f"ext-{i},First{i},Last{i % 997},p{i}@example.com,{phone},vip;t{i % 7}\n")


async def _baseline(settings: Settings, count: int) -> float:
    from entrypoints.runtime import start_runtime
    from write_side.application.commands import ProfileInput
    from write_side.application.decisions import CommandMeta

    runtime = await start_runtime(settings, projections=False)
    try:
        meta = CommandMeta(principal=PRINCIPAL)
        gate = asyncio.Semaphore(64)

        async def one(i: int) -> None:
            fields = {"firstName": f"B{i}", "lastName": "Base", "email": f"b{i}@example.org"}
            async with gate:
                await runtime.commands.create(meta, ProfileInput(fields=fields))

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.perf_counter() - started)
    finally:
        await runtime.stop()


async def _import(settings: Settings, path: Path, rows: int, again: bool) -> dict[str, float]:
    from entrypoints.runtime import start_runtime

    runtime = await start_runtime(settings, projections=True)
    try:
        imports = runtime.imports
        imports.uploads.mkdir(parents=True, exist_ok=True)
        figures: dict[str, float] = {}
        for label in ("first", "again")[: 2 if again else 1]:
            spooled = imports.uploads / f".{uuid.uuid4()}.part"
            spooled.write_bytes(path.read_bytes())
            job = await imports.start(PRINCIPAL, "csv", dry_run=False, total=rows, spooled=spooled)
            started, cpu = time.perf_counter(), time.process_time()
            job = await imports.run(job)
            figures[f"{label}_rows_s"] = rows / (time.perf_counter() - started)
            figures[f"{label}_rows_cpu"] = rows / (time.process_time() - cpu)
            figures[f"{label}_created"] = job.counts["created"]
            figures[f"{label}_failed"] = job.counts["failed"]
        figures["import_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["catch_up_s"] = await _caught_up(runtime)
        figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return figures
    finally:
        await runtime.stop()


async def _caught_up(runtime: Any) -> float:
    """Seconds until every projection of the process has passed the log's head (they wait
    while an import runs, and catch up after it)."""
    started, head = time.perf_counter(), runtime.log.head()
    while min(runtime.runner.positions().values(), default=head) < head:
        if time.perf_counter() - started > 900:
            return float("nan")  # reported as such, never waited for forever
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


async def _export(settings: Settings) -> dict[str, float]:
    """Wait for the read models, then time the export with no projection running: the
    import's runtime stops with projections behind (the timeline's, analytics'...), and
    their catching up used to be timed as the export's."""
    from entrypoints.runtime import start_runtime

    runtime = await start_runtime(settings, projections=True)
    try:
        head = runtime.log.head()
        while await runtime.export.position(None) < head:
            await asyncio.sleep(0.5)
    finally:
        await runtime.stop()
    runtime = await start_runtime(settings, projections=False)
    try:
        figures: dict[str, float] = {}
        for fmt in ("csv", "jsonl"):
            figures |= await _export_once(runtime, fmt)
        return figures
    finally:
        await runtime.stop()


async def _export_once(runtime: Any, fmt: str) -> dict[str, float]:
    from read_side.export_format import writer_for
    from read_side.ports import ListQuery

    writer = writer_for(fmt)
    started, cpu = time.perf_counter(), time.process_time()
    position = await runtime.export.position(None)
    count, size = 0, len(writer.header())
    batch = []
    query = ListQuery(tenant_id="bench")
    async for doc in runtime.export.documents(query, position, fields=writer.fields):
        batch.append(doc)
        if len(batch) == 200:
            size += len(writer.rows(batch))
            count += len(batch)
            batch = []
    size += len(writer.rows(batch))
    count += len(batch)
    return {
        f"export_{fmt}_s": time.perf_counter() - started,
        f"export_{fmt}_cpu": time.process_time() - cpu,
        "exported": count,
        f"export_{fmt}_mb": size / 2**20,
    }


def fresh_schema(url: str | None) -> str | None:
    """The PostgreSQL URL with a schema of its own (a run never meets another's rows)."""
    if not url:
        return None
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}schema=bench{uuid.uuid4().hex[:10]}"


def child(args: argparse.Namespace) -> None:
    """One measured run (in its own process)."""
    if args.export_only:  # the data dir of an earlier run: its export again
        settings = Settings(data_dir=Path(args.export_only), jwt_secret="x" * 40)
        print(json.dumps({"rows": args.rows} | asyncio.run(_export(settings))))
        return
    data_dir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    given, args.postgres = args.postgres, fresh_schema(args.postgres)
    settings = Settings(data_dir=data_dir, event_store_url=args.postgres or None,
                        jwt_secret="x" * 40)  # fmt: skip
    path = data_dir / "customers.csv"
    write_csv(path, args.rows)
    figures: dict[str, float] = {"rows": args.rows}
    figures |= asyncio.run(_import(settings, path, args.rows, args.again))
    if args.export:
        figures |= asyncio.run(_export(settings))
    base = Settings(data_dir=data_dir / "base", event_store_url=fresh_schema(given),
                    jwt_secret="x" * 40)  # fmt: skip
    figures["baseline_creates_s"] = asyncio.run(_baseline(base, min(args.rows, 3000)))
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--export", action="store_true")
    parser.add_argument("--again", action="store_true", help="import the file a second time")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--export-only", default=None, help="time the export of this data dir")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    command = [sys.executable, "-m", "benchmarks.imports", "--child", "--rows", str(args.rows)]
    if args.postgres:
        command += ["--postgres", args.postgres]
    command += [flag for flag, on in (("--export", args.export), ("--again", args.again)) if on]
    if args.export_only:
        command += ["--export-only", args.export_only]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=dict(os.environ))
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    store = "PostgreSQL" if args.postgres else "SQLite (embedded)"
    if args.export_only:
        report_export(figures)
        return
    report(store, args.rows, figures)


def report_export(f: dict[str, float]) -> None:
    """The export's figures alone."""
    for fmt in ("csv", "jsonl"):
        print(f"  export      {f['exported']:,.0f} customers as {fmt} in "
              f"{f[f'export_{fmt}_s']:.1f}s wall, {f[f'export_{fmt}_cpu']:.1f}s CPU "
              f"({f[f'export_{fmt}_mb']:,.1f} MB)")  # fmt: skip


def report(store: str, rows: int, f: dict[str, float]) -> None:
    """The figures as text, with the ratio to the baseline measured in the same run."""
    ratio = f["first_rows_s"] / f["baseline_creates_s"]
    print(f"{store}, {rows:,} rows (machine load {os.getloadavg()[0]:.1f})")
    print(f"  import      {f['first_rows_s']:,.0f} rows/s wall, {f['first_rows_cpu']:,.0f} rows "
          f"per CPU s; {ratio:.2f}x the API path's {f['baseline_creates_s']:,.0f} creates/s; "
          f"created {f['first_created']:,.0f}, failed {f['first_failed']:,.0f}")  # fmt: skip
    if "again_rows_s" in f:
        print(f"  same again  {f['again_rows_s']:,.0f} rows/s, created {f['again_created']:,.0f}")
    print(f"  projections caught up {f['catch_up_s']:.1f}s after the import")
    print(f"  peak RSS    {f['import_rss_mb']:,.0f} MB importing, {f['rss_mb']:,.0f} MB "
          "with the projections caught up")  # fmt: skip
    for fmt in ("csv", "jsonl"):
        if f"export_{fmt}_s" in f:
            print(f"  export      {f['exported']:,.0f} customers as {fmt} in "
                  f"{f[f'export_{fmt}_s']:.1f}s wall, {f[f'export_{fmt}_cpu']:.1f}s CPU "
                  f"({f[f'export_{fmt}_mb']:,.1f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
