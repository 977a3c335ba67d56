"""The engagement part of the erasure proof: preferences, notes (a deleted one too) and
communications with distinctive values, and the reads that must no longer show them."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]
NOTE = "Zebnote: prefers quuxberry tea"
DELETED_NOTE = "Zebnote deleted: owes us a kiwi"
SUBJECT = "Zebsubject about the quux lane"
PREFERENCES = {
    "language": "fr-CA",
    "timezone": "Pacific/Chatham",  # distinctive enough to find in a dump
    "quietHours": {"start": "21:17", "end": "06:43"},
    "paymentMethod": {"type": "card", "brand": "Zebcard", "last4": "4242"},
}
ENGAGEMENT_NEEDLES = [NOTE, DELETED_NOTE, SUBJECT, "Pacific/Chatham", "21:17", "Zebcard"]


def record_engagement(client: Client, customer_id: str, admin: Headers) -> None:
    """Preferences, a live and a deleted note, and a communication logged by hand."""
    base = f"/customers/{customer_id}"
    assert client.put(f"{base}/preferences", json=PREFERENCES, headers=admin).is_success
    assert client.post(f"{base}/notes", json={"text": NOTE}, headers=admin).is_success
    dropped = client.post(f"{base}/notes", json={"text": DELETED_NOTE}, headers=admin).json()
    assert client.delete(f"{base}/notes/{dropped['id']}", headers=admin).is_success
    logged = {"channel": "phone", "direction": "inbound", "purpose": "support", "subject": SUBJECT}
    assert client.post(f"{base}/communications", json=logged, headers=admin).is_success


def engagement_reads(client: Client, customer_id: str, headers: Headers) -> dict[str, str]:
    """Every read of the engagement after the erasure."""
    base = f"/customers/{customer_id}"
    paths = ("preferences", "notes", "communications", "timeline")
    return {path: client.get(f"{base}/{path}", headers=headers).text for path in paths}
