"""AES-256-GCM primitives for personal data: value sealing and data-key wrapping.

A sealed value is `{"$enc": base64(nonce || ciphertext+tag)}`; its AAD is the customer id, so a
value copied into another customer's event does not decrypt. Data keys are wrapped with a key
derived (HKDF-SHA256) from the master secret, with the customer id as AAD as well.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.events.values import ERASED as ERASED  # re-exported for the mapper

ENC_MARK = "$enc"
NONCE_BYTES = 12
KEY_BYTES = 32
_WRAP_INFO = b"customer-management/customer-keys/wrap/v1"


def derive_wrapping_key(secret: bytes | str) -> bytes:
    """The 256-bit key-wrapping key from the master secret.

    A secret that is the base64 (standard or URL-safe, padding optional) form of 32 bytes is
    decoded first; any other string is used as it is. Either way HKDF-SHA256 separates this
    key from other uses of the same secret (the keyed hashes of emails, for instance).
    """
    raw = secret.encode() if isinstance(secret, str) else secret
    material = _decode_32(raw) or raw
    if not material:
        raise ValueError("the master key is empty")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_WRAP_INFO)
    return hkdf.derive(material)


def _decode_32(raw: bytes) -> bytes | None:
    text = raw.strip()
    padded = text + b"=" * (-len(text) % 4)
    for altchars in (b"-_", b"+/"):
        try:
            decoded = base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(decoded) == KEY_BYTES:
            return decoded
    return None


def key_fingerprint(wrapping_key: bytes) -> str:
    """A short public id of a wrapping key (stored beside wrapped keys; detects a wrong key)."""
    return hmac.new(wrapping_key, b"kek-id", hashlib.sha256).hexdigest()[:16]


def customer_aad(customer_id: UUID) -> bytes:
    """The associated data binding ciphertexts to one customer."""
    return str(customer_id).encode()


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return os.urandom(KEY_BYTES)


def wrap_key(wrapping_key: AESGCM, customer_id: UUID, data_key: bytes) -> bytes:
    """`nonce || AES-GCM(wrapping key, data key)`, bound to the customer id."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + wrapping_key.encrypt(nonce, data_key, customer_aad(customer_id))


def unwrap_key(wrapping_key: AESGCM, customer_id: UUID, wrapped: bytes) -> bytes:
    """Inverse of `wrap_key`; raises `cryptography.exceptions.InvalidTag` on a wrong key."""
    nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    return wrapping_key.decrypt(nonce, body, customer_aad(customer_id))


def seal(aead: AESGCM, aad: bytes, plaintext: bytes) -> dict[str, str]:
    """Encrypt one serialised value into its stored form `{"$enc": ...}`."""
    nonce = os.urandom(NONCE_BYTES)
    token = base64.b64encode(nonce + aead.encrypt(nonce, plaintext, aad)).decode("ascii")
    return {ENC_MARK: token}


def is_sealed(value: Any) -> bool:
    """True for a value in the stored form produced by `seal`."""
    return type(value) is dict and len(value) == 1 and ENC_MARK in value


def unseal(aead: AESGCM, aad: bytes, sealed: dict[str, str]) -> bytes:
    """Decrypt a sealed value; raises `InvalidTag` when the key or the AAD is wrong."""
    blob = base64.b64decode(sealed[ENC_MARK])
    return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
