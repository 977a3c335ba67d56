"""Which phone book goes with the configured event store, attached to its recorder."""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder, ProgrammingError

from write_side.adapters.postgres_audit_chain import PostgresAuditChain
from write_side.adapters.postgres_phone_book import CustomersPostgresRecorder, PostgresPhoneBook
from write_side.adapters.sqlite_audit_chain import SQLiteAuditChain
from write_side.adapters.sqlite_phone_book import CustomersSQLiteRecorder, SQLitePhoneBook
from write_side.application.audit_chain import Sealer
from write_side.application.phone_book import PhoneBook

AuditChain = SQLiteAuditChain | PostgresAuditChain


def attach_phone_book(recorder: ApplicationRecorder) -> PhoneBook:
    """Create the phone book beside the recorder's events and let the recorder write it."""
    if isinstance(recorder, CustomersSQLiteRecorder):
        sqlite_book = SQLitePhoneBook(recorder.datastore)
        recorder.phone_book = sqlite_book
        return sqlite_book
    if isinstance(recorder, CustomersPostgresRecorder):
        postgres_book = PostgresPhoneBook(recorder.datastore)
        recorder.phone_book = postgres_book
        return postgres_book
    raise ProgrammingError(
        f"{type(recorder).__name__} cannot write phone rows; use the recorders named in"
        " write_side.adapters.key_backends.RECORDER_TOPICS"
    )


def attach_audit_chain(recorder: ApplicationRecorder, sealer: Sealer) -> AuditChain:
    """Create the hash chain's tables beside the recorder's events and let it write them."""
    if isinstance(recorder, CustomersSQLiteRecorder):
        sqlite_chain = SQLiteAuditChain(recorder.datastore, recorder.events_table_name, sealer)
        recorder.audit_chain = sqlite_chain
        return sqlite_chain
    if isinstance(recorder, CustomersPostgresRecorder):
        postgres_chain = PostgresAuditChain(recorder, sealer)
        recorder.audit_chain = postgres_chain
        return postgres_chain
    raise ProgrammingError(f"{type(recorder).__name__} cannot chain event hashes")
