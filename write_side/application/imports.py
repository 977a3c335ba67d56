"""Importing customers from a file: each row matched by `externalId`, then email, and created
or updated through the customer commands' own decisions and the executor (group commit).

Rows are applied a chunk at a time, concurrently within the chunk (one lock per matching key
keeps rows about one customer in file order); after each chunk the import's progress (the
line reached, the counts, the errors) is stored as an event of its `ImportJob`. A restart
resumes after that line: rows already applied are applied again harmlessly (a row that
changes nothing stores nothing), and counted as `unchanged`.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from shared.errors import Conflict, NotFound, ValidationFailed
from shared.principal import Principal, Role
from write_side.application.claims import Claims
from write_side.application.commands import CustomerCommands
from write_side.application.decisions import CommandMeta, Decision, Outcome
from write_side.domain.imports import ImportJob
from write_side.domain.values import InvalidValue, normalize_email, normalize_external_id
from write_side.imports.rows import Row, RowError, csv_rows, ndjson_rows

CHUNK = 500
#: A row that nothing could match would create its customer again on every import of the file.
UNKEYED = "is required when the row has no email (else importing the file again would repeat it)"
Progress = Callable[[ImportJob], None]


@dataclass
class _Tally:
    counts: dict[str, int]
    errors: list[dict[str, object]]

    @classmethod
    def empty(cls) -> _Tally:
        names = ("processed", "created", "updated", "unchanged", "failed")
        return cls(dict.fromkeys(names, 0), [])

    def fail(self, error: RowError) -> None:
        self.counts["processed"] += 1
        self.counts["failed"] += 1
        self.errors.append({"line": error.line, "field": error.field, "message": error.message})


class ImportCommands:
    """Start, run, resume and report imports."""

    def __init__(self, commands: CustomerCommands, uploads: Path) -> None:
        self._commands = commands
        self._executor = commands.executor
        self.uploads = uploads
        self._tasks: set[asyncio.Task[ImportJob]] = set()

    def upload_path(self, import_id: uuid.UUID) -> Path:
        """Where an import's file is kept until it is done."""
        return self.uploads / f"{import_id}.upload"

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
                continue
            self.launch(job)
            relaunched += 1
        return relaunched

    async def stop(self) -> None:
        """Stop the running imports (they stay `running` in the store and resume later)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

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
        seen: dict[bytes, int] = {}
        with path.open("rb") as stream:
            rows = csv_rows(stream) if job.file_format == "csv" else ndjson_rows(stream)
            while True:
                chunk = await asyncio.to_thread(_take, rows, CHUNK)
                if not chunk:
                    break
                tally = await self._apply(meta, job, chunk, seen)
                if tally is not None:
                    last = max(item.line for item in chunk)
                    job.record_progress(last, tally.counts, tally.errors)
                    await self._save(job)
                    if on_progress is not None:
                        on_progress(job)
        job.finish()
        await self._save(job)
        path.unlink(missing_ok=True)
        return job

    async def _apply(
        self,
        meta: CommandMeta,
        job: ImportJob,
        chunk: list[Row | RowError],
        seen: dict[bytes, int],
    ) -> _Tally | None:
        """Apply the rows of `chunk` past the job's line (None: all were applied before)."""
        tally = _Tally.empty()
        todo: list[Row] = []
        for item in chunk:
            duplicate = _repeats(item, seen)
            if item.line <= job.line:
                continue
            if isinstance(item, RowError):
                tally.fail(item)
            elif duplicate is not None:
                tally.fail(RowError(item.line, "externalId", f"repeats line {duplicate}"))
            elif not _has_key(item):
                tally.fail(RowError(item.line, "externalId", UNKEYED))
            else:
                todo.append(item)
        if not todo and not tally.counts["processed"]:
            return None
        stored = await self._prefetch(meta.principal.tenant_id, todo)
        tasks = [self._row(meta, row, job.dry_run, stored) for row in todo]
        for result in await asyncio.gather(*tasks):
            if isinstance(result, RowError):
                tally.fail(result)
            else:
                tally.counts["processed"] += 1
                tally.counts[result] += 1
        tally.errors.sort(key=lambda error: int(str(error["line"])))
        return tally

    async def _row(
        self, meta: CommandMeta, row: Row, dry_run: bool, stored: set[uuid.UUID]
    ) -> RowError | str:
        """Apply one row; its outcome's count name, or why it failed."""
        key = _match_key(row)
        try:
            if dry_run:
                decision = await asyncio.to_thread(self._decide, meta, row, False, stored)
                changed = decision.customer.collect_events() or decision.events
                outcome = decision.outcome if changed else Outcome.UNCHANGED
            else:
                lock = ("import", meta.principal.tenant_id, key)
                done = await self._executor.run(
                    meta, lambda first: self._decide(meta, row, first, stored), lock=lock
                )
                outcome = done.outcome
        except ValidationFailed as error:
            if not error.errors:
                return RowError(row.line, "row", error.detail)
            return RowError(row.line, error.errors[0].field, error.errors[0].message)
        except (Conflict, NotFound) as error:
            return RowError(row.line, _conflict_field(str(error)), str(error))
        return {Outcome.CREATED: "created", Outcome.CHANGED: "updated"}.get(outcome, "unchanged")

    def _decide(
        self, meta: CommandMeta, row: Row, first: bool, stored: set[uuid.UUID] | None = None
    ) -> Decision[None]:
        """Match by externalId, then email; update the match or create a customer. A first
        attempt trusts the chunk's prefetched claims and, having found no holder, assumes the
        claims free; a race makes the save conflict, and the retry reads everything."""
        owner = self._owner(meta.principal.tenant_id, row, stored if first else None)
        if owner is None:
            return self._commands.decide_create(meta.principal, row.data, optimistic=first)
        return self._commands.decide_update(replace(meta, expected_version=None), owner, row.data)

    def _owner(self, tenant_id: str, row: Row, stored: set[uuid.UUID] | None) -> uuid.UUID | None:
        """The customer holding the row's externalId, else its email. `stored` names the
        claims known to exist (None: read each); a claim outside it is not read."""
        for claim_id in _claim_ids(self._executor.claims, tenant_id, row):
            if stored is not None and claim_id not in stored:
                continue
            owner = self._executor.claims.owner_of(claim_id)
            if owner is not None:
                return owner
        return None

    async def _prefetch(self, tenant_id: str, rows: list[Row]) -> set[uuid.UUID]:
        """The claims of these rows that exist (one query for the chunk)."""
        claims = self._executor.claims
        wanted = [claim_id for row in rows for claim_id in _claim_ids(claims, tenant_id, row)]
        return await asyncio.to_thread(claims.stored_claims, wanted) if wanted else set()

    async def _save(self, job: ImportJob) -> None:
        events = list(job.collect_events())
        await asyncio.wrap_future(self._executor.committer.submit(events))


def _claim_ids(claims: Claims, tenant_id: str, row: Row) -> list[uuid.UUID]:
    """The ids of the claims a row is matched by: its externalId's, then its email's."""
    found = []
    external_id, email = row.data.fields.get("externalId"), row.data.fields.get("email")
    try:
        if isinstance(external_id, str):
            found.append(claims.external_id_claim_id(tenant_id, normalize_external_id(external_id)))
    except InvalidValue:
        pass  # the decision reports the bad value
    try:
        if isinstance(email, str):
            found.append(claims.email_claim_id(tenant_id, normalize_email(email)))
    except InvalidValue:
        pass
    return found


def _take(rows: Iterator[Row | RowError], size: int) -> list[Row | RowError]:
    chunk: list[Row | RowError] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            break
    return chunk


def _repeats(item: Row | RowError, seen: dict[bytes, int]) -> int | None:
    """The earlier line with this row's externalId, if any (remembered as an 8-byte digest)."""
    if isinstance(item, RowError):
        return None
    value = item.data.fields.get("externalId")
    if not isinstance(value, str) or not value.strip():
        return None
    digest = hashlib.blake2b(value.strip().encode(), digest_size=8).digest()
    first = seen.setdefault(digest, item.line)
    return first if first != item.line else None


def _has_key(row: Row) -> bool:
    """Whether the row names an externalId or an email to be matched by."""
    return any(
        isinstance(row.data.fields.get(name), str) and str(row.data.fields[name]).strip()
        for name in ("externalId", "email")
    )


def _match_key(row: Row) -> str:
    for name in ("externalId", "email"):
        value = row.data.fields.get(name)
        if isinstance(value, str) and value.strip():
            return f"{name}:{value.strip().casefold()}"
    return f"line:{row.line}"


def _conflict_field(message: str) -> str:
    return "externalId" if "externalId" in message else "email" if "email" in message else "row"
