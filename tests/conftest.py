"""Shared fixtures: real service URLs, isolated namespaces per test."""

from __future__ import annotations

import uuid

import pytest

from tests.services import service_url_fixture

postgres_url = service_url_fixture("postgres")
mongo_url = service_url_fixture("mongo")
redis_url = service_url_fixture("redis")
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
