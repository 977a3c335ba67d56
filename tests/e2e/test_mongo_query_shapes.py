"""Every query the service sends to MongoDB names the tenant (issue 16 A.3): with the shard key
`{tenantId: 1, _id: 1}` (docs/scaling.md) a router then sends it to one shard. A workload
of every kind of read and write runs against the real services with pymongo's command
monitoring on the service's own client; each find / aggregate / count / update / delete filter
must carry `tenantId` and each insert into a sharded collection the field, unless it is one of
the documented exceptions (`tests/e2e/mongo_shapes.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

import entrypoints.adapters as adapters
from entrypoints.app import create_app
from entrypoints.retention import run_loyalty_expiry, run_retention
from shared.json_types import JSONObject
from shared.settings import Settings
from tests.e2e.conftest import SECRET, Headers, fresh_redis_database, stored_position
from tests.e2e.mongo_shapes import Recorder, Shape, carries_tenant
from tests.e2e.test_access_audit_routes import PERSONAL_READS, full_customer

Client = TestClient[Litestar]


@pytest.fixture
def recorded(
    tmp_path: Path,
    postgres_schema_url: str,
    mongo_url: str,
    redis_url: str,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Client, Recorder]]:
    """The app on PostgreSQL, MongoDB-wire and Redis, its MongoDB client monitored."""
    from pymongo import AsyncMongoClient

    recorder = Recorder()

    def monitored(settings: Settings) -> AsyncMongoClient[JSONObject]:
        timeouts = adapters.mongo_timeouts(settings)
        return AsyncMongoClient(
            settings.mongo_url,
            tz_aware=True,
            event_listeners=[recorder],
            **timeouts,  # type: ignore[arg-type]
        )

    monkeypatch.setattr(adapters, "open_mongo", monitored)
    settings = Settings(
        data_dir=tmp_path,
        event_store_url=postgres_schema_url,
        mongo_url=f"{mongo_url.rstrip('/')}/{unique_name}",
        redis_url=fresh_redis_database(redis_url),
        jwt_secret=SECRET,
    )
    with TestClient(create_app(settings)) as client:
        yield client, recorder


def workload(client: Client, auth: Callable[..., Headers]) -> None:
    """Creates, updates, deletes and restores; lists, searches and filters; every personal
    read; segments, analytics, exports, projections' documents, the audit and admin reads;
    the retention and loyalty-expiry sweeps."""
    fixture = full_customer(client, auth)
    for name in ("Bob", "Cy"):
        made = client.post("/customers", json={"firstName": name, "tags": ["vip"]}, headers=auth())
        assert made.status_code == 201, made.text
    changed = client.patch(f"/customers/{made.json()['id']}", json={"lastName": "Doe"},
                           headers=auth())  # fmt: skip
    assert changed.is_success, changed.text
    assert client.delete(f"/customers/{made.json()['id']}", headers=auth()).is_success
    assert client.post(f"/customers/{made.json()['id']}/restore", headers=auth()).is_success
    for route in PERSONAL_READS.values():
        for read in route:
            assert read.call(client, auth, fixture).status_code == 200
    token = {"X-Consistency-Token": str(stored_position(client))}
    admin, analyst = auth() | token, auth("analyst") | token
    for params in ({"tag": "vip"}, {"email": "ann@example.com"}, {"sort": "lastName"},
                   {"state": "active", "type": "new"}, {"q": "bob"}):  # fmt: skip
        assert client.get("/customers", params=params, headers=admin).status_code == 200
    segment = client.post("/segments", json={"name": "v", "filter": {"tag": ["vip"]}},
                          headers=analyst).json()  # fmt: skip
    reads = [
        "/segments", f"/segments/{segment['id']}", f"/segments/{segment['id']}/members",
        f"/segments/{segment['id']}/export?purpose=marketing_email", "/analytics/overview", "/analytics/cohorts",
        "/customers/export", "/projections/analytics_cohorts/documents", "/audit/alerts",
        f"/audit/access?customerId={fixture.customer_id}", "/audit/access/verify",
        "/admin/projections",
    ]  # fmt: skip
    for path in reads:
        reader = auth("auditor") | token if "audit" in path or "export" in path else admin
        answer = client.get(path, headers=reader)
        assert answer.status_code == 200, (path, answer.text)
    runtime = client.app.state.runtime  # the scheduled sweeps across tenants
    client.blocking_portal.call(lambda: run_retention(runtime, dry_run=True))
    client.blocking_portal.call(lambda: run_loyalty_expiry(runtime))


def test_every_query_names_the_tenant(
    recorded: tuple[Client, Recorder], auth: Callable[..., Headers]
) -> None:
    client, recorder = recorded
    workload(client, auth)
    seen = {(s.command, re.sub(r"_g[0-9]+$", "", s.collection)) for s in recorder.shapes}
    for expected in (("find", "customer_view"), ("insert", "customer_view"),
                     ("update", "customer_view"), ("find", "access_log"),
                     ("insert", "access_log"), ("find", "timeline"), ("update", "timeline"),
                     ("find", "analytics_cohorts"), ("find", "contactability")):  # fmt: skip
        assert expected in seen, f"the workload sent no {expected}: {sorted(seen)}"
    wrong = sorted({(s.command, s.collection, str(s.filter)[:160]) for s in recorder.untargeted()})
    assert not wrong, "queries without tenantId:\n" + "\n".join(map(str, wrong))


def test_the_judge_can_fail() -> None:
    assert carries_tenant({"tenantId": "a", "_id": {"$in": ["a:1"]}})
    assert carries_tenant({"$or": [{"tenantId": "a"}, {"tenantId": "b", "x": 1}]})
    assert not carries_tenant({"$or": [{"tenantId": "a"}, {"x": 1}]})
    assert not carries_tenant({"_id": "a:1"})
    assert Shape("find", "customer_view_g1", {"_id": "a:1"}).exception() is None
    assert Shape("insert", "customer_view_g1", {"_id": "a:1"}).exception() is None
    assert Shape("find", "projection_checkpoints", {"_id": "x"}).exception()
    assert Shape("aggregate", "customer_view_g2", {}).exception()
    assert Shape("find", "customer_view_g2", {}).exception() is None
