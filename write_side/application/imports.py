"""Importing customers from a file: each row matched by `externalId`, then email, and created
or updated by the customer commands' own decisions.

Rows are read a chunk at a time (the file is streamed: one chunk in memory). A chunk is decided
at once and stored in one transaction (`import_batch`); rows it cannot decide alone, and every
row of a chunk whose save conflicted, go through the executor one by one. A chunk is decided
while the previous one is being stored (its rows touching what that one touches wait, like
rows touching an earlier row of their own chunk: they are decided after it). After each chunk the
import's progress (the line reached, the counts, the errors) is stored as an event of its
`ImportJob`. A restart resumes after that line: rows already applied are applied again
harmlessly (a row that changes nothing stores nothing), and counted as `unchanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.persistence import IntegrityError

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands
from write_side.application.decisions import CommandMeta, Outcome
from write_side.application.import_batch import ChunkDecision, decide_chunk, outcome_name
from write_side.application.import_keys import (
    UNKEYED,
    SeenKeys,
    Tally,
    has_key,
    match_key,
    repeats,
    row_error,
    take,
)
from write_side.application.import_rows import RowDecisions
from write_side.domain.imports import ImportJob
from write_side.imports.rows import Row, RowError, csv_rows, ndjson_rows

#: Rows per chunk: one transaction of about three events a row, one progress event.
CHUNK = 1000
#: Rows of a chunk decided at once (their reads overlap; see `import_batch.decide_chunk`).
DECIDING_THREADS = 8
Progress = Callable[[ImportJob], None]


@dataclass
class InFlight:
    """A decided chunk: its last line, its rows' counts and refusals so far, the rows to
    apply, their decisions, and the commit of its events once handed to the committer."""

    last: int
    tally: Tally
    todo: list[Row]
    decided: ChunkDecision
    saved: Future[int] | None = None


Quiet = Callable[[], contextlib.AbstractContextManager[None]]


class ImportCommands:
    """Start, run, resume and report imports.

    `seen_keys` opens the scratch store of an import's externalIds (an adapter: a file beside
    the upload); `quiet` is held while an import runs (the process's projections wait: see
    `ProjectionRunner.hold`, set by the composition root when this process projects)."""

    def __init__(
        self, commands: CustomerCommands, uploads: Path, seen_keys: Callable[[Path], SeenKeys]
    ) -> None:
        self._commands = commands
        self._executor = commands.executor
        self._rows = RowDecisions(commands)
        self._seen_keys = seen_keys
        self.uploads = uploads
        self.quiet: Quiet = contextlib.nullcontext
        self._tasks: set[asyncio.Task[ImportJob]] = set()
        self._threads: ThreadPoolExecutor | None = None

    def upload_path(self, import_id: uuid.UUID) -> Path:
        """Where an import's file is kept until it is done."""
        return self.uploads / f"{import_id}.upload"

    def seen_path(self, import_id: uuid.UUID) -> Path:
        """Where an import's externalIds met so far are kept until it is done."""
        return self.uploads / f"{import_id}.seen"

    async def start(
        self, principal: Principal, file_format: str, *, dry_run: bool, total: int, spooled: Path
    ) -> ImportJob:
        """Record a new import of the file at `spooled` (moved to `upload_path(id)` first: a
        crash in between leaves a file without an import, which `resume` deletes, never an
        import without its file)."""
        job = ImportJob(
            tenant_id=principal.tenant_id,
            actor=principal.subject,
            file_format=file_format,
            dry_run=dry_run,
            total=total,
        )
        await asyncio.to_thread(spooled.replace, self.upload_path(job.id))
        await self._save(job)
        return job

    def launch(self, job: ImportJob) -> None:
        """Run the import in the background of this process."""
        task = asyncio.get_running_loop().create_task(self.run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume(self) -> int:
        """After a restart: relaunch every import left running; delete files of imports that
        were never recorded. Returns how many were relaunched."""
        relaunched = 0
        paths = await asyncio.to_thread(lambda: sorted(self.uploads.glob("*.upload")))
        for path in paths:
            try:
                import_id = uuid.UUID(path.stem)
            except ValueError:
                continue
            job = await asyncio.to_thread(self._executor.repository.aggregate, import_id, ImportJob)
            if job is None or not job.running:
                await asyncio.to_thread(path.unlink, True)
                await asyncio.to_thread(self.seen_path(import_id).unlink, True)
                continue
            self.launch(job)
            relaunched += 1
        return relaunched

    async def stop(self) -> None:
        """Stop the running imports (they stay `running` in the store and resume later)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)

    async def status(self, tenant_id: str, import_id: uuid.UUID) -> ImportJob:
        """The import's progress; 404 for another tenant's."""
        job = await asyncio.to_thread(self._executor.repository.aggregate, import_id, ImportJob)
        if job is None or job.tenant_id != tenant_id:
            raise NotFound("No import with this id.")
        return job

    async def run(self, job: ImportJob, on_progress: Progress | None = None) -> ImportJob:
        """Apply the file's rows after the job's line; fail the job when the file is gone."""
        path = self.upload_path(job.id)
        if not path.exists():
            job.fail(reason="the uploaded file is no longer available")
            await self._save(job)
            return job
        roles = frozenset({Role.STAFF})
        principal = Principal(subject=job.actor, tenant_id=job.tenant_id, roles=roles)
        meta = CommandMeta(principal=principal)
        seen = await asyncio.to_thread(self._seen_keys, self.seen_path(job.id))
        try:
            with self.quiet(), path.open("rb") as stream:
                rows = csv_rows(stream) if job.file_format == "csv" else ndjson_rows(stream)
                storing: InFlight | None = None
                while chunk := await asyncio.to_thread(take, rows, CHUNK):
                    busy = frozenset(storing.decided.touched) if storing else frozenset()
                    prepared = await self._prepare(meta, job, chunk, seen, busy)
                    if storing is not None:  # decided while the previous chunk was stored
                        await self._finish(meta, job, storing, on_progress)
                    storing = self._store(job, prepared)
                if storing is not None:
                    await self._finish(meta, job, storing, on_progress)
        finally:
            await asyncio.to_thread(seen.close)
        job.finish()
        await self._save(job)
        path.unlink(missing_ok=True)
        self.seen_path(job.id).unlink(missing_ok=True)
        return job

    async def _prepare(
        self,
        meta: CommandMeta,
        job: ImportJob,
        chunk: list[Row | RowError],
        seen: SeenKeys,
        busy: frozenset[uuid.UUID],
    ) -> InFlight | None:
        """Check and decide the rows of `chunk` past the job's line (None: all were applied
        before); rows touching `busy` are deferred (see `import_batch`)."""
        tally = Tally.empty()
        todo: list[Row] = []
        repeated = await asyncio.to_thread(repeats, chunk, seen)
        for item in chunk:
            if item.line <= job.line:
                continue
            if isinstance(item, RowError):
                tally.fail(item)
            elif item.line in repeated:
                tally.fail(RowError(item.line, "externalId", f"repeats line {repeated[item.line]}"))
            elif not has_key(item):
                tally.fail(RowError(item.line, "externalId", UNKEYED))
            else:
                todo.append(item)
        if not todo and not tally.counts["processed"]:
            return None
        stored = await self._prefetch(meta.principal.tenant_id, todo)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(DECIDING_THREADS, thread_name_prefix="import")
        decided = await asyncio.to_thread(
            decide_chunk,
            lambda row: self._rows.plan(meta, row, stored[row.line]),
            todo,
            self._threads,
            lambda row: bool(stored[row.line]),
            busy,
        )
        return InFlight(max(item.line for item in chunk), tally, todo, decided)

    def _store(self, job: ImportJob, prepared: InFlight | None) -> InFlight | None:
        """Hand the chunk's events to the committer (one transaction); not awaited here."""
        if prepared is not None and not job.dry_run and prepared.decided.events:
            decided = prepared.decided
            prepared.saved = self._executor.committer.submit(decided.events, decided.phone_rows)
        return prepared

    async def _finish(
        self,
        meta: CommandMeta,
        job: ImportJob,
        chunk: InFlight | None,
        on_progress: Progress | None,
    ) -> None:
        """Once the chunk is stored: its deferred rows (all its rows when its save conflicted:
        nothing of it was stored) one by one on fresh state, then its progress."""
        if chunk is None:
            return
        tally, leftover = chunk.tally, chunk.decided.deferred
        try:
            if chunk.saved is not None:
                await asyncio.wrap_future(chunk.saved)
            tally.merge(chunk.decided.tally)
        except IntegrityError:
            leftover = chunk.todo
        for row in leftover:
            tally.count(await self._row(meta, row, job.dry_run))
        tally.errors.sort(key=lambda error: int(str(error["line"])))
        job.record_progress(chunk.last, tally.counts, tally.errors)
        await self._save(job)
        if on_progress is not None:
            on_progress(job)

    async def _row(self, meta: CommandMeta, row: Row, dry_run: bool) -> RowError | str:
        """Apply one row on fresh state; its outcome's count name, or why it failed."""
        try:
            if dry_run:
                decision = await asyncio.to_thread(self._rows.decide, meta, row, False)
                changed = decision.customer.collect_events() or decision.events
                return outcome_name(decision.outcome, changed=bool(changed))
            lock = ("import", meta.principal.tenant_id, match_key(row))
            done = await self._executor.run(
                meta, lambda first: self._rows.decide(meta, row, first), lock=lock
            )
        except (ValidationFailed, Conflict, NotFound) as error:
            return row_error(row, error)
        return outcome_name(done.outcome, changed=done.outcome is not Outcome.UNCHANGED)

    async def _prefetch(self, tenant_id: str, rows: list[Row]) -> dict[int, list[uuid.UUID]]:
        return await asyncio.to_thread(self._rows.stored_claims, tenant_id, rows)

    async def _save(self, job: ImportJob) -> None:
        events = list(job.collect_events())
        await asyncio.wrap_future(self._executor.committer.submit(events))
