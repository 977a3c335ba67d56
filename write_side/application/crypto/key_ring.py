"""The wrapping keys derived from the master key ring, found by the fingerprint stored beside
every wrapped key.

A stored key names its wrapping key by fingerprint (`kek_id`), not by the operator's id: ids
are labels in a variable and can be renamed or reused, while a fingerprint always names the
same key, and rows written before rotation existed already carry one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.master_keys import MasterKey, MasterKeys
from write_side.application.crypto.pii_cipher import derive_wrapping_key, key_fingerprint


@dataclass(frozen=True, slots=True)
class WrappingKey:
    """One master key, ready to wrap: its id, fingerprint, cipher and configured secret."""

    id: str
    kek_id: str
    aead: AESGCM
    secret: bytes

    @classmethod
    def of(cls, key: MasterKey) -> WrappingKey:
        """The wrapping key derived (HKDF) from one master key."""
        wrapping = derive_wrapping_key(key.secret)
        return cls(key.id, key_fingerprint(wrapping), AESGCM(wrapping), key.secret)

    def __repr__(self) -> str:
        return f"WrappingKey(id={self.id!r}, kek_id={self.kek_id!r})"


class KeyRing:
    """The current wrapping key and every older one still configured."""

    def __init__(self, keys: MasterKeys) -> None:
        self.keys = tuple(WrappingKey.of(key) for key in keys.keys)
        self.current = self.keys[0]
        self._by_kek = {key.kek_id: key for key in self.keys}

    @classmethod
    def of(cls, secret: str | bytes) -> KeyRing:
        """A ring of one plain key (tests, benchmarks, the generated data-dir key)."""
        return cls(MasterKeys.single(secret))

    def find(self, kek_id: str) -> WrappingKey | None:
        """The configured key with this fingerprint, if any."""
        return self._by_kek.get(kek_id)

    def describe(self, kek_id: str) -> str:
        """`'id' (fingerprint)` for a configured key, else the bare fingerprint."""
        key = self.find(kek_id)
        return f"{key.id!r} ({kek_id})" if key else kek_id

    @property
    def ids(self) -> str:
        """The configured ids, current first (for messages)."""
        return ", ".join(key.id for key in self.keys)
