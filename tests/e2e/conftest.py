"""HTTP fixtures: the app on each event store (SQLite embedded and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings

SECRET = "test-secret-with-at-least-32-bytes-of-entropy!"
#: A rebuild keeps the old generation this long (3 s in service) before dropping it: longer
#: than the second after which readers look at the active generation again, which is all the
#: grace protects here (no other process reads). Four rebuilds in a test waited 12 s.
REBUILD_GRACE = 1.5
Headers = dict[str, str]


PROFILES = ["sqlite", "postgres", "services"]


@pytest.fixture(params=PROFILES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one profile; each test gets fresh stores.

    `sqlite`: fully embedded. `postgres`: PostgreSQL event store, embedded read models.
    `services`: PostgreSQL, MongoDB-wire read models and Redis search/cache/rate limits.
    """
    if request.param == "sqlite":
        return profile_settings(request, "sqlite", tmp_path, "")
    return profile_settings(
        request, request.param, tmp_path, request.getfixturevalue("unique_name")
    )


def profile_settings(
    request: pytest.FixtureRequest, profile: str, data_dir: Path, name: str, redis_db: int = 9
) -> Settings:
    """Settings for `profile` on fresh stores named `name` (a schema, a MongoDB database, and
    Redis database `redis_db` emptied); usable from fixtures of any scope."""
    if profile == "sqlite":
        return Settings(data_dir=data_dir, jwt_secret=SECRET, rebuild_grace_seconds=REBUILD_GRACE)
    postgres = str(request.getfixturevalue("postgres_url"))
    url = f"{postgres}{'&' if '?' in postgres else '?'}schema={name}"
    if profile == "postgres":
        return Settings(
            data_dir=data_dir,
            event_store_url=url,
            jwt_secret=SECRET,
            rebuild_grace_seconds=REBUILD_GRACE,
        )
    mongo = str(request.getfixturevalue("mongo_url")).rstrip("/") + "/" + name
    redis_url = fresh_redis_database(request.getfixturevalue("redis_url"), redis_db)
    return Settings(
        data_dir=data_dir,
        event_store_url=url,
        mongo_url=mongo,
        redis_url=redis_url,
        jwt_secret=SECRET,
        rebuild_grace_seconds=REBUILD_GRACE,
    )


def fresh_redis_database(url: str, number: int = 9) -> str:
    """A Redis URL on database `number`, emptied (e2e tests run one at a time)."""
    import redis

    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url.rstrip("/")
    target = f"{base}/{number}"
    client = redis.Redis.from_url(target)
    client.flushdb()
    client.close()
    return target


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module", params=PROFILES)
def module_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient[Litestar]]:
    """One app per profile shared by a module's tests that each check their own requests
    only (an app start-up is most of such a test). On Redis database 10: the apps of the
    module's other tests empty database 9 each."""
    name = "t" + uuid.uuid4().hex[:12]
    data_dir = tmp_path_factory.mktemp("shared")
    settings = profile_settings(request, request.param, data_dir, name, redis_db=10)
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
    app = client.app.state.runtime.commands.executor.app
    return int(app.recorder.max_notification_id() or 0)
