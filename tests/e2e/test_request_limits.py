"""Request heads and bodies are bounded before authentication: 431 for too many or too large
headers, 413 for a body over the limit on any route, each a problem+json."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS
from shared.settings import Settings
from tests.e2e.conftest import SECRET, Headers

Client = TestClient[Litestar]


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Client]:
    with TestClient(create_app(Settings(data_dir=tmp_path, jwt_secret=SECRET))) as client:
        yield client


def problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


@pytest.mark.parametrize("path", ["/customers", "/customers/x/y", "/health", "/nowhere"])
def test_too_many_headers_is_431_without_a_token(embedded: Client, path: str) -> None:
    headers = {f"X-Filler-{n}": "1" for n in range(MAX_HEADERS + 1)}
    problem(embedded.get(path, headers=headers), 431)


def test_headers_too_large_in_total_is_431(embedded: Client, auth: Callable[..., Headers]) -> None:
    headers = auth() | {f"X-Part-{n}": "v" * 1000 for n in range(MAX_HEAD_BYTES // 1000 + 1)}
    problem(embedded.get("/customers", headers=headers), 431)
    big_one = auth() | {"X-Big": "v" * MAX_HEAD_BYTES}
    problem(embedded.get("/customers", headers=big_one), 431)


def test_ordinary_headers_pass(embedded: Client, auth: Callable[..., Headers]) -> None:
    headers = auth() | {f"X-Filler-{n}": "v" * 50 for n in range(60)}
    assert embedded.get("/customers", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/customers"), ("GET", "/customers"), ("POST", "/nowhere"), ("GET", "/health")],
)
def test_a_declared_body_over_the_limit_is_413_before_authentication(
    embedded: Client, method: str, path: str
) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    problem(embedded.request(method, path, content=body), 413)


def test_a_streamed_body_over_the_limit_is_413(
    embedded: Client, auth: Callable[..., Headers]
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    headers = auth() | {"Content-Type": "application/json"}
    problem(embedded.post("/customers", content=chunks(), headers=headers), 413)
