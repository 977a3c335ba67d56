"""Read-side outages through a TCP proxy cut in front of Redis or the MongoDB-wire server:
reads degrade (the cache is optional) or answer 503 with Retry-After quickly, never 500 and
never hang; writes keep working; everything recovers by itself when the service is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from yarl import URL

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.e2e.conftest import fresh_redis_database
from tests.integration.tcp_proxy import ThreadedProxy

pytestmark = pytest.mark.services
SECRET = "outage-test-secret-with-at-least-32-bytes!"
#: Every answer during an outage must come within this many seconds (timeouts are 1 s here).
QUICK = 3.0


@dataclass
class Stack:
    """The services profile with Redis and MongoDB behind proxies of their own."""

    client: TestClient[Any]
    redis: ThreadedProxy
    mongo: ThreadedProxy
    headers: dict[str, str]
    silent: bool
    token: str = ""

    def timed(self, method: str, path: str, **kw: Any) -> tuple[httpx.Response, float]:
        """The response and how long it took."""
        started = time.monotonic()
        headers = {**self.headers, **kw.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kw)
        return response, time.monotonic() - started

    def create(self, name: str) -> str:
        """A new customer's id; the write must succeed quickly."""
        body = {"firstName": name, "lastName": "Outage", "email": f"{name}@example.com"}
        response, took = self.timed("POST", "/customers", json=body)
        assert response.status_code == 201, response.text
        assert took < QUICK, took
        self.token = response.headers["X-Consistency-Token"]
        return str(response.json()["id"])

    def down(self, proxy: ThreadedProxy) -> None:
        """Refuse connections (`cut`) or swallow them (`silent`)."""
        proxy.down(silent=self.silent)

    def wait_for(self, path: str, timeout: float = 20) -> httpx.Response:
        """Poll until `path` answers 200 with something (projections catch up after an outage)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(path, headers=self.headers)
            found = response.status_code == 200 and response.json().get("items", True)
            if found or time.monotonic() > deadline:
                return response
            time.sleep(0.2)


def unavailable(response: httpx.Response, took: float) -> None:
    """A quick 503 problem+json with Retry-After."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) >= 1
    assert took < QUICK, took


@pytest.fixture(params=["cut", "silent"])
def stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_schema_url: str,
    mongo_url: str,
    redis_url: str,
    unique_name: str,
) -> Iterator[Stack]:
    """`cut`: connections are refused; `silent`: connections are accepted, never answered."""
    redis = ThreadedProxy(URL(fresh_redis_database(redis_url, 11)))
    mongo = ThreadedProxy(URL(mongo_url.rstrip("/") + "/" + unique_name))
    settings = Settings(
        data_dir=tmp_path,
        event_store_url=postgres_schema_url,
        mongo_url=mongo.url(),
        redis_url=redis.url(),
        jwt_secret=SECRET,
        service_timeout_seconds=1.0,
    )
    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="ops", ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(settings)) as client:
            try:
                yield Stack(client, redis, mongo, headers, request.param == "silent")
            finally:  # a test that failed mid-outage: the service stops against live servers
                redis.up()  # (with a silent one, each pending write waits its socket timeout)
                mongo.up()
    finally:
        redis.close()
        mongo.close()


def test_redis_down_get_reads_the_view_store_search_is_503(stack: Stack) -> None:
    known, token = stack.create("ada"), stack.token
    # projected, cache invalidated and checkpointed (visible alone is not enough: the
    # checkpoint moves only once the cache has forgotten the customer)
    settled = stack.client.get(
        f"/customers/{known}", headers={**stack.headers, "X-Consistency-Token": token}
    )
    assert settled.status_code == 200, settled.text
    stack.down(stack.redis)

    for headers in ({}, {"X-Consistency-Token": token}):  # the token needs only the views
        response, took = stack.timed("GET", f"/customers/{known}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["firstName"] == "ada"
        assert took < QUICK, took
    unavailable(*stack.timed("GET", "/customers", params={"q": "ada"}))
    health, took = stack.timed("GET", "/health")
    assert (health.status_code, took < QUICK) == (503, True), (health.text, took)
    fresh = stack.create("bea")  # writes keep working

    stack.redis.up()
    found = stack.wait_for("/customers?email=bea@example.com")
    assert [item["id"] for item in found.json()["items"]] == [fresh]


def test_mongo_down_reads_answer_503_quickly_and_writes_work(stack: Stack) -> None:
    known = stack.create("cleo")
    assert stack.wait_for(f"/customers/{known}").status_code == 200
    stack.down(stack.mongo)

    uncached = stack.create("dora")  # writes keep working
    unavailable(*stack.timed("GET", f"/customers/{uncached}"))
    unavailable(*stack.timed("GET", "/customers", params={"q": "cleo"}))
    unavailable(*stack.timed("GET", f"/customers/{known}/orders"))
    # cached, or read from the event store, but the access cannot be audited: fails closed
    unavailable(*stack.timed("GET", f"/customers/{known}"))
    unavailable(*stack.timed("GET", f"/customers/{known}/history"))
    unavailable(*stack.timed("GET", f"/customers/{known}", params={"asOf": "2100-01-01T00:00:00Z"}))
    health, took = stack.timed("GET", "/health")
    assert (health.status_code, took < QUICK) == (503, True), (health.text, took)

    stack.mongo.up()
    assert stack.wait_for(f"/customers/{uncached}").json()["firstName"] == "dora"


def test_an_invalidation_lost_in_a_redis_outage_never_serves_the_erased_document(
    stack: Stack,
) -> None:
    """The cached document of a customer erased while Redis was cut must not come back from
    the cache once Redis answers again (it lived for the cache's 60 s TTL): the projection
    retries the invalidation before its checkpoint passes it, and meanwhile skips the cache."""
    known = stack.create("zebcached")
    for _ in range(2):  # the second read is served from the cache
        assert stack.wait_for(f"/customers/{known}").json()["firstName"] == "zebcached"
    stack.down(stack.redis)
    erased, took = stack.timed("POST", f"/customers/{known}/erase", params={"reason": "asked"})
    assert erased.status_code == 200, erased.text
    assert took < QUICK, took
    time.sleep(2.5)  # the projection stores the erased document, then fails to invalidate
    seen = [stack.client.get(f"/customers/{known}", headers=stack.headers).text]

    stack.redis.up()
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        seen.append(stack.client.get(f"/customers/{known}", headers=stack.headers).text)
        time.sleep(0.1)
    assert [text for text in seen if "zebcached" in text.lower()] == []
    final = stack.client.get(
        f"/customers/{known}",
        headers={**stack.headers, "X-Consistency-Token": erased.headers["X-Consistency-Token"]},
    )
    assert final.json()["state"] == "erased"
