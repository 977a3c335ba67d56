"""Signed GDPR exports: an auditor checks offline that an export is what the service produced.

The signature is Ed25519 rather than an HMAC so that checking needs only the public key: an
auditor can be handed it (`customers audit public-key`) without being able to sign anything.
The key pair is derived from the audit key (`CUSTOMERS_AUDIT_KEY`, never the data key), so no
new secret has to be kept. What is signed is the document's canonical JSON — keys sorted, no
insignificant whitespace, UTF-8 — without its `signature` member; the service serves exactly
that canonical form, so any one byte changed in the file changes what is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.json_types import JSONObject

ALGORITHM = "Ed25519"
_DERIVATION_LABEL = b"customers-export-signing-key-v1"


class ExportSignatureError(ValueError):
    """The export does not verify; the message says why (no personal value in it)."""


def canonical(document: object) -> bytes:
    """Sorted keys, no spaces, UTF-8, no NaN: the bytes the signature covers."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


class ExportSigner:
    """Signs export documents with the key pair derived from the audit key."""

    def __init__(self, audit_key: bytes) -> None:
        seed = hmac.new(audit_key, _DERIVATION_LABEL, hashlib.sha256).digest()
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key().public_bytes_raw().hex()

    def sign(self, document: object) -> bytes:
        """The document (a JSON object, or a Struct encoding to one) with its `signature`
        member, as the canonical bytes to serve."""
        plain = msgspec.json.decode(msgspec.json.encode(document))  # JSON values only
        plain.pop("signature", None)
        value = self._private.sign(canonical(plain)).hex()
        plain["signature"] = {"alg": ALGORITHM, "publicKey": self.public_key, "value": value}
        return canonical(plain)


def _hex(text: object, size: int, what: str) -> bytes:
    """Exactly `size` bytes as lower-case hex (one spelling per value: no case games)."""
    try:
        raw = bytes.fromhex(text) if isinstance(text, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size or raw.hex() != text:
        raise ExportSignatureError(f"the signature's {what} is not {size} bytes of lower-case hex")
    return raw


def verify_export(content: bytes, trusted_public_key: str) -> JSONObject:
    """The export document when its signature is valid under `trusted_public_key` (hex);
    raises `ExportSignatureError` saying what is wrong."""
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ExportSignatureError(f"not a JSON document ({type(error).__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("signature"), dict):
        raise ExportSignatureError("the document carries no signature")
    signature = document.pop("signature")
    if set(signature) != {"alg", "publicKey", "value"} or signature["alg"] != ALGORITHM:
        raise ExportSignatureError(f"the signature is not {ALGORITHM} {{alg, publicKey, value}}")
    public = _hex(signature["publicKey"], 32, "public key")
    if public.hex() != trusted_public_key.strip().lower():
        raise ExportSignatureError("it was signed by another key than the one trusted")
    value = _hex(signature["value"], 64, "value")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(value, canonical(document))
    except (InvalidSignature, ValueError):
        raise ExportSignatureError("the signature does not match the content") from None
    return dict(document)
