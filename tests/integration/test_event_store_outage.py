"""The PostgreSQL event store cut off and back (a TCP proxy in front of it: a restart, a
network blip or a server that accepts connections and never answers, as the service sees
it): while it is away every request that needs the event store (writes, history, `asOf`,
export) answers 503 problem+json with Retry-After quickly, never 500 and never after the
library's retries; once it is back, writes work again and the projection catches up by
itself, without a restart. A write refused during the outage and retried with the same
Idempotency-Key afterwards is applied exactly once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from yarl import URL

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.integration.tcp_proxy import ThreadedProxy

pytestmark = pytest.mark.services
SECRET = "outage-test-secret-with-at-least-32-bytes!"
#: The service timeout is 1 s in these tests; "quick" leaves room for a loaded machine.
QUICK_SECONDS = 5.0


def _create(
    client: TestClient[Any], headers: dict[str, str], name: str, key: str | None = None
) -> httpx.Response:
    body = {"firstName": name, "lastName": "Outage", "email": f"{name}@example.com"}
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/customers", json=body, headers=headers | extra)


def _visible(
    client: TestClient[Any], headers: dict[str, str], customer: str, seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get(f"/customers/{customer}", headers=headers).status_code == 200:
            return True
        time.sleep(0.1)
    return False


def _assert_quick_503(client: TestClient[Any], send: Any, what: str) -> None:
    started = time.monotonic()
    answer: httpx.Response = send()
    took = time.monotonic() - started
    assert answer.status_code == 503, (what, answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json"), what
    assert int(answer.headers["Retry-After"]) >= 1, what
    assert took < QUICK_SECONDS, (what, took)


def _until_created(
    client: TestClient[Any], headers: dict[str, str], name: str, key: str | None = None
) -> httpx.Response:
    deadline, answer = time.monotonic() + 15, None
    while time.monotonic() < deadline:
        answer = _create(client, headers, name, key)
        if answer.status_code in (200, 201):
            break
        assert answer.status_code == 503, answer.text
        time.sleep(0.5)
    assert answer is not None
    return answer


@pytest.mark.parametrize("mode", ["cut", "silent", "frozen"])
def test_the_event_store_away_answers_503_quickly_and_recovers_by_itself(
    tmp_path: Path, postgres_schema_url: str, mode: str
) -> None:
    """`cut`: connections reset and refused; `silent`: reset, new ones never answered;
    `frozen`: nothing reset, every connection (the pool's too) stops answering."""
    proxy = ThreadedProxy(URL(postgres_schema_url))
    settings = Settings(
        data_dir=tmp_path, event_store_url=proxy.url(), jwt_secret=SECRET,
        service_timeout_seconds=1.0,
    )  # fmt: skip
    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="ops", ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(settings)) as client:
            first = _create(client, headers, "before")
            assert first.status_code == 201, first.text
            customer = first.json()["id"]
            assert _visible(client, headers, customer, 10)
            reads = {
                "history": f"/customers/{customer}/history",
                "asOf": f"/customers/{customer}?asOf=2999-01-01T00:00:00Z",
                "export": f"/customers/{customer}/export",
            }
            for path in reads.values():
                assert client.get(path, headers=headers).status_code == 200, path

            if mode == "frozen":
                proxy.freeze()
            else:
                proxy.down(silent=mode == "silent")
            for attempt in range(3):  # the first finds the dead pool, the next fail fast
                _assert_quick_503(
                    client, lambda: _create(client, headers, "during", "key-1"), f"write {attempt}"
                )
            for what, path in reads.items():
                _assert_quick_503(client, lambda p=path: client.get(p, headers=headers), what)

            served = client.get(f"/customers/{customer}", headers=headers)
            assert served.status_code == 200, served.text  # the read model needs no event store

            proxy.up()
            after = _until_created(client, headers, "after")
            assert after.status_code == 201, after.text
            assert _visible(client, headers, after.json()["id"], 10), "projection stuck"
            assert client.get(reads["history"], headers=headers).status_code == 200

            retried = _until_created(client, headers, "during", "key-1")
            assert retried.status_code == 201, retried.text
            again = _create(client, headers, "during", "key-1")
            assert again.status_code == 201, again.text
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert again.json()["id"] == retried.json()["id"]
            other = _create(client, headers, "during")
            assert other.status_code == 409, other.text  # one customer holds the email
    finally:
        proxy.close()
