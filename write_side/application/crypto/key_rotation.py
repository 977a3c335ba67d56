"""Master-key rotation: re-wrap every stored key under the ring's current key, resumably.

Each batch of rows is re-wrapped in its own short transaction, and only rows still naming
another key are picked, so an interrupted rotation continues where it stopped and a finished
one finds nothing to do. The update is conditional on the row still holding a key under the
old fingerprint: a customer erased meanwhile keeps its tombstone (a shred always wins), and
the data keys themselves never change, so the caches of running processes stay valid.

The key of the identity hashes (emails, idempotency keys) lives here too, wrapped like a
customer key: it must outlive every master key, or removing an old key after a rotation
would change every email claim's id and let duplicates in.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID, uuid5

from cryptography.exceptions import InvalidTag

from shared.errors import ConfigurationError
from write_side.application.crypto.key_store import MasterKeyMismatch, WrappedKeyStore
from write_side.application.crypto.pii_cipher import unwrap_key, wrap_key

KeyRow = tuple[UUID, bytes, str]  # customer id, wrapped key, fingerprint of its wrapping key
SECRETS_TABLE = "master_secrets"
IDENTITY_HASH_SECRET = "identity-hash"  # noqa: S105 - a row name, not a secret
ROTATION_BATCH = 500
_SECRETS_AAD = UUID("6f1c1b4e-8a3d-4f0e-9c55-2d7a10b3e001")  # namespace of secret names


class RotatableKeyStore(WrappedKeyStore):
    """A key store whose rows can be listed and re-wrapped (the SQL adapters)."""

    @abstractmethod
    def live_keys_by_kek(self) -> dict[str, int]:
        """How many keys (shredded ones excluded) each wrapping key's fingerprint wraps."""

    @abstractmethod
    def rows_to_rewrap(self, after: UUID | None, limit: int) -> list[KeyRow]:
        """Up to `limit` live rows not under the current key, past `after`, by customer id."""

    @abstractmethod
    def rewrap_rows(self, rows: Sequence[KeyRow]) -> int:
        """Store each row's new wrapping (under the current key) if the row still holds a
        key under the fingerprint given; one transaction. The count actually updated."""

    @abstractmethod
    def secret_row(self, name: str) -> tuple[bytes, str] | None:
        """A deployment secret's wrapped value and wrapping fingerprint, if stored."""

    @abstractmethod
    def put_secret(self, name: str, wrapped: bytes, *, replacing: str | None) -> None:
        """Insert a secret unless present (`replacing` None), or re-wrap it if it is still
        under the fingerprint `replacing`."""

    def finish_rotation(self) -> None:
        """After the last batch: let no copy of the old wrappings linger (adapters)."""


class RingLacksKey(ConfigurationError):
    """At start: a stored deployment secret is wrapped by no key of the ring. A setting to
    fix (one line, exit 2), unlike `MasterKeyMismatch` met while reading a customer."""


def identity_hash_key(store: RotatableKeyStore) -> bytes:
    """The key of the identity hashes, created on first use from the master key that wraps
    the stored customer keys (before rotation existed, the identity hashes used the master
    key itself: a deployment that lists a new key first keeps its email claims)."""
    row = store.secret_row(IDENTITY_HASH_SECRET)
    if row is None:
        seed = _seed(store)
        aad = _secret_id(IDENTITY_HASH_SECRET)
        store.put_secret(IDENTITY_HASH_SECRET, wrap_key(store.ring.current.aead, aad, seed),
                         replacing=None)  # fmt: skip
        row = store.secret_row(IDENTITY_HASH_SECRET)
    if row is None:  # pragma: no cover - the insert above or a concurrent one stored it
        raise MasterKeyMismatch("the identity-hash key could not be stored")
    if store.ring.find(row[1]) is None:
        raise RingLacksKey(
            f"CUSTOMERS_MASTER_KEY ({store.ring.ids}) holds no key of fingerprint {row[1]}, "
            "which wraps the stored identity-hash key: add the key it was written with "
            "(after the current one; `customers keys rotate` then moves everything over)"
        )
    return _unwrap(store, _secret_id(IDENTITY_HASH_SECRET), row[0], row[1])


def _seed(store: RotatableKeyStore) -> bytes:
    existing = store.live_keys_by_kek()
    if not existing:
        return store.ring.current.secret
    for kek_id in existing:
        key = store.ring.find(kek_id)
        if key is not None:
            return key.secret
    raise RingLacksKey(
        f"the stored customer keys are wrapped by master key(s) of fingerprint "
        f"{', '.join(sorted(existing))}, none of CUSTOMERS_MASTER_KEY ({store.ring.ids}): "
        "add the key they were written with"
    )


@dataclass(frozen=True, slots=True)
class RotationPlan:
    """What a rotation has left to do: live keys per wrapping key, the current one apart."""

    current: int
    pending: dict[str, int]  # fingerprint → live keys it still wraps (configured keys)
    unknown: dict[str, int]  # fingerprint → live keys wrapped by a key not in the ring

    @property
    def to_rewrap(self) -> int:
        """Keys the rotation will re-wrap."""
        return sum(self.pending.values())


def plan(store: RotatableKeyStore) -> RotationPlan:
    """Count the keys per wrapping key (one scan of the key table)."""
    counts = store.live_keys_by_kek()
    current = counts.pop(store.kek_id, 0)
    pending = {kek: n for kek, n in counts.items() if store.ring.find(kek) is not None}
    unknown = {kek: n for kek, n in counts.items() if kek not in pending}
    return RotationPlan(current, pending, unknown)


def rotate(
    store: RotatableKeyStore,
    *,
    progress: Callable[[int], None] | None = None,
    batch: int = ROTATION_BATCH,
) -> int:
    """Re-wrap every live key (and the deployment secrets) under the current master key,
    one committed batch at a time; `progress(rewrapped so far)` after each. The count."""
    _rotate_secrets(store)
    rewrapped, after = 0, None
    while rows := store.rows_to_rewrap(after, batch):
        fresh = [
            (cid, wrap_key(store.ring.current.aead, cid, _unwrap(store, cid, wrapped, kek)), kek)
            for cid, wrapped, kek in rows
        ]
        rewrapped += store.rewrap_rows(fresh)
        after = rows[-1][0]
        if progress is not None:
            progress(rewrapped)
    store.finish_rotation()
    return rewrapped


def _rotate_secrets(store: RotatableKeyStore) -> None:
    row = store.secret_row(IDENTITY_HASH_SECRET)
    if row is None or row[1] == store.kek_id:
        return
    aad = _secret_id(IDENTITY_HASH_SECRET)
    secret = _unwrap(store, aad, row[0], row[1])
    wrapped = wrap_key(store.ring.current.aead, aad, secret)
    store.put_secret(IDENTITY_HASH_SECRET, wrapped, replacing=row[1])


def _unwrap(store: RotatableKeyStore, aad_id: UUID, wrapped: bytes, kek_id: str) -> bytes:
    key = store.ring.find(kek_id)
    if key is None:
        raise MasterKeyMismatch(
            f"key {aad_id} is wrapped by the master key of fingerprint {kek_id}, which no key "
            f"of CUSTOMERS_MASTER_KEY ({store.ring.ids}) matches: add that key back"
        )
    try:
        return unwrap_key(key.aead, aad_id, bytes(wrapped))
    except InvalidTag as error:
        raise MasterKeyMismatch(f"key {aad_id} does not unwrap") from error


def _secret_id(name: str) -> UUID:
    return uuid5(_SECRETS_AAD, name)
