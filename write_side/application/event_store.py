"""The eventsourcing `Application` that holds Customer events, and its persistence set-up."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from eventsourcing.application import Application

from shared.settings import Settings


class CustomersApplication(Application[UUID]):
    """Event store for customers, email claims and idempotency records (one ordered log)."""

    name = "Customers"


def event_store_env(settings: Settings, *, pool_size: int = 8) -> dict[str, str]:
    """Translate `CUSTOMERS_EVENT_STORE_URL` into the eventsourcing library's environment.

    PostgreSQL keeps the library's table lock (`POSTGRES_ENABLE_DB_FUNCTIONS` stays off), so
    readers of the notification log never miss an event.
    """
    url = settings.event_store_url or f"sqlite:///{settings.data_dir / 'events.db'}"
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = Path(unquote(parsed.path))
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parsed.path.lstrip("/")) or "customers",
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or "customers"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": "5",
    }
    if "schema" in options:
        env["POSTGRES_SCHEMA"] = options["schema"]
    return env


def open_event_store(settings: Settings) -> CustomersApplication:
    """Open (and create if needed) the event store named by the settings."""
    env = event_store_env(settings)
    if "POSTGRES_SCHEMA" in env:
        _ensure_schema(env)
    return CustomersApplication(env=env)


def _ensure_schema(env: dict[str, str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        autocommit=True,
    ) as connection:
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(env["POSTGRES_SCHEMA"]))
        )
