"""Scale-out (issue 16 A.1): `projections run` processes on separate data dirs coordinate
only through PostgreSQL, MongoDB and Redis. Two workers split the projections; `kill -9` of a
holder hands its projections to the survivor within 10 s; a holder paused with SIGSTOP until
its leases were taken over wakes up and writes nothing under them. Throughout, every
acknowledged write is readable and counted exactly once in search.

The API process here runs no projections (`create_app(..., run_projections=False)`): reads
wait for the workers' checkpoints through `X-Consistency-Token`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pymongo import MongoClient

from entrypoints.app import create_app
from projectors.discovery import discover
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.e2e.conftest import SECRET
from tests.e2e.scale_out_processes import (
    LeaseTable,
    SharedServices,
    Worker,
    host_on,
    start_worker,
    wait_until,
)

KEYS = {"CUSTOMERS_MASTER_KEY": "scale-out-master-key", "CUSTOMERS_AUDIT_KEY": "scale-audit"}
TAKEOVER_SECONDS = 10.0


class Writes:
    """Customers created through the API, and the checks every one of them must pass."""

    def __init__(self, client: TestClient[Litestar]) -> None:
        token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="s", ttl_seconds=900)
        self.client, self.auth = client, {"Authorization": f"Bearer {token}"}
        self.ids: list[str] = []
        self.token = "0"

    def create(self, count: int) -> None:
        for _ in range(count):
            body = {"firstName": f"N{len(self.ids)}", "lastName": "Scaleout"}
            created = self.client.post("/customers", json=body, headers=self.auth)
            assert created.status_code == 201, created.text
            self.ids.append(created.json()["id"])
            self.token = created.headers["x-consistency-token"]

    def check(self) -> None:
        """Each one readable; search counts each exactly once."""
        consistent = self.auth | {"X-Consistency-Token": self.token}
        for customer in self.ids:
            read = self.client.get(f"/customers/{customer}", headers=consistent)
            assert read.status_code == 200, read.text
        found: list[str] = []
        params: dict[str, Any] = {"q": "scaleout", "limit": 40}  # FerretDB: ≤ ~60 ids a page
        while True:
            page = self.client.get("/customers", params=params, headers=consistent)
            assert page.status_code == 200, page.text
            assert page.json()["total"] == len(self.ids)
            found += [item["id"] for item in page.json()["items"]]
            if not page.json()["nextCursor"]:
                break
            params["cursor"] = page.json()["nextCursor"]
        assert sorted(found) == sorted(self.ids)


@pytest.fixture
def stack(
    tmp_path: Path, postgres_schema_url: str, mongo_url: str, unique_name: str, redis_url: str
) -> Iterator[tuple[Settings, dict[str, str]]]:
    services = SharedServices(postgres_schema_url, mongo_url, unique_name, redis_url, KEYS)
    with host_on(services, tmp_path / "api", 12) as host:
        yield host


def checkpoint_epoch(settings: Settings, name: str) -> int:
    """The lease epoch stored with the active checkpoint of `name` in MongoDB."""
    client: Any = MongoClient(settings.mongo_url)
    try:
        rows = client.get_default_database()["projection_checkpoints"].find({"name": name})
        return max(int(row.get("epoch", 0)) for row in rows)
    finally:
        client.close()


def test_workers_split_take_over_a_killed_holder_and_fence_a_paused_one(
    stack: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = stack
    leases = LeaseTable(str(settings.event_store_url))
    workers: list[Worker] = []
    try:
        first = start_worker("a", tmp_path, env)
        workers.append(first)
        # every projection (added ones once backfilled) and the retention duty
        names = {"customer_view", "search", "retention", *discover().names}
        wait_until("a holds every lease", lambda: names <= leases.held_by(first), 60)
        names = set(leases.live())  # with the leased duties other modules add
        second = start_worker("b", tmp_path, env)
        workers.append(second)
        wait_until("the two split the projections", lambda: bool(leases.held_by(second))
                   and bool(leases.held_by(first)) and set(leases.live()) == names, 30)  # fmt: skip
        with TestClient(create_app(settings, run_projections=False)) as client:
            writes = Writes(client)
            writes.create(30)
            writes.check()

            victim = next(w for w in workers if "search" in leases.held_by(w))
            survivor = first if victim is second else second
            victim.signal(signal.SIGKILL)
            victim.process.wait()
            writes.create(20)  # acknowledged while nobody projects search yet
            took = wait_until("the survivor takes every lease",
                              lambda: leases.held_by(survivor) == names, TAKEOVER_SECONDS)  # fmt: skip
            writes.check()

            third = start_worker("c", tmp_path, env)
            workers.append(third)
            wait_until("the newcomer gets a share", lambda: bool(leases.held_by(third)), 30)
            paused = next(w for w in (survivor, third) if "customer_view" in leases.held_by(w))
            before = leases.live()["customer_view"][1]
            paused.signal(signal.SIGSTOP)
            wait_until("another process takes the paused one's view lease",
                       lambda: leases.live().get("customer_view", (paused.pid, 0))[0] != paused.pid,
                       TAKEOVER_SECONDS)  # fmt: skip
            writes.create(20)
            writes.check()
            epoch = leases.live()["customer_view"][1]
            assert epoch > before
            paused.signal(signal.SIGCONT)
            wait_until(
                "the woken process gives the view up instead of writing",
                lambda: "projection customer_view stops here" in paused.lines(),
                15,
            )
            writes.create(10)
            writes.check()
            assert checkpoint_epoch(settings, "customer_view") >= epoch  # never written back
    finally:
        for worker in workers:
            worker.end()
            print(f"--- worker {worker.name}:\n{worker.lines()[-6000:]}")  # shown on failure
    print(f"takeover after kill -9: {took:.1f} s")
