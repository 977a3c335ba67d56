"""`kill -9` of `customers projections rebuild` right after it switched generations leaves the
old generation behind (the rebuild drops it only after a grace period). Erasure never reaches
a generation nobody reads, so the next projector start must drop it: afterwards no byte of the
read models holds the erased customer's values, in every profile."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient

from entrypoints.adapters import SEARCH_PROJECTION, VIEW_PROJECTION, make_sink
from entrypoints.app import create_app
from shared.settings import Settings
from tests.e2e.conftest import SECRET, Headers
from tests.e2e.erasure_probes import everything_in_read_models

PROFILE = {
    "firstName": "Zorobabel",
    "lastName": "Killrebuildson",
    "email": "zorobabel.kill@example.org",
    "notes": "killnote mango",
}
NEEDLES = ["zorobabel", "killrebuildson", "killnote"]


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment of a CLI process on the same stores as `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    env["CUSTOMERS_JWT_SECRET"] = SECRET
    env["CUSTOMERS_DATA_DIR"] = str(settings.data_dir)
    for name, value in (
        ("CUSTOMERS_EVENT_STORE_URL", settings.event_store_url),
        ("CUSTOMERS_MONGO_URL", settings.mongo_url),
        ("CUSTOMERS_REDIS_URL", settings.redis_url),
    ):
        if value:
            env[name] = value
    return env


async def _kill_after_switch(settings: Settings, name: str) -> int:
    """Start a rebuild of `name`; `kill -9` it as soon as the active generation moved (one
    adapter polls: opening a SQLite connection per poll beside a process being killed once
    crashed the test with SIGBUS in `journal_mode = WAL`). Returns the rebuild's exit code."""
    sink, clients = make_sink(settings, name, 1)
    try:
        before = await sink.active_generation()
        command = [sys.executable, "-m", "entrypoints.cli", "projections", "rebuild", name]
        process = subprocess.Popen(
            command, env=cli_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 90
        try:
            while await sink.active_generation() == before:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the rebuild never switched"
                await asyncio.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        return process.returncode
    finally:
        await sink.close()
        await clients.close()


def kill_rebuild_after_switch(settings: Settings, name: str) -> None:
    """Start a rebuild of `name` and `kill -9` it as soon as it activated the new generation
    (before its grace period ends and it drops the old one)."""
    returncode = asyncio.run(_kill_after_switch(settings, name))
    assert returncode == -signal.SIGKILL  # killed mid-switch, not finished


def test_a_rebuild_killed_mid_switch_leaves_no_erased_value(
    settings: Settings, auth: Callable[..., Headers]
) -> None:
    admin = auth("admin")
    with TestClient(create_app(settings)) as client:
        created = client.post("/customers", json=PROFILE, headers=admin)
        assert created.status_code == 201, created.text
        zeb = created.json()["id"]
        token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
        found = client.get("/customers", params={"q": "zorobabel"}, headers=admin | token)
        assert found.json()["total"] == 1
    for name in (VIEW_PROJECTION, SEARCH_PROJECTION):
        kill_rebuild_after_switch(settings, name)

    with TestClient(create_app(settings)) as client:
        erased = client.post(f"/customers/{zeb}/erase", params={"reason": "ok"}, headers=admin)
        assert erased.status_code == 200, erased.text
        token = {"X-Consistency-Token": erased.headers["x-consistency-token"]}
        after: Any = client.get(f"/customers/{zeb}", headers=admin | token).json()
        assert after["state"] == "erased"
        client.get("/customers", params={"q": "x"}, headers=admin | token)
        dump = everything_in_read_models(client).lower()
    assert [needle for needle in NEEDLES if needle in dump] == []
