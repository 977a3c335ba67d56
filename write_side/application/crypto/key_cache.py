"""A bounded, thread-safe LRU of unwrapped customer keys, with a time-to-live.

The time-to-live bounds how long another process may keep decrypting after a shred there;
shredded entries are kept (they never become readable again) until the LRU drops them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from write_side.application.crypto.pii_cipher import customer_aad

#: Ciphers kept ready for the most recently used keys. An `AESGCM` holds ~2.3 KB outside the
#: Python heap: one per cached key made the cache of 65,536 keys ~150 MB, and a bulk import's
#: RSS grew with every customer it created (docs/benchmarks.md). Building one takes ~7 µs.
READY_CIPHERS = 1024


@dataclass(frozen=True, slots=True)
class DataKey:
    """An unwrapped data key and its AAD; `aead` is its cipher."""

    customer_id: UUID
    secret: bytes
    aad: bytes

    @classmethod
    def of(cls, customer_id: UUID, secret: bytes) -> DataKey:
        """The key of a customer from its raw 256 bits."""
        return cls(customer_id, secret, customer_aad(customer_id))

    @property
    def aead(self) -> AESGCM:
        """The key's AES-GCM cipher (one of the few kept ready, else built)."""
        return _cipher(self.secret)


@functools.lru_cache(maxsize=READY_CIPHERS)
def _cipher(secret: bytes) -> AESGCM:
    return AESGCM(secret)


class _Shredded:
    def __repr__(self) -> str:
        return "SHREDDED"


SHREDDED: Final = _Shredded()
CacheEntry = DataKey | _Shredded


#: Keys kept between batches. A cached key costs ~450 bytes (the entry, its UUID, secret and
#: AAD): 65,536 of them were ~29 MB, filled by the first catch-up of a log of 65,536
#: customers and most of the service's RSS growth from 10,000 to 100,000 customers
#: (docs/benchmarks.md, "Memory as data grows"). Readers of the log hold their batch's keys
#: themselves (`WrappedKeyStore.batch`), so the LRU only saves a look-up across batches.
MAX_KEYS = 8192


class KeyCache:
    """LRU of `DataKey`s (and `SHREDDED` markers) by customer id."""

    def __init__(
        self,
        max_entries: int = MAX_KEYS,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[UUID, tuple[float, CacheEntry]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, customer_id: UUID) -> CacheEntry | None:
        """The cached entry, or None when absent or (for a key) older than the TTL."""
        with self._lock:
            item = self._entries.get(customer_id)
            if item is None:
                return None
            stored_at, entry = item
            if entry is not SHREDDED and self._clock() - stored_at > self._ttl:
                del self._entries[customer_id]
                return None
            self._entries.move_to_end(customer_id)
            return entry

    def put(self, customer_id: UUID, entry: CacheEntry, *, over_shredded: bool = True) -> None:
        """Remember an entry, dropping the least recently used beyond the bound.

        With `over_shredded=False` a `SHREDDED` marker already there is kept.
        """
        with self._lock:
            current = self._entries.get(customer_id)
            if not over_shredded and current is not None and current[1] is SHREDDED:
                return
            self._entries[customer_id] = (self._clock(), entry)
            self._entries.move_to_end(customer_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def drop_keys(self) -> None:
        """Forget every key (shredded markers stay): each is read again from the store, where
        a key shredded by another process, whose signal was lost, is a tombstone."""
        with self._lock:
            for customer_id in [k for k, (_, e) in self._entries.items() if e is not SHREDDED]:
                del self._entries[customer_id]

    def __len__(self) -> int:
        return len(self._entries)
