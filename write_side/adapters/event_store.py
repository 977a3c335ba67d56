"""The eventsourcing `Application` that holds Customer events, and its persistence set-up."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Mapper,
    ProgrammingError,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import Environment, EnvType

from shared.master_keys import MasterKeys
from shared.settings import Settings
from write_side.adapters.event_store_breaker import EventStoreBreaker, install_breaker
from write_side.adapters.key_backends import (
    RECORDER_TOPICS,
    attach_key_store,
    open_key_store,
)
from write_side.adapters.phone_books import AuditChain, attach_audit_chain, attach_phone_book
from write_side.application.audit_chain import Sealer
from write_side.application.crypto import EncryptingMapper
from write_side.application.crypto.key_ring import KeyRing
from write_side.application.crypto.key_rotation import RotatableKeyStore, identity_hash_key
from write_side.application.phone_book import PhoneBook

#: Key of the library's environment (not a user variable: it is set from
#: `CUSTOMERS_SERVICE_TIMEOUT`): how long the breaker's probe waits for PostgreSQL.
BREAKER_TIMEOUT_KEY = "EVENT_STORE_BREAKER_TIMEOUT"
DEFAULT_BREAKER_TIMEOUT = 2.0
#: Classes of stored events already checked against the library's `DomainEventProtocol`.
_EVENT_TYPES: set[type] = set()


class CustomersApplication(Application[UUID]):
    """Event store for customers, email claims and idempotency records (one ordered log).

    Personal values of Customer events are sealed with a key per customer (see
    `write_side.application.crypto`); `keys` is that key store, `keys.shred(id)` erases.
    `index_key` keys the identity hashes (email claims, idempotency keys).
    """

    name = "Customers"
    keys: RotatableKeyStore
    index_key: bytes
    phones: PhoneBook
    audit: AuditChain
    #: PostgreSQL only: fails requests fast while the event store is away.
    breaker: EventStoreBreaker | None = None

    def __init__(
        self, env: EnvType | None = None, *, master_keys: MasterKeys, sealer: Sealer
    ) -> None:
        self._ring = KeyRing(master_keys)
        self._sealer = sealer
        super().__init__(env)
        self.index_key = identity_hash_key(self.keys)
        self.audit.backfill()
        if self.snapshots is not None:
            raise ProgrammingError("snapshots would hold personal data in clear; keep them off")

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's save; events of a type seen before skip its runtime-protocol
        `isinstance`, which re-derives the protocol's members on every call (py-spy: 15% of
        the group committer's time at a bulk import's 3,000 events per transaction)."""
        for obj in objs:  # each new class checked once, not each of its 3,000 events
            if type(obj) not in _EVENT_TYPES and isinstance(obj, DomainEventProtocol):
                _EVENT_TYPES.add(type(obj))
        if not objs or any(type(obj) not in _EVENT_TYPES for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(objs)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated, but the library calls it too
        return recordings

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's environment, with the recorder that writes key rows with events."""
        environment = super().construct_env(name, env)
        topic = RECORDER_TOPICS.get(environment.get("PERSISTENCE_MODULE") or "")
        if topic and not environment.get("APPLICATION_RECORDER_TOPIC"):
            environment["APPLICATION_RECORDER_TOPIC"] = topic
        return environment

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        """The library's factory; on PostgreSQL its datastore gets the circuit breaker, so an
        outage is a 503 within the service timeout instead of after the library's retries."""
        factory = super().construct_factory(env)
        datastore = getattr(factory, "datastore", None)
        if isinstance(datastore, PostgresDatastore):
            timeout = float(env.get(BREAKER_TIMEOUT_KEY) or DEFAULT_BREAKER_TIMEOUT)
            self.breaker = install_breaker(datastore, timeout_seconds=timeout)
        return factory

    def construct_mapper(self) -> Mapper[UUID]:
        """The encrypting mapper, with the key store in the event store's database."""
        self.keys = open_key_store(self.factory, self._ring)
        return EncryptingMapper(
            self.construct_transcoder(),
            self.factory.compressor(),
            self.factory.cipher(),
            keys=self.keys,
        )

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder for the backend, writing staged keys with the events."""
        recorder = super().construct_recorder()
        attach_key_store(recorder, self.keys)
        self.phones = attach_phone_book(recorder)
        self.audit = attach_audit_chain(recorder, self._sealer)
        return recorder


def sqlite_event_file(settings: Settings) -> Path | None:
    """The SQLite file of the event store (None on PostgreSQL).

    Unset, it is `events.db` in the data dir, taken as a path: turning a relative data dir
    into `sqlite:///.customers/...` made it `/.customers/` at the filesystem root.
    """
    if not settings.event_store_url:
        return settings.data_dir / "events.db"
    parsed = urlparse(settings.event_store_url)
    if parsed.scheme != "sqlite":
        return None
    return Path("/" + unquote(parsed.path).lstrip("/"))  # sqlite:////abs and sqlite:///abs


def event_store_env(settings: Settings, *, pool_size: int = 8) -> dict[str, str]:
    """Translate `CUSTOMERS_EVENT_STORE_URL` into the eventsourcing library's environment.

    PostgreSQL keeps the library's table lock (`POSTGRES_ENABLE_DB_FUNCTIONS` stays off), so
    readers of the notification log never miss an event.
    """
    path = sqlite_event_file(settings)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    parsed = urlparse(settings.event_store_url or "")
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
        BREAKER_TIMEOUT_KEY: str(settings.service_timeout_seconds),
    }
    # The library passes no TLS options to libpq; libpq reads them from PGSSL* variables of
    # this process (`?sslmode=verify-full&sslrootcert=/ca.pem` in the URL).
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl"):
        if key in options:
            os.environ[f"PG{key.upper()}"] = options[key]
    if "schema" in options:
        env["POSTGRES_SCHEMA"] = options["schema"]
    return env


def open_event_store(settings: Settings) -> CustomersApplication:
    """Open (and create if needed) the event store named by the settings.

    Customer keys are wrapped by keys derived from the `CUSTOMERS_MASTER_KEY` ring, or when
    unset from the secret generated in the data dir (`Settings.resolved_master_keys`).
    """
    env = event_store_env(settings)
    if "POSTGRES_SCHEMA" in env:
        _ensure_schema(env)
    sealer = Sealer(
        settings.resolved_audit_key(),
        every_events=settings.audit_seal_events,
        every_seconds=settings.audit_seal_seconds,
    )
    return CustomersApplication(env=env, master_keys=settings.resolved_master_keys(), sealer=sealer)


def _ensure_schema(env: dict[str, str]) -> None:
    import psycopg
    from psycopg import sql

    # Two `serve --workers` starting together both pass the IF NOT EXISTS check; the loser's
    # CREATE then trips the catalog's unique index: the schema exists, fine.
    with (
        psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            autocommit=True,
        ) as connection,
        contextlib.suppress(psycopg.errors.UniqueViolation),
    ):
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(env["POSTGRES_SCHEMA"]))
        )
