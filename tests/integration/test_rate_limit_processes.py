"""Two API processes sharing one counter store admit exactly the configured number of requests:
one Redis (services profile), or one SQLite file in the data dir (embedded profile, as
`customers serve --workers N` runs)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import redis

from shared.http.auth import mint_token

SECRET = "multi-process-secret-with-at-least-32-bytes!"
SUBJECT_LIMIT, TENANT_LIMIT = 30, 50
ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = str(Path(sys.executable).parent / "customers")
PROFILES = [pytest.param("redis", marks=pytest.mark.services), "embedded"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"API process exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"API process at {base} not ready within 30 s:\n{log.read_text()}")


def _limits_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    return env | {
        "CUSTOMERS_JWT_SECRET": SECRET,
        "CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE": str(SUBJECT_LIMIT),
        "CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE": str(TENANT_LIMIT),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@pytest.fixture(scope="module", params=PROFILES)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where the counters live: a Redis URL, or a data dir (embedded profile)."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return str(tmp_path_factory.mktemp("rate-limit-data"))


@pytest.fixture(scope="module")
def bases(store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Base URLs of two uvicorn processes serving `rate_limit_app` on one counter store."""
    where = "CUSTOMERS_REDIS_URL" if store.startswith("redis") else "CUSTOMERS_DATA_DIR"
    env = _limits_env(**{where: store})
    logs = tmp_path_factory.mktemp("rate-limit-servers")
    processes: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for index in range(2):
            port, log = _free_port(), logs / f"server-{index}.log"
            command = [
                sys.executable, "-m", "uvicorn", "tests.integration.rate_limit_app:create_app",
                "--factory", "--host", "127.0.0.1", "--port", str(port),
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
            with log.open("wb") as sink:
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
            processes.append((process, f"http://127.0.0.1:{port}", log))
        for process, base, log in processes:
            _wait_ready(process, base, log)
        yield [base for _, base, _ in processes]
    finally:
        for process, _, _ in processes:
            process.terminate()
        for process, _, _ in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _bearer(tenant: str, subject: str) -> dict[str, str]:
    token = mint_token(SECRET, tenant=tenant, roles=["viewer"], subject=subject, ttl_seconds=300)
    return {"Authorization": f"Bearer {token}"}


async def _burst(
    calls: list[tuple[str, dict[str, str]]], path: str = "/whoami"
) -> list[httpx.Response]:
    """Send every (base URL, headers) GET `path` at once, each on its own connection (so the
    kernel spreads them over the workers sharing one socket); bounded to 60 s."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        sent = [client.get(f"{base}{path}", headers=headers) for base, headers in calls]
        return await asyncio.wait_for(asyncio.gather(*sent), timeout=60)


def _assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    body = response.json()
    assert body["type"].endswith("/rate-limited")
    assert (body["title"], body["status"]) == ("Too many requests", 429)


@pytest.fixture
def tenant(store: str) -> Iterator[str]:
    name = "rl-" + uuid.uuid4().hex[:12]
    yield name
    if not store.startswith("redis"):
        return
    client = redis.Redis.from_url(store, protocol=2)
    try:
        keys = list(client.scan_iter(match=f"customers:rl:{{{name}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


async def test_one_subject_gets_exactly_its_limit_across_two_processes(
    bases: list[str], tenant: str, store: str
) -> None:
    alice = _bearer(tenant, "alice")
    responses = await _burst([(bases[i % 2], alice) for i in range(80)])
    admitted = [r for r in responses if r.status_code == 200]
    denied = [r for r in responses if r.status_code != 200]
    assert len(admitted) == SUBJECT_LIMIT
    assert len(denied) == 80 - SUBJECT_LIMIT
    for response in denied:
        _assert_rate_limited(response)
    assert "this caller" in denied[0].json()["detail"]
    # 50 denials among 40 requests per process: both processes refused some.
    assert {str(r.url.port) for r in denied} == {b.rsplit(":", 1)[1] for b in bases}
    assert all(r.headers["RateLimit-Limit"] == str(SUBJECT_LIMIT) for r in admitted)
    # Another subject of the same tenant has its own quota (the tenant has 20 left).
    others = await _burst([(bases[i % 2], _bearer(tenant, "bob")) for i in range(2)])
    assert [r.status_code for r in others] == [200, 200]
    assert others[0].json()["pid"] != others[1].json()["pid"]  # two processes answered
    counts = _stored_counts(store, tenant)
    assert counts == {f"customers:rl:{{{tenant}}}:s:alice": SUBJECT_LIMIT,
                      f"customers:rl:{{{tenant}}}:s:bob": 2,
                      f"customers:rl:{{{tenant}}}:t": SUBJECT_LIMIT + 2}  # fmt: skip


def _stored_counts(store: str, tenant: str) -> dict[str, int]:
    """The tenant's counters as the shared store holds them."""
    if not store.startswith("redis"):
        with closing(sqlite3.connect(Path(store) / "rate_limits.db")) as db:
            rows = db.execute("SELECT key, count FROM rate_limit_windows").fetchall()
        return {key: count for key, count in rows if f"{{{tenant}}}" in key}
    client = redis.Redis.from_url(store, protocol=2)
    try:
        keys = [k.decode() for k in client.scan_iter(match=f"customers:rl:{{{tenant}}}*")]
        return {key: int(client.get(key) or 0) for key in keys}
    finally:
        client.close()


async def test_a_tenant_gets_exactly_its_limit_across_two_processes(
    bases: list[str], tenant: str
) -> None:
    callers = [_bearer(tenant, f"user-{n}") for n in range(4)]  # 20 each, under 30
    responses = await _burst([(bases[i % 2], callers[i % 4]) for i in range(80)])
    denied = [r for r in responses if r.status_code != 200]
    assert sum(r.status_code == 200 for r in responses) == TENANT_LIMIT
    for response in denied:
        _assert_rate_limited(response)
    assert "this tenant" in denied[0].json()["detail"]
    other_tenant = await _burst([(bases[0], _bearer(tenant + "-other", "user-0"))])
    assert other_tenant[0].status_code == 200


def test_customers_serve_with_two_workers_admits_exactly_the_limit(tmp_path: Path) -> None:
    """The embedded profile as a user runs it: `customers serve --workers 2` on one data dir."""
    port, log = _free_port(), tmp_path / "serve.log"
    command = [CUSTOMERS, "serve", "--workers", "2", "--port", str(port),
               "--data-dir", str(tmp_path / "data")]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=_limits_env(), stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, log)
        alice = _bearer("acme-" + uuid.uuid4().hex[:8], "alice")
        responses = asyncio.run(_burst([(base, alice)] * 80, "/customers?limit=1"))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert sum(r.status_code == 200 for r in responses) == SUBJECT_LIMIT, log.read_text()
    assert sum(r.status_code == 429 for r in responses) == 80 - SUBJECT_LIMIT
