"""Which failures mean "a dependency is unavailable" (retry later) rather than "this event
cannot be applied" (park it as a dead letter) or "this request is wrong". The projection runner
retries these instead of parking; the HTTP layer answers 503 with Retry-After instead of 500."""

from __future__ import annotations


def is_transient(error: BaseException) -> bool:
    """True for connection, timeout and lock errors of the stores and the broker."""
    if isinstance(error, ConnectionError | TimeoutError | OSError):
        return True
    if _is_sqlite_operational(error):
        return "locked" in str(error) or "busy" in str(error)
    transient_names = {
        "AutoReconnect",
        "ConnectionFailure",
        "ServerSelectionTimeoutError",
        "NetworkTimeout",
        "ExecutionTimeout",
        "OperationalError",
        "InterfaceError",
        "PoolTimeout",
        "AMQPConnectionError",
        "ChannelInvalidStateError",
    }
    for cls in type(error).__mro__:
        module = cls.__module__
        if cls.__name__ in transient_names and module.startswith(
            ("pymongo", "psycopg", "psycopg_pool", "eventsourcing", "aiormq", "aio_pika")
        ):
            return True
        if module.startswith("redis") and cls.__name__ in (
            "ConnectionError",
            "TimeoutError",
            "BusyLoadingError",
            # a Redis Cluster failing over, or resharding a slot: the same command soon works
            "ClusterDownError",
            "TryAgainError",
            "SlotNotCoveredError",
        ):
            return True
    return error.__cause__ is not None and is_transient(error.__cause__)


def _is_sqlite_operational(error: BaseException) -> bool:
    """`sqlite3.OperationalError` (or a subclass), told by name: `shared` imports no driver."""
    return any(
        cls.__name__ == "OperationalError" and cls.__module__ == "sqlite3"
        for cls in type(error).__mro__
    )
