"""Choose the read-side adapters for the configured profile (SQLite, MongoDB, Redis)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from read_side.access_audit import AccessAudit, SQLiteAccessAudit, open_mongo_audit
from read_side.alert_store import AlertStore, MongoAlertStore, SQLiteAlertStore
from read_side.cache import DocCache, MemoryDocCache, RedisDocCache
from read_side.generations import ActiveGeneration
from read_side.ports import ManagedGeneration, SearchModel, ViewModel
from read_side.rendered_cache import RenderedCache, ViewStamp
from shared.settings import Settings

if TYPE_CHECKING:  # the drivers are imported only when a URL names their service
    from pymongo import AsyncMongoClient

    from read_side.store.mongo_store import Document
    from shared.adapters.redis_client import RedisClient

VIEW_PROJECTION = "customer_view"
SEARCH_PROJECTION = "search"
BROKER_RELAY = "broker_relay"  # the default name of `projectors.broker_relay.BrokerRelay`


@dataclass
class Clients:
    """The service clients one process opened (None: that service is not configured). The
    adapters borrow them; closing is this object's job."""

    mongo: AsyncMongoClient[Document] | None = None
    redis: RedisClient | None = None

    def mongo_database(self) -> str:
        """The read database: the URL's, else `customers`."""
        assert self.mongo is not None
        return self.mongo.get_default_database(default="customers").name

    async def close(self) -> None:
        """Close every client (Redis first, as it was opened first)."""
        if self.redis is not None:
            await self.redis.aclose()
        if self.mongo is not None:
            await self.mongo.close()


@dataclass
class ReadAdapters:
    """The read models of one process, each following its active generation."""

    views: ActiveGeneration[ViewModel]
    index: ActiveGeneration[SearchModel]
    cache: DocCache
    audit: AccessAudit
    alerts: AlertStore
    clients: Clients

    async def close(self) -> None:
        """Close adapters and the clients this object opened."""
        await self.views.close()
        await self.index.close()
        await self.audit.close()
        await self.alerts.close()
        await self.clients.close()
        if isinstance(self.cache, RenderedCache):
            self.cache.close()


#: Socket timeout of MongoDB operations outside the request path (the projector's batch
#: writes); requests are bounded by `CUSTOMERS_SERVICE_TIMEOUT` (read_side.deadline).
BATCH_SOCKET_TIMEOUT_SECONDS = 30.0


def mongo_timeouts(settings: Settings) -> dict[str, int]:
    """Fail fast when the MongoDB-wire server is down: connection and server selection wait
    `service_timeout_seconds` (pymongo's default selection wait is 30 s)."""
    wait_ms = int(settings.service_timeout_seconds * 1000)
    socket_ms = int(max(settings.service_timeout_seconds, BATCH_SOCKET_TIMEOUT_SECONDS) * 1000)
    return {
        "serverSelectionTimeoutMS": wait_ms,
        "connectTimeoutMS": wait_ms,
        "socketTimeoutMS": socket_ms,
    }


def open_redis(settings: Settings) -> RedisClient:
    """A Redis (or Redis Cluster) client that gives up on a silent or refusing server after
    `service_timeout_seconds` per attempt instead of waiting forever."""
    from shared.adapters.redis_client import open_redis as open_client

    assert settings.redis_url
    return open_client(settings.redis_url, timeout_seconds=settings.service_timeout_seconds)


def open_mongo(settings: Settings) -> AsyncMongoClient[Document]:
    """A MongoDB client (connected lazily) with the fail-fast timeouts."""
    from pymongo import AsyncMongoClient

    assert settings.mongo_url
    timeouts = mongo_timeouts(settings)
    return AsyncMongoClient(settings.mongo_url, tz_aware=True, **timeouts)  # type: ignore[arg-type]


def open_clients(settings: Settings, *, mongo: bool = True, redis: bool = True) -> Clients:
    """Clients of the configured services (not connected yet), limited to those asked for."""
    return Clients(
        mongo=open_mongo(settings) if mongo and settings.mongo_url else None,
        redis=open_redis(settings) if redis and settings.redis_url else None,
    )


def view_factory(settings: Settings, clients: Clients) -> Callable[[int], ViewModel]:
    """A function generation → view-store adapter."""
    if clients.mongo is not None:
        from read_side.store.mongo_store import MongoViewStore

        client, database = clients.mongo, clients.mongo_database()
        return lambda generation: MongoViewStore(
            client, database, name=VIEW_PROJECTION, generation=generation
        )
    from read_side.store.sqlite_store import SQLiteViewStore

    path = settings.data_dir / "read_models.db"
    return lambda generation: SQLiteViewStore(path, name=VIEW_PROJECTION, generation=generation)


def index_factory(settings: Settings, clients: Clients) -> Callable[[int], SearchModel]:
    """A function generation → search-index adapter."""
    if clients.redis is not None:
        from read_side.search.redis_index import RedisSearchIndex

        client, prefix = clients.redis, settings.redis_prefix
        return lambda generation: RedisSearchIndex(
            client, prefix=prefix, name=SEARCH_PROJECTION, generation=generation
        )
    from read_side.search.sqlite_index import SQLiteSearchIndex

    path = settings.data_dir / "read_models.db"
    return lambda generation: SQLiteSearchIndex(path, name=SEARCH_PROJECTION, generation=generation)


def open_read_adapters(settings: Settings) -> ReadAdapters:
    """Build (without connecting yet) the adapters the settings ask for."""
    clients = open_clients(settings)
    views = ActiveGeneration(view_factory(settings, clients))
    index = ActiveGeneration(index_factory(settings, clients))
    cache: DocCache = MemoryDocCache()
    if clients.redis is None and clients.mongo is None:  # the views are a file of the data dir
        path = settings.data_dir / "read_models.db"
        cache = RenderedCache(ViewStamp(path, VIEW_PROJECTION))
    elif clients.redis is not None:
        cache = RedisDocCache(clients.redis, settings.redis_prefix)
    key = settings.resolved_audit_key()
    audit: AccessAudit = SQLiteAccessAudit(settings.data_dir / "read_models.db", key)
    alerts: AlertStore = SQLiteAlertStore(settings.data_dir / "read_models.db")
    if clients.mongo is not None:
        database = clients.mongo_database()
        audit = open_mongo_audit(clients.mongo, database, key)
        alerts = MongoAlertStore(clients.mongo, database)
    return ReadAdapters(
        views=views, index=index, cache=cache, audit=audit, alerts=alerts, clients=clients
    )


def make_sink(settings: Settings, name: str, generation: int) -> tuple[ManagedGeneration, Clients]:
    """One projection's adapter at a given generation (for rebuilds), and its clients."""
    if name == VIEW_PROJECTION:
        clients = open_clients(settings, redis=False)
        return view_factory(settings, clients)(generation), clients
    clients = open_clients(settings, mongo=False)
    return index_factory(settings, clients)(generation), clients
