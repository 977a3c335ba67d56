"""Worker processes die with their parent, even one killed with SIGKILL (no cleanup runs):
`customers projections rebuild` staging in workers (they ran on forever, blocked on their task
queue once their partition was written) and `customers serve --workers 2` (its HTTP workers
went on serving and projecting with no supervisor)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.eventfill import fill
from entrypoints.adapters import VIEW_PROJECTION
from shared.settings import Settings
from tests.e2e.conftest import SECRET
from tests.e2e.test_killed_rebuild import cli_env
from tests.e2e.test_serve_console import free_port
from write_side.adapters.event_store import open_event_store

DEATH_SECONDS = 45
EVENTS = 21_000  # over `Partitioned.min_events`: the rebuild stages in worker processes


def children(pid: int) -> list[int]:
    """The live child processes of `pid`, from Linux /proc."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def assert_children_die_with(process: subprocess.Popen[bytes], spawned: list[int]) -> None:
    """SIGKILL `process`, then every pid of `spawned` must be gone within `DEATH_SECONDS`.

    An armed child dies at once; a worker still importing when its parent dies (one answering
    worker is enough for the port to answer) arms its death signal only once its app is built,
    sees then that its parent is gone and kills itself — at a load of 10 on two cores that took
    more than 5 s in the clean-clone CI, so the bound is generous; what is tested is that no
    child survives, not how fast an import runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    deadline = time.monotonic() + DEATH_SECONDS
    while any(running(pid) for pid in spawned) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in spawned if running(pid)]
    for pid in survivors:  # do not leave them behind for the rest of the suite
        subprocess.run(["kill", "-9", str(pid)], check=False)
    assert survivors == [], f"{len(survivors)} of {len(spawned)} children outlived the parent"


def wait_for_workers(process: subprocess.Popen[bytes], count: int) -> list[int]:
    """The children of `process` once `count` of them are spawned workers (past start-up)."""
    deadline = time.monotonic() + 120
    while sum(is_worker(pid) for pid in children(process.pid)) < count:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"no {count} worker processes within 120 s"
        time.sleep(0.05)
    time.sleep(0.5)
    return children(process.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_rebuild_killed_by_sigkill(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    app = open_event_store(settings)
    try:
        fill(app, EVENTS, random.Random(9))
    finally:
        app.close()
    command = [sys.executable, "-m", "entrypoints.cli", "projections", "rebuild", VIEW_PROJECTION]
    process = subprocess.Popen(
        command, env=cli_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        spawned = wait_for_workers(process, 2)  # staging the log
    except BaseException:
        process.kill()
        raise
    assert_children_die_with(process, spawned)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_http_workers_die_with_serve_killed_by_sigkill(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2",
               "--port", str(port)]  # fmt: skip
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    process = subprocess.Popen(
        command, env=cli_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        spawned = wait_for_workers(process, 2)
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert time.monotonic() < deadline, "serve --workers 2 never answered"
            time.sleep(0.1)
    except BaseException:
        process.kill()
        raise
    assert_children_die_with(process, spawned)
    assert not _answers(port)  # nobody serves the port any more


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
