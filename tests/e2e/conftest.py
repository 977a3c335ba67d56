"""HTTP fixtures: the app on each event store (SQLite embedded and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings

SECRET = "test-secret-with-at-least-32-bytes-of-entropy!"
Headers = dict[str, str]


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one event-store profile; each test gets a fresh store."""
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_schema_url")
    return Settings(data_dir=tmp_path, event_store_url=url, jwt_secret=SECRET)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def auth() -> Callable[..., Headers]:
    """`auth(role, tenant=..., subject=...)` → Authorization headers."""

    def headers(role: str = "admin", tenant: str = "acme", subject: str = "alice") -> Headers:
        token = mint_token(SECRET, tenant=tenant, roles=[role], subject=subject, ttl_seconds=600)
        return {"Authorization": f"Bearer {token}"}

    return headers


def stored_position(client: TestClient[Litestar]) -> int:
    """The event store's last global position (0 when empty)."""
    app = client.app.state.commands.app
    return int(app.recorder.max_notification_id() or 0)
