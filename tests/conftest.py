"""Shared fixtures: real service URLs, isolated namespaces per test."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings

from tests.services import service_url_fixture

# Property tests check answers, not speed: on a shared two-core machine an example can take
# longer than Hypothesis's default 200 ms deadline and fail a correct test. Performance is
# measured by the benchmarks instead.
settings.register_profile("customers", deadline=None)
settings.load_profile("customers")

postgres_url = service_url_fixture("postgres")
mongo_url = service_url_fixture("mongo")
redis_url = service_url_fixture("redis")
redis_cluster_url = service_url_fixture("redis_cluster")
amqp_url = service_url_fixture("amqp")


@pytest.fixture
def unique_name() -> str:
    """A short unique name for schemas, databases, key prefixes and exchanges."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def postgres_schema_url(postgres_url: str, unique_name: str) -> str:
    """An event-store URL on the test PostgreSQL, in a fresh schema of its own."""
    separator = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{separator}schema={unique_name}"


#: Fixtures and parameter values that mean "this test needs a real service".
SERVICE_FIXTURES = {
    "postgres_url", "mongo_url", "redis_url", "redis_cluster_url", "amqp_url",
    "postgres_schema_url",
}  # fmt: skip
SERVICE_PARAMS = {
    "postgres", "services", "mongo", "mongo_view", "redis_search", "redis",
    "redis_cluster_search", "redis_cluster", "mongo+redis", "mongo+redis_cluster",
}  # fmt: skip


def needs_service(item: pytest.Item) -> bool:
    """True when the test asks for a service fixture or is the service variant of a test."""
    if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if item.get_closest_marker("services") is not None:
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return any(isinstance(value, str) and value in SERVICE_PARAMS for value in params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test-fast` (CUSTOMERS_TEST_SERVICES=none) leaves out what needs a service."""
    if os.environ.get("CUSTOMERS_TEST_SERVICES") != "none":
        return
    kept = [item for item in items if not needs_service(item)]
    config.hook.pytest_deselected(items=[item for item in items if needs_service(item)])
    items[:] = kept
