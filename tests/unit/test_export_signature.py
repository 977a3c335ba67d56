"""A signed export verifies offline, and any one byte changed in the served file does not
(issue 15.5)."""

from __future__ import annotations

import json

import pytest

from shared.export_signature import ExportSignatureError, ExportSigner, canonical, verify_export

DOCUMENT = {
    "exportedAt": "2026-12-02T01:00:00Z",
    "customer": {"id": "5b0e", "firstName": "Zoë", "lastName": "Lee", "tags": ["vip"]},
    "orders": [{"orderId": "o-1", "amount": 12.5, "paid": True, "note": None}],
    "history": [{"version": 1, "hash": "ab" * 32, "changes": {"firstName": {"to": "Zoë"}}}],
}


def test_a_signed_export_verifies_with_the_public_key_only() -> None:
    signer = ExportSigner(b"audit-key")
    signed = signer.sign(DOCUMENT)
    assert verify_export(signed, signer.public_key) == DOCUMENT
    assert signed == canonical(json.loads(signed)), "served in its canonical form"
    assert ExportSigner(b"audit-key").public_key == signer.public_key, "derived, not random"
    pretty = json.dumps(json.loads(signed), indent=2).encode()
    assert verify_export(pretty, signer.public_key) == DOCUMENT, "whitespace is not content"


def test_any_one_byte_changed_fails() -> None:
    signer = ExportSigner(b"audit-key")
    signed = signer.sign(DOCUMENT)
    for position in range(len(signed)):
        for flip in (0x01, 0x20):  # a neighbouring character; upper/lower case
            changed = bytearray(signed)
            changed[position] ^= flip
            try:
                verify_export(bytes(changed), signer.public_key)
            except ExportSignatureError:
                continue
            pytest.fail(f"byte {position} ^ {flip:#x} went unnoticed: {signed[position:][:20]!r}")


def test_another_key_or_no_signature_fails() -> None:
    signed = ExportSigner(b"audit-key").sign(DOCUMENT)
    forged = ExportSigner(b"forger's key")
    with pytest.raises(ExportSignatureError, match="another key"):
        verify_export(forged.sign(DOCUMENT), ExportSigner(b"audit-key").public_key)
    with pytest.raises(ExportSignatureError, match="another key"):
        verify_export(signed, forged.public_key)
    with pytest.raises(ExportSignatureError, match="no signature"):
        verify_export(canonical(DOCUMENT), forged.public_key)
    with pytest.raises(ExportSignatureError, match="not a JSON"):
        verify_export(b"\xff{", forged.public_key)
