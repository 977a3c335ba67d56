"""Who holds a phone number now: one row per customer, written with the customer's events.

Attendee and payment matching asks "is exactly one active customer using this number?". An
aggregate per number listing every customer who ever had it grew without bound (a shared
front-desk number, a placeholder in an import), and every create with that number read it
and competed to append to it. Instead each customer owns one row — its current phone's keyed
hash, NULL while it has no phone or is not active — upserted by the event recorder in the
same transaction as the customer's events. A create writes only its own row (no read, no
conflict with anyone), and a match reads at most two rows of an index, so neither cost
depends on how many customers share or shared the number. No number is stored: the key is an
HMAC of tenant and number (`keyed_id`), like the email claims' ids.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

PHONE_TABLE = "phone_holders"
BACKFILL_MARK = "phone-index-aggregates-v1"

PhoneRows = Mapping[UUID, UUID | None]
"""Customer id -> keyed hash of the phone it now holds, or None (no phone, deleted, erased)."""


class PhoneBook(ABC):
    """Port: current phone holders, kept in the event store's own database."""

    @abstractmethod
    def holders(self, phone_key: UUID, *, limit: int = 2) -> list[UUID]:
        """Up to `limit` customers currently holding the phone (active ones only)."""

    def holders_of(self, phone_keys: Sequence[UUID], *, limit: int = 2) -> dict[UUID, list[UUID]]:
        """`holders` of several phones (a batch of orders asks for all of its phones at once;
        adapters with a network round trip answer in one query)."""
        return {key: self.holders(key, limit=limit) for key in dict.fromkeys(phone_keys)}

    @abstractmethod
    def insert_missing(self, rows: PhoneRows) -> int:
        """Insert rows for customers that have none yet (a backfill never overwrites what a
        command wrote meanwhile); returns how many were new."""

    @abstractmethod
    def is_marked(self, name: str) -> bool:
        """True once the one-off step `name` completed."""

    @abstractmethod
    def mark(self, name: str) -> None:
        """Record that the one-off step `name` completed."""


def ordered_rows(rows: PhoneRows) -> list[tuple[UUID, UUID | None]]:
    """Rows in customer-id order, so concurrent transactions lock them in one order."""
    return sorted(rows.items(), key=lambda item: item[0].bytes)


def merge_rows(groups: Iterable[PhoneRows]) -> dict[UUID, UUID | None]:
    """Rows of several commands saved together (a later command's row wins)."""
    merged: dict[UUID, UUID | None] = {}
    for rows in groups:
        merged.update(rows)
    return merged


def latest_conflicts(first_versions: Mapping[UUID, int], stored: Mapping[UUID, int]) -> set[UUID]:
    """Aggregates whose first new version is already taken in the store."""
    return {oid for oid, version in first_versions.items() if stored.get(oid, 0) >= version}


def chunks(items: Sequence[UUID], size: int = 500) -> Iterable[Sequence[UUID]]:
    """Slices of at most `size` ids (one query each)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
