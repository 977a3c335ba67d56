"""Which phone book goes with the configured event store, attached to its recorder."""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder, ProgrammingError

from write_side.adapters.postgres_phone_book import CustomersPostgresRecorder, PostgresPhoneBook
from write_side.adapters.sqlite_phone_book import CustomersSQLiteRecorder, SQLitePhoneBook
from write_side.application.phone_book import PhoneBook


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
        " write_side.application.crypto.backends.RECORDER_TOPICS"
    )
