"""Encryption at rest of personal data with one key per customer (crypto-shredding).

`EncryptingMapper` seals the personal values named in `personal_paths.PERSONAL_PATHS`;
`CustomerKeyStore` keeps each customer's data key wrapped by the master key, in the event
store's own database; shredding a key turns that customer's personal values into "[erased]".
"""

from write_side.application.crypto.key_store import (
    CustomerKeyStore,
    KeyShredded,
    MasterKeyMismatch,
    WrappedKeyStore,
)
from write_side.application.crypto.mapper import EncryptingMapper
from write_side.application.crypto.personal_paths import PERSONAL_ATTRIBUTES, PERSONAL_PATHS
from write_side.application.crypto.pii_cipher import ERASED, derive_wrapping_key

__all__ = [
    "ERASED",
    "PERSONAL_ATTRIBUTES",
    "PERSONAL_PATHS",
    "CustomerKeyStore",
    "EncryptingMapper",
    "KeyShredded",
    "MasterKeyMismatch",
    "WrappedKeyStore",
    "derive_wrapping_key",
]
