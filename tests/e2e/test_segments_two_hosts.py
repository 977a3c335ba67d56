"""Segment membership across hosts (issue 16 A.2, issue 13.2): with a PostgreSQL event store
the projection's store lives in PostgreSQL, so a process on another host — another data
dir — reads the counts and members that the lease holder projected, and no host keeps a
`segments.db` of its own.

Host A is a `customers projections run` process (it holds every lease, the membership
projection's included); host B is an API process running no projections, on a data dir of
its own. Segment reads on B wait for A's checkpoint through `X-Consistency-Token`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from read_side.segments.pg_tables import schema_of
from shared.adapters.pg_notify import conninfo_for
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.e2e.conftest import SECRET
from tests.e2e.scale_out_processes import (
    LeaseTable,
    SharedServices,
    host_on,
    start_worker,
    wait_until,
)

KEYS = {"CUSTOMERS_MASTER_KEY": "two-hosts-master-key", "CUSTOMERS_AUDIT_KEY": "two-hosts"}


@pytest.fixture
def hosts(
    tmp_path: Path, postgres_schema_url: str, mongo_url: str, unique_name: str, redis_url: str
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Host B's settings and host A's environment: the same services, separate data dirs."""
    services = SharedServices(postgres_schema_url, mongo_url, unique_name, redis_url, KEYS)
    with host_on(services, tmp_path / "b", 13) as host:
        yield host


def test_another_host_reads_the_counts_and_members_the_lease_holder_projected(
    hosts: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = hosts
    leases = LeaseTable(str(settings.event_store_url))
    worker = start_worker("a", tmp_path, env)
    try:
        wait_until("host A holds the membership lease",
                   lambda: "segment_membership" in leases.held_by(worker), 90)  # fmt: skip
        with TestClient(create_app(settings, run_projections=False)) as client:
            token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="b", ttl_seconds=600)
            admin = {"Authorization": f"Bearer {token}"}
            ids = [_create(client, admin, i) for i in range(5)]
            segment = client.post("/segments", json={"name": "two", "filter": {"tag": ["two"]}},
                                  headers=admin)  # fmt: skip
            assert segment.status_code == 201, segment.text
            url = f"/segments/{segment.json()['id']}"
            consistent = admin | {"X-Consistency-Token": segment.headers["x-consistency-token"]}
            members = _members(client, url, consistent)
            assert client.app.state.segment_members._built  # read from the projection
            assert client.get(url, headers=consistent).json()["count"] == 5
            listed = client.get("/customers", params={"tag": "two"}, headers=consistent).json()
            assert members == [item["id"] for item in listed["items"]]  # newest first
            assert sorted(members) == sorted(ids)
            assert _projected_count(settings) == 5  # host A wrote it into PostgreSQL
    finally:
        worker.end()
        print(worker.lines()[-4000:])  # shown on failure
    assert not list(tmp_path.rglob("segments.db*"))  # no host keeps a file of its own


def _create(client: TestClient[Litestar], admin: dict[str, str], index: int) -> str:
    body = {"firstName": f"Two{index}", "email": f"two{index}@example.com", "tags": ["two"]}
    created = client.post("/customers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _members(client: TestClient[Litestar], url: str, headers: dict[str, str]) -> list[str]:
    """Every member, two a page, once the projection (not the read-time fallback) answers."""
    deadline = time.monotonic() + 60
    while not client.app.state.segment_members._built:  # A's first backfill may still run
        assert time.monotonic() < deadline, "the membership projection was never built"
        assert client.get(f"{url}/members", headers=headers).status_code in (200, 503)
        time.sleep(0.2)
    found: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = client.get(f"{url}/members", params=params, headers=headers)
        assert page.status_code == 200 and page.json()["total"] == 5, page.text
        found += [item["id"] for item in page.json()["items"]]
        if not page.json()["nextCursor"]:
            return found
        params["cursor"] = page.json()["nextCursor"]


def _projected_count(settings: Settings) -> int:
    url = str(settings.event_store_url)
    with psycopg.connect(conninfo_for(url)) as db:
        (active,) = db.execute(
            f'SELECT active FROM "{schema_of(url)}".projection_generations '  # noqa: S608
            "WHERE name = 'segment_membership'"
        ).fetchone() or (0,)
        row = db.execute(
            f'SELECT sum(count) FROM "{schema_of(url)}".segment_membership_g{int(active)}_counts'  # noqa: S608
        ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
