"""Security alerts over HTTP (issue 15.4): each kind is driven to its threshold, raised once —
`GET /audit/alerts`, a log line, a metric — and the client it names is then refused with 429
(problem+json, Retry-After) while others are not; with Redis, processes count together."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.e2e.conftest import SECRET, Headers, fresh_redis_database

Client = TestClient[Litestar]


def from_address(app: ASGIApp) -> ASGIApp:
    """Tests only: the client address from an `x-test-client` header (the test client has one)."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        forced = dict(scope.get("headers", [])).get(b"x-test-client")
        if forced:
            scope = cast(Any, {**scope, "client": (forced.decode(), 40000)})
        await app(scope, receive, send)

    return call


def open_client(settings: Settings) -> TestClient[Litestar]:
    rules = dataclasses.replace(
        settings, alert_burst=3, alert_bulk_records=5, alert_token_addresses=3,
        alert_lockout_seconds=30.0,
    )  # fmt: skip
    app = create_app(rules)
    app.asgi_handler = from_address(app.asgi_handler)
    return TestClient(app)


@pytest.fixture
def watched(settings: Settings) -> Iterator[Client]:
    with open_client(settings) as client:
        yield client


def at(address: str) -> Headers:
    return {"x-test-client": address}


def alerts(client: Client, auth: Callable[..., Headers], **who: Any) -> list[dict[str, Any]]:
    response = client.get("/audit/alerts", headers=auth(**who) | at("10.9.9.9"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def assert_locked_out(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(response.headers["retry-after"]) <= 30


def metric(client: Client, kind: str) -> int:
    text = client.get("/metrics").text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith(f'customers_security_alerts_total{{kind="{kind}"}}')
    )
    return int(line.rsplit(" ", 1)[1])


def test_a_burst_of_401s_locks_the_address_out(
    watched: Client, auth: Callable[..., Headers], caplog: pytest.LogCaptureFixture
) -> None:
    bad = {"Authorization": "Bearer not-a-token"} | at("10.0.0.1")
    with caplog.at_level(logging.WARNING, logger="customers.security"):
        for _ in range(3):
            assert watched.get("/customers", headers=bad).status_code == 401
    assert_locked_out(watched.get("/customers", headers=auth() | at("10.0.0.1")))
    assert watched.get("/customers", headers=auth() | at("10.0.0.2")).status_code == 200
    [alert] = alerts(watched, auth)  # an admin of any tenant sees it
    assert alert["kind"] == "unauthenticated_burst"
    assert (alert["clientAddress"], alert["tenant"], alert["subject"]) == ("10.0.0.1", None, None)
    assert alert["count"] == 3 and set(alert) >= {"id", "at", "detail"}
    assert alerts(watched, auth, role="auditor") == []  # not an admin: not about its tenant
    assert metric(watched, "unauthenticated_burst") == 1
    [record] = [r for r in caplog.records if r.getMessage() == "security alert"]
    logged = json.dumps(record.__dict__, default=str)
    assert alert["id"] in logged and "not-a-token" not in logged and "10.0.0.1" not in logged


def test_a_burst_of_403s_locks_the_subject_out(
    watched: Client, auth: Callable[..., Headers]
) -> None:
    for _ in range(3):
        refused = watched.post("/customers", json={}, headers=auth("viewer", subject="vic"))
        assert refused.status_code == 403
    assert_locked_out(watched.get("/customers", headers=auth("viewer", subject="vic")))
    assert watched.get("/customers", headers=auth("viewer", subject="val")).status_code == 200
    [alert] = alerts(watched, auth, role="auditor")
    assert (alert["kind"], alert["subject"], alert["tenant"]) == ("forbidden_burst", "vic", "acme")
    assert alerts(watched, auth, tenant="other") == []


def test_cross_tenant_404s_raise_an_alert_and_plain_404s_do_not(
    watched: Client, auth: Callable[..., Headers]
) -> None:
    cid = watched.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()["id"]
    mallory = auth("viewer", tenant="evil", subject="mallory")
    for _ in range(3):
        assert watched.get(f"/customers/{uuid.uuid4()}", headers=mallory).status_code == 404
    assert alerts(watched, auth, tenant="evil") == []
    for path in (f"/customers/{cid}", f"/customers/{cid}/orders", f"/customers/{cid}/consents"):
        assert watched.get(path, headers=mallory).status_code == 404
    [alert] = alerts(watched, auth, tenant="evil")
    assert (alert["kind"], alert["subject"]) == ("cross_tenant_burst", "mallory")
    assert_locked_out(watched.get("/customers", headers=mallory))
    assert "Ann" not in json.dumps(alert)


def test_bulk_reads_beyond_the_tenant_threshold(
    watched: Client, auth: Callable[..., Headers]
) -> None:
    for name in ("Ann", "Anna", "Annie"):
        created = watched.post("/customers", json={"firstName": name}, headers=auth())
    reader = auth("viewer", subject="bulky") | {
        "X-Consistency-Token": created.headers["x-consistency-token"]
    }
    assert watched.get("/customers", headers=reader).json()["total"] == 3
    assert alerts(watched, auth) == []
    assert watched.get("/customers", headers=reader).status_code == 200  # 6 records ≥ 5
    [alert] = alerts(watched, auth)
    assert (alert["kind"], alert["subject"], alert["count"]) == ("bulk_read", "bulky", 6)
    assert_locked_out(watched.get("/customers", headers=reader))


def test_one_token_from_many_addresses(watched: Client, auth: Callable[..., Headers]) -> None:
    token = auth("viewer", subject="roamer")
    for n in (1, 2, 3):
        assert watched.get("/customers", headers=token | at(f"10.1.0.{n}")).status_code == 200
    [alert] = alerts(watched, auth)
    assert (alert["kind"], alert["subject"], alert["count"]) == ("token_addresses", "roamer", 3)
    assert_locked_out(watched.get("/customers", headers=token | at("10.1.0.1")))
    other = mint_token(SECRET, tenant="acme", roles=["viewer"], subject="roamer", ttl_seconds=300)
    fresh = {"Authorization": f"Bearer {other}"}
    assert watched.get("/customers", headers=fresh | at("10.1.0.1")).status_code == 200
    assert token["Authorization"].split()[1] not in json.dumps(alert)


@pytest.mark.parametrize("shared", ["redis", "data_dir"])
def test_processes_count_together(
    shared: str, tmp_path: Path, auth: Callable[..., Headers], request: pytest.FixtureRequest
) -> None:
    """Two API processes' worth: sharing Redis, or (embedded workers) one data dir."""
    if shared == "redis":
        url = fresh_redis_database(request.getfixturevalue("redis_url"))
        both = [Settings(data_dir=tmp_path / n, redis_url=url, jwt_secret=SECRET) for n in "ab"]
    else:
        both = [Settings(data_dir=tmp_path, jwt_secret=SECRET)] * 2
    bad = {"Authorization": "Bearer nope"} | at("10.7.0.1")
    with open_client(both[0]) as first, open_client(both[1]) as second:
        assert first.get("/customers", headers=bad).status_code == 401
        assert second.get("/customers", headers=bad).status_code == 401
        assert first.get("/customers", headers=bad).status_code == 401
        for client in (first, second):
            assert_locked_out(client.get("/customers", headers=auth() | at("10.7.0.1")))
        raised = [c.app.state.monitor.raised["unauthenticated_burst"] for c in (first, second)]
        assert sorted(raised) == [0, 1]
