"""Choose the read-side adapters for the configured profile (SQLite, MongoDB, Redis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from read_side.access_audit import AccessAudit, SQLiteAccessAudit, open_mongo_audit
from read_side.alert_store import AlertStore, MongoAlertStore, SQLiteAlertStore
from read_side.cache import DocCache, MemoryDocCache, RedisDocCache
from read_side.generations import ActiveGeneration
from shared.settings import Settings

VIEW_PROJECTION = "customer_view"
SEARCH_PROJECTION = "search"
BROKER_RELAY = "broker_relay"  # the default name of `projectors.broker_relay.BrokerRelay`


@dataclass
class ReadAdapters:
    """The read models of one process, each following its active generation."""

    views: ActiveGeneration[Any]
    index: ActiveGeneration[Any]
    cache: DocCache
    audit: AccessAudit
    alerts: AlertStore
    clients: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        """Close adapters and the clients this object opened."""
        await self.views.close()
        await self.index.close()
        for adapter in (self.audit, self.alerts):
            close = getattr(adapter, "close", None)
            if close is not None:
                await close()
        for client in self.clients:
            await client.aclose() if hasattr(client, "aclose") else await client.close()


#: Socket timeout of MongoDB operations outside the request path (the projector's batch
#: writes); requests are bounded by `CUSTOMERS_SERVICE_TIMEOUT` (read_side.deadline).
BATCH_SOCKET_TIMEOUT_SECONDS = 30.0


def mongo_timeouts(settings: Settings) -> dict[str, Any]:
    """Fail fast when the MongoDB-wire server is down: connection and server selection wait
    `service_timeout_seconds` (pymongo's default selection wait is 30 s)."""
    wait_ms = int(settings.service_timeout_seconds * 1000)
    socket_ms = int(max(settings.service_timeout_seconds, BATCH_SOCKET_TIMEOUT_SECONDS) * 1000)
    return {
        "serverSelectionTimeoutMS": wait_ms,
        "connectTimeoutMS": wait_ms,
        "socketTimeoutMS": socket_ms,
    }


def open_redis(settings: Settings) -> Any:
    """A Redis client (RESP2) that gives up on a silent or refusing server after
    `service_timeout_seconds` per attempt instead of waiting forever."""
    import redis.asyncio as redis

    assert settings.redis_url
    seconds = settings.service_timeout_seconds
    return redis.Redis.from_url(
        settings.redis_url, protocol=2, socket_timeout=seconds, socket_connect_timeout=seconds
    )


def view_factory(settings: Settings, clients: list[Any]) -> Any:
    """A function generation → view-store adapter."""
    if settings.mongo_url:
        from pymongo import AsyncMongoClient

        from read_side.store.mongo_store import MongoViewStore

        client: Any = AsyncMongoClient(
            settings.mongo_url, tz_aware=True, **mongo_timeouts(settings)
        )
        clients.append(client)
        database = client.get_default_database(default="customers").name
        return lambda generation: MongoViewStore(
            client, database, name=VIEW_PROJECTION, generation=generation
        )
    from read_side.store.sqlite_store import SQLiteViewStore

    path = settings.data_dir / "read_models.db"
    return lambda generation: SQLiteViewStore(path, name=VIEW_PROJECTION, generation=generation)


def index_factory(settings: Settings, redis_client: Any) -> Any:
    """A function generation → search-index adapter."""
    if redis_client is not None:
        from read_side.search.redis_index import RedisSearchIndex

        return lambda generation: RedisSearchIndex(
            redis_client, name=SEARCH_PROJECTION, generation=generation
        )
    from read_side.search.sqlite_index import SQLiteSearchIndex

    path = settings.data_dir / "read_models.db"
    return lambda generation: SQLiteSearchIndex(path, name=SEARCH_PROJECTION, generation=generation)


def open_read_adapters(settings: Settings) -> ReadAdapters:
    """Build (without connecting yet) the adapters the settings ask for."""
    clients: list[Any] = []
    redis_client = None
    if settings.redis_url:
        redis_client = open_redis(settings)
        clients.append(redis_client)
    views = ActiveGeneration(view_factory(settings, clients))
    index = ActiveGeneration(index_factory(settings, redis_client))
    cache: DocCache = RedisDocCache(redis_client) if redis_client else MemoryDocCache()
    key = settings.resolved_audit_key()
    audit: AccessAudit = SQLiteAccessAudit(settings.data_dir / "read_models.db", key)
    alerts: AlertStore = SQLiteAlertStore(settings.data_dir / "read_models.db")
    mongo = next((c for c in clients if type(c).__name__ == "AsyncMongoClient"), None)
    if mongo is not None:
        database = mongo.get_default_database(default="customers").name
        audit = open_mongo_audit(mongo, database, key)
        alerts = MongoAlertStore(mongo, database)
    return ReadAdapters(
        views=views, index=index, cache=cache, audit=audit, alerts=alerts, clients=clients
    )


def make_sink(settings: Settings, name: str, generation: int) -> tuple[Any, list[Any]]:
    """One projection's adapter at a given generation (for rebuilds), and its clients."""
    clients: list[Any] = []
    if name == VIEW_PROJECTION:
        return view_factory(settings, clients)(generation), clients
    redis_client = None
    if settings.redis_url:
        redis_client = open_redis(settings)
        clients.append(redis_client)
    return index_factory(settings, redis_client)(generation), clients
