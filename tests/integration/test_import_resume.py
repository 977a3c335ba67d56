"""Imports on PostgreSQL: a restart mid-import resumes it (every row applied once, none
lost), a lost upload is reported failed, and the same file twice changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from entrypoints.runtime import Runtime, start_runtime
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.domain.imports import ImportJob

ROWS = 1600  # four chunks
PRINCIPAL = Principal(subject="importer", tenant_id="acme", roles=frozenset({Role.STAFF}))


def write_file(path: Path) -> None:
    lines = ["externalId,firstName,email"]
    lines += [f"x-{i},Name{i},n{i}@example.com" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def settings(tmp_path: Path, postgres_schema_url: str) -> Settings:
    return Settings(data_dir=tmp_path, event_store_url=postgres_schema_url, jwt_secret="x" * 40)


async def start_import(runtime: Runtime, source: Path) -> ImportJob:
    imports = runtime.imports
    imports.uploads.mkdir(parents=True, exist_ok=True)
    spooled = imports.uploads / f".{uuid.uuid4()}.part"
    spooled.write_bytes(source.read_bytes())
    return await imports.start(PRINCIPAL, "csv", dry_run=False, total=ROWS, spooled=spooled)


async def wait_done(runtime: Runtime, job_id: uuid.UUID) -> ImportJob:
    for _ in range(1200):
        job = await runtime.imports.status("acme", job_id)
        if not job.running:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


def owners(runtime: Runtime) -> set[uuid.UUID | None]:
    claims = runtime.commands.executor.claims
    return {claims.external_id_owner("acme", f"x-{i}") for i in range(ROWS)}


async def test_a_restart_resumes_the_import(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    write_file(source)
    runtime = await start_runtime(settings)
    job = await start_import(runtime, source)
    runtime.imports.launch(job)
    for _ in range(1200):  # until the first chunk's progress is stored
        current = await runtime.imports.status("acme", job.id)
        if current.line:
            break
        await asyncio.sleep(0.02)
    assert current.running and 0 < current.line < ROWS + 1
    await runtime.stop()  # a restart: the import stops mid-file

    runtime = await start_runtime(settings)  # resumes it
    try:
        done = await wait_done(runtime, job.id)
        assert done.status == "done" and done.line == ROWS + 1
        counts = done.counts
        assert counts["processed"] == ROWS and counts["failed"] == 0
        assert counts["created"] + counts["unchanged"] == ROWS and counts["created"] >= 1
        found = owners(runtime)
        assert None not in found and len(found) == ROWS  # every row once, none twice
        upload = runtime.imports.upload_path(job.id)
        for _ in range(100):  # the file is deleted just after `done` is stored
            if not upload.exists():
                break
            await asyncio.sleep(0.02)
        assert not upload.exists()
    finally:
        await runtime.stop()


async def test_a_lost_upload_is_reported_failed(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    write_file(source)
    runtime = await start_runtime(settings)
    try:
        job = await start_import(runtime, source)
        runtime.imports.upload_path(job.id).unlink()
        failed = await runtime.imports.run(job)
        assert failed.status == "failed" and failed.reason
        assert (await runtime.imports.status("acme", job.id)).status == "failed"
    finally:
        await runtime.stop()


async def test_the_same_file_twice_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    write_file(source)
    runtime = await start_runtime(settings)
    try:
        first = await runtime.imports.run(await start_import(runtime, source))
        assert first.counts["created"] == ROWS
        store = runtime.store
        head = store.recorder.max_notification_id() or 0
        second = await runtime.imports.run(await start_import(runtime, source))
        assert (second.counts["created"], second.counts["updated"]) == (0, 0)
        assert second.counts["unchanged"] == ROWS
        job_events = len(store.recorder.select_events(second.id))
        assert (
            store.recorder.max_notification_id() or 0
        ) - head == job_events  # only the job's own
    finally:
        await runtime.stop()
