"""Which key store and which event recorder go with the configured persistence module."""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, ProgrammingError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from write_side.adapters.postgres_keys import (
    KeyedPostgresApplicationRecorder,
    PostgresCustomerKeyStore,
)
from write_side.adapters.sqlite_keys import (
    KeyedSQLiteApplicationRecorder,
    SQLiteCustomerKeyStore,
)
from write_side.application.crypto.key_cache import KeyCache
from write_side.application.crypto.key_ring import KeyRing
from write_side.application.crypto.key_rotation import RotatableKeyStore
from write_side.application.crypto.key_store import WrappedKeyStore

# The customers' recorders: they write key rows and phone rows with the events.
RECORDER_TOPICS = {
    "eventsourcing.sqlite": "write_side.adapters.sqlite_phone_book:CustomersSQLiteRecorder",
    "eventsourcing.postgres": "write_side.adapters.postgres_phone_book:CustomersPostgresRecorder",
}


def open_key_store(
    factory: InfrastructureFactory, ring: KeyRing, cache: KeyCache | None = None
) -> RotatableKeyStore:
    """The key store in the event store's own database (creating its table if missing)."""
    datastore = getattr(factory, "datastore", None)
    if isinstance(datastore, SQLiteDatastore):
        return SQLiteCustomerKeyStore(datastore, ring, cache)
    if isinstance(datastore, PostgresDatastore):
        return PostgresCustomerKeyStore(datastore, ring, cache)
    raise ProgrammingError("per-customer encryption needs the SQLite or PostgreSQL event store")


def attach_key_store(recorder: ApplicationRecorder, keys: WrappedKeyStore) -> None:
    """Let the recorder write staged keys with the events; refuse a recorder that cannot."""
    if (
        isinstance(recorder, KeyedSQLiteApplicationRecorder)
        and isinstance(keys, SQLiteCustomerKeyStore)
    ) or (
        isinstance(recorder, KeyedPostgresApplicationRecorder)
        and isinstance(keys, PostgresCustomerKeyStore)
    ):
        recorder.key_store = keys
    else:
        raise ProgrammingError(
            f"{type(recorder).__name__} cannot write customer keys; set APPLICATION_RECORDER_TOPIC"
            f" to one of {sorted(RECORDER_TOPICS.values())}"
        )
