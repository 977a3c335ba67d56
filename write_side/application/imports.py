"""Importing customers from a file: each row matched by `externalId`, then email, and created
or updated by the customer commands' own decisions.

Rows are read a chunk at a time (the file is streamed: one chunk in memory). A chunk is decided
at once and stored in one transaction (`import_batch`); rows it cannot decide alone, and every
row of a chunk whose save conflicted, go through the executor one by one. After each chunk the
import's progress (the line reached, the counts, the errors) is stored as an event of its
`ImportJob`. A restart resumes after that line: rows already applied are applied again
harmlessly (a row that changes nothing stores nothing), and counted as `unchanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from eventsourcing.persistence import IntegrityError

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands
from write_side.application.decisions import CommandMeta, Decision, Outcome
from write_side.application.import_batch import decide_chunk, outcome_name
from write_side.application.import_create import NewCustomers, Planned
from write_side.application.import_keys import (
    UNKEYED,
    SeenKeys,
    Tally,
    claim_ids,
    has_key,
    match_key,
    repeats,
    row_error,
    take,
)
from write_side.domain.imports import ImportJob
from write_side.imports.rows import Row, RowError, csv_rows, ndjson_rows

#: Rows per chunk: one transaction of about three events a row, one progress event.
CHUNK = 1000
#: Rows of a chunk decided at once (their reads overlap; see `import_batch.decide_chunk`).
DECIDING_THREADS = 8
Progress = Callable[[ImportJob], None]
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
        self._new = NewCustomers(commands, commands.executor.claims)
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
                while chunk := await asyncio.to_thread(take, rows, CHUNK):
                    tally = await self._apply(meta, job, chunk, seen)
                    if tally is not None:
                        last = max(item.line for item in chunk)
                        job.record_progress(last, tally.counts, tally.errors)
                        await self._save(job)
                        if on_progress is not None:
                            on_progress(job)
        finally:
            await asyncio.to_thread(seen.close)
        job.finish()
        await self._save(job)
        path.unlink(missing_ok=True)
        self.seen_path(job.id).unlink(missing_ok=True)
        return job

    async def _apply(
        self,
        meta: CommandMeta,
        job: ImportJob,
        chunk: list[Row | RowError],
        seen: SeenKeys,
    ) -> Tally | None:
        """Apply the rows of `chunk` past the job's line (None: all were applied before)."""
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
            lambda row: self._plan(meta, row, stored[row.line]),
            todo,
            self._threads,
            lambda row: bool(stored[row.line]),
        )
        leftover = decided.deferred
        try:
            if not job.dry_run:
                await asyncio.wrap_future(
                    self._executor.committer.submit(decided.events, decided.phone_rows)
                )
            tally.merge(decided.tally)
        except IntegrityError:
            leftover = todo  # nothing of the chunk was stored: row by row, reading everything
        for row in leftover:
            tally.count(await self._row(meta, row, job.dry_run))
        tally.errors.sort(key=lambda error: int(str(error["line"])))
        return tally

    async def _row(self, meta: CommandMeta, row: Row, dry_run: bool) -> RowError | str:
        """Apply one row on fresh state; its outcome's count name, or why it failed."""
        try:
            if dry_run:
                decision = await asyncio.to_thread(self._decide, meta, row, False)
                changed = decision.customer.collect_events() or decision.events
                return outcome_name(decision.outcome, changed=bool(changed))
            lock = ("import", meta.principal.tenant_id, match_key(row))
            done = await self._executor.run(
                meta, lambda first: self._decide(meta, row, first), lock=lock
            )
        except (ValidationFailed, Conflict, NotFound) as error:
            return row_error(row, error)
        return outcome_name(done.outcome, changed=done.outcome is not Outcome.UNCHANGED)

    def _plan(
        self, meta: CommandMeta, row: Row, stored: list[uuid.UUID]
    ) -> Decision[None] | Planned:
        """A row of the chunk: a new customer's events built directly when none of its claims
        is stored (`import_create`), else the per-row decision on the stored claims."""
        if not stored:
            return self._new.plan(meta.principal, row.data)
        return self._decide(meta, row, True, stored)

    def _decide(
        self, meta: CommandMeta, row: Row, first: bool, stored: list[uuid.UUID] | None = None
    ) -> Decision[None]:
        """Match by externalId, then email; update the match or create a customer. A first
        attempt trusts the chunk's prefetched claims and, having found no holder, assumes the
        claims free; a race makes the save conflict, and the retry reads everything."""
        owner = self._owner(meta.principal.tenant_id, row, stored if first else None)
        if owner is None:
            return self._commands.decide_create(meta.principal, row.data, optimistic=first)
        return self._commands.decide_update(replace(meta, expected_version=None), owner, row.data)

    def _owner(self, tenant_id: str, row: Row, stored: list[uuid.UUID] | None) -> uuid.UUID | None:
        """The customer holding the row's externalId, else its email. `stored` names the
        row's claims known to exist (None: read each); a claim outside it is not read."""
        found = claim_ids(self._executor.claims, tenant_id, row) if stored is None else stored
        for claim_id in found:
            owner = self._executor.claims.owner_of(claim_id)
            if owner is not None:
                return owner
        return None

    async def _prefetch(self, tenant_id: str, rows: list[Row]) -> dict[int, list[uuid.UUID]]:
        """Each row's claims that exist, by line (one query for the chunk; a row's claim ids,
        keyed hashes, are computed once here, not again by each step after)."""
        claims = self._executor.claims

        def read() -> dict[int, list[uuid.UUID]]:
            ids = {row.line: claim_ids(claims, tenant_id, row) for row in rows}
            wanted = [claim_id for found in ids.values() for claim_id in found]
            stored = claims.stored_claims(wanted) if wanted else set()
            return {line: [c for c in found if c in stored] for line, found in ids.items()}

        return await asyncio.to_thread(read)

    async def _save(self, job: ImportJob) -> None:
        events = list(job.collect_events())
        await asyncio.wrap_future(self._executor.committer.submit(events))
