"""The customer key store: a port, and the wrapping/caching/staging its SQL adapters share.

Keys of customers created in a save are *staged* by the mapper (per thread, no I/O) and written
by the event recorder in the same transaction as the events, so an event is never stored
without its key and a failed save leaves no key behind. Other keys are read or created through
the adapter's own short transactions.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.persistence import IntegrityError

from write_side.application.crypto.key_cache import SHREDDED, CacheEntry, DataKey, KeyCache
from write_side.application.crypto.key_ring import KeyRing
from write_side.application.crypto.pii_cipher import new_data_key, unwrap_key, wrap_key

KEY_TABLE = "customer_keys"
_PREFETCH_CHUNK = 500
#: More new keys than this in one save: a bulk import's chunk, whose keys are not cached.
CACHED_NEW_KEYS = 512


class KeyShredded(IntegrityError):
    """The customer's key was shredded: their personal data can be neither read nor written.

    An `IntegrityError`, like a concurrent write: the group committer then saves the other
    commands of its batch on their own, and the command decides again on the erased customer.
    """


class MasterKeyMismatch(RuntimeError):
    """A stored key was wrapped by another master key: refuse rather than show data as erased."""


class CustomerKeyStore(ABC):
    """Port: one 256-bit data key per customer, until it is shredded."""

    @abstractmethod
    def get_or_create(self, customer_id: UUID) -> bytes:
        """The customer's data key, created when missing; `KeyShredded` once shredded."""

    @abstractmethod
    def get(self, customer_id: UUID) -> bytes | None:
        """The customer's data key, or None when it does not exist (any more)."""

    @abstractmethod
    def shred(self, customer_id: UUID) -> None:
        """Destroy the customer's key for good (crypto-shredding); idempotent."""


@dataclass(frozen=True, slots=True)
class StagedKey:
    """A new key waiting to be written with the first events that use it."""

    key: DataKey
    wrapped: bytes


StoredRow = tuple[bytes | None, str]  # (wrapped key or None once shredded, wrapping key id)


class WrappedKeyStore(CustomerKeyStore):
    """Keys at rest are wrapped (AES-256-GCM) by the current master key, and unwrapped by the
    ring's key their row names; unwrapped keys are cached."""

    def __init__(self, ring: KeyRing, cache: KeyCache | None = None) -> None:
        self.ring = ring
        self._wrapper = ring.current.aead
        self.kek_id = ring.current.kek_id
        self._cache = cache if cache is not None else KeyCache()
        self._local = threading.local()
        self._load_first: dict[UUID, None] = {}  # customers whose key row may predate events
        self.on_shred: list[Callable[[UUID], None]] = []  # e.g. a broadcast to other processes

    # -- adapter operations (each its own short transaction) ---------------------------------

    @abstractmethod
    def _select(self, customer_id: UUID) -> StoredRow | None:
        """The stored row, if any."""

    def _select_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, StoredRow]:
        """The stored rows of several customers (adapters override with one query)."""
        rows = {customer_id: self._select(customer_id) for customer_id in customer_ids}
        return {customer_id: row for customer_id, row in rows.items() if row is not None}

    @abstractmethod
    def _insert_if_absent(self, customer_id: UUID, wrapped: bytes) -> None:
        """Insert a key row unless one exists (the concurrent winner's key is then used)."""

    @abstractmethod
    def _tombstone(self, customer_id: UUID) -> None:
        """Erase the wrapped key, keeping a row that says it was shredded."""

    # -- the port ---------------------------------------------------------------------------

    def get_or_create(self, customer_id: UUID) -> bytes:
        """The customer's data key, created (in its own transaction) when missing."""
        return self._cached_or_loaded(customer_id, create=True).secret

    def get(self, customer_id: UUID) -> bytes | None:
        """The customer's data key, or None once shredded."""
        key = self.key_for_read(customer_id)
        return key.secret if key is not None else None

    def shred(self, customer_id: UUID) -> None:
        """Tombstone the row, evict the cached key here and tell `on_shred` listeners (other
        processes evict theirs on that signal, or within the cache's TTL without it)."""
        self._tombstone(customer_id)
        self.forget(customer_id)
        for listener in self.on_shred:
            listener(customer_id)

    def forget(self, customer_id: UUID) -> None:
        """Treat a key as shredded from now on (it was tombstoned, here or elsewhere)."""
        self._cache.put(customer_id, SHREDDED)
        self._staged().pop(customer_id, None)
        pinned: dict[UUID, CacheEntry] | None = getattr(self._local, "pinned", None)
        if pinned is not None and customer_id in pinned:
            pinned[customer_id] = SHREDDED

    def forget_all(self) -> None:
        """Signals of shreds elsewhere may have been lost: drop every cached key."""
        self._cache.drop_keys()

    # -- the mapper's side --------------------------------------------------------------------

    def key_for_write(self, customer_id: UUID, *, first_event: bool) -> DataKey:
        """The key to seal a new event with. For an aggregate's first event a fresh key is
        staged without any I/O; it is written with the events by the recorder."""
        staged = self._staged().get(customer_id)
        if staged is not None:
            return staged.key
        if (
            first_event
            and customer_id not in self._load_first
            and self._cache.get(customer_id) is None
        ):
            key = DataKey.of(customer_id, new_data_key())
            wrapped = wrap_key(self._wrapper, customer_id, key.secret)
            self._staged()[customer_id] = StagedKey(key, wrapped)
            return key
        return self._cached_or_loaded(customer_id, create=True)

    def key_for_read(self, customer_id: UUID) -> DataKey | None:
        """The key to open stored values with; None when shredded (or never stored)."""
        try:
            return self._cached_or_loaded(customer_id, create=False)
        except KeyShredded:
            return None

    @contextmanager
    def batch(self, customer_ids: Sequence[UUID]) -> Iterator[None]:
        """Prefetch these customers' keys and hold them on this thread for the block, and
        within it let key reads on this thread skip the look for shreds elsewhere that
        `prefetch` just made (one `stat` per event was a sixth of a projection's log
        reading). A shred signalled during the block is seen at the next batch: the block
        reads one batch of the log, as of its start. Held here, not only in the shared LRU,
        the keys of a batch stay at hand however small the LRU is and however many readers
        prefetch at once (a backfilling projection's batch holds 2,000 customers)."""
        outer = getattr(self._local, "pinned", None), getattr(self._local, "in_batch", False)
        self._local.pinned = self.prefetch(customer_ids)
        self._local.in_batch = True
        try:
            yield
        finally:
            self._local.pinned, self._local.in_batch = outer

    def prefetch(self, customer_ids: Sequence[UUID]) -> dict[UUID, CacheEntry]:
        """Load the keys of these customers that are not cached yet, in one query per chunk
        (readers of the log call this per batch instead of one lookup per customer); the
        entries of all of them that exist (keys and shredded markers)."""
        self._evict_shredded_elsewhere()
        found: dict[UUID, CacheEntry] = {}
        missing = []
        for customer_id in dict.fromkeys(customer_ids):
            entry = self._cache.get(customer_id)
            if entry is None:
                missing.append(customer_id)
            else:
                found[customer_id] = entry
        for start in range(0, len(missing), _PREFETCH_CHUNK):
            chunk = missing[start : start + _PREFETCH_CHUNK]
            for customer_id, (wrapped, kek_id) in self._select_many(chunk).items():
                if wrapped is None:
                    found[customer_id] = SHREDDED
                    self._cache.put(customer_id, SHREDDED)
                else:
                    key = DataKey.of(customer_id, self._unwrap(customer_id, wrapped, kek_id))
                    found[customer_id] = key
                    self._cache.put(customer_id, key, over_shredded=False)
        return found

    # -- the recorder's side ------------------------------------------------------------------

    def take_staged(self) -> list[StagedKey]:
        """Hand this thread's staged keys to the recorder (they leave the staging area)."""
        staged = self._staged()
        taken = list(staged.values())
        staged.clear()
        return taken

    def discard_staged(self) -> None:
        """Forget this thread's staged keys (the save failed before reaching the recorder)."""
        self._staged().clear()

    def committed(self, staged: Sequence[StagedKey]) -> None:
        """The events and their new keys are durable: cache the keys (unless shredded since).
        A save creating more than `CACHED_NEW_KEYS` customers is a bulk import's chunk: its
        keys would only evict the keys of customers in use, so they are not cached."""
        if len(staged) > CACHED_NEW_KEYS:
            return
        for item in staged:
            self._cache.put(item.key.customer_id, item.key, over_shredded=False)

    def key_rows_conflicted(self, staged: Sequence[StagedKey]) -> None:
        """A staged key met an existing row: next time, use the stored key instead."""
        if len(self._load_first) > 4096:
            self._load_first.clear()
        self._load_first.update(dict.fromkeys(item.key.customer_id for item in staged))

    # -- internals ----------------------------------------------------------------------------

    def _staged(self) -> dict[UUID, StagedKey]:
        staged: dict[UUID, StagedKey] | None = getattr(self._local, "staged", None)
        if staged is None:
            staged = self._local.staged = {}
        return staged

    def _evict_shredded_elsewhere(self) -> None:
        """Forget keys other processes shredded (adapters without a signal of their own)."""

    def _cached_or_loaded(self, customer_id: UUID, *, create: bool) -> DataKey:
        pinned: dict[UUID, CacheEntry] | None = getattr(self._local, "pinned", None)
        entry = pinned.get(customer_id) if pinned is not None else None
        if entry is None:
            if not getattr(self._local, "in_batch", False):
                self._evict_shredded_elsewhere()
            entry = self._cache.get(customer_id)
        if isinstance(entry, DataKey):
            return entry
        if entry is SHREDDED:
            raise KeyShredded(str(customer_id))
        row = self._select(customer_id)
        if row is None and create:
            self._insert_if_absent(customer_id, self._wrap_new(customer_id))
            row = self._select(customer_id)
        if row is None:
            raise KeyShredded(str(customer_id))  # never stored: nothing can be decrypted
        wrapped, kek_id = row
        if wrapped is None:
            self._cache.put(customer_id, SHREDDED)
            raise KeyShredded(str(customer_id))
        key = DataKey.of(customer_id, self._unwrap(customer_id, wrapped, kek_id))
        self._cache.put(customer_id, key)
        return key

    def _wrap_new(self, customer_id: UUID) -> bytes:
        return wrap_key(self._wrapper, customer_id, new_data_key())

    def _unwrap(self, customer_id: UUID, wrapped: bytes, kek_id: str) -> bytes:
        key = self.ring.find(kek_id)
        if key is None:
            raise MasterKeyMismatch(
                f"customer key {customer_id} was wrapped by the master key of fingerprint "
                f"{kek_id}, which no key of CUSTOMERS_MASTER_KEY ({self.ring.ids}) matches: "
                "add that key back to the ring"
            )
        try:
            return unwrap_key(key.aead, customer_id, bytes(wrapped))
        except InvalidTag as error:
            raise MasterKeyMismatch(f"customer key {customer_id} does not unwrap") from error
