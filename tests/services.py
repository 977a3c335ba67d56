"""Where tests find real services: `CUSTOMERS_TEST_*_URL`, else testcontainers when a Docker
engine answers, else a skip with the reason — or a failure when CUSTOMERS_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from typing import Any
from urllib.parse import urlparse

import pytest

ENV_NAMES = {
    "postgres": "CUSTOMERS_TEST_POSTGRES_URL",
    "mongo": "CUSTOMERS_TEST_MONGO_URL",
    "redis": "CUSTOMERS_TEST_REDIS_URL",
    "redis_cluster": "CUSTOMERS_TEST_REDIS_CLUSTER_URL",
    "amqp": "CUSTOMERS_TEST_AMQP_URL",
}
DEFAULT_PORTS = {
    "postgres": 5432,
    "mongo": 27017,
    "redis": 6379,
    "redis_cluster": 6379,
    "amqp": 5672,
}
#: Kinds no container stands in for (a Redis Cluster needs several nodes wired together).
NO_CONTAINER = {"redis_cluster"}


def services_required() -> bool:
    """True when a missing service must fail the run (CI)."""
    return os.environ.get("CUSTOMERS_REQUIRE_SERVICES") == "1"


def unavailable(what: str, reason: str) -> None:
    """Skip the test for want of `what`, or fail it when CUSTOMERS_REQUIRE_SERVICES=1."""
    if services_required():
        pytest.fail(f"CUSTOMERS_REQUIRE_SERVICES=1 but {what} is unavailable: {reason}")
    pytest.skip(reason)


def reachable(url: str, default_port: int) -> bool:
    """True when something accepts TCP connections at the URL's host and port."""
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _docker_engine_answers() -> bool:
    with suppress(Exception):
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
        return True
    return False


def _from_container(kind: str, stack: ExitStack) -> str:
    if kind == "postgres":
        from testcontainers.postgres import PostgresContainer

        pg = stack.enter_context(PostgresContainer("postgres:16", driver=None))
        return str(pg.get_connection_url())
    if kind == "mongo":
        from testcontainers.mongodb import MongoDbContainer

        mongo = stack.enter_context(MongoDbContainer("mongo:7"))
        return str(mongo.get_connection_url())
    if kind == "redis":
        from testcontainers.redis import RedisContainer

        redis = stack.enter_context(RedisContainer("redis:7"))
        return f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
    from testcontainers.rabbitmq import RabbitMqContainer

    rabbit = stack.enter_context(RabbitMqContainer("rabbitmq:3.13"))
    return f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/"


def service_url_fixture(kind: str) -> Callable[..., Iterator[str]]:
    """A session fixture yielding a URL for `kind`, or skipping/failing with the reason."""

    @pytest.fixture(scope="session")
    def fixture() -> Iterator[str]:
        name = ENV_NAMES[kind]
        url = os.environ.get(name)
        if url:
            if reachable(url, DEFAULT_PORTS[kind]):
                yield url
                return
            reason = f"{name}={url} does not accept connections"
        elif kind not in NO_CONTAINER and _docker_engine_answers():
            with ExitStack() as stack:
                yield _from_container(kind, stack)
            return
        else:
            reason = f"{name} is not set and no Docker engine answers (run scripts/services up)"
        unavailable(kind, reason)

    return fixture


def redis_client(url: str, **options: Any) -> Any:
    """A client of the Redis server, or of the Redis Cluster a `redis+cluster://` URL names."""
    import redis.asyncio as redis

    from shared.redis_urls import is_cluster_url, seed_url

    if is_cluster_url(url):
        return redis.RedisCluster.from_url(seed_url(url), **options)
    return redis.Redis.from_url(url, **options)
