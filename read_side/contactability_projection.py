"""Contactability's own document: per customer exactly what `contactability()` reads, folded
from the events, so the call a notification sender makes before every message is one read by
key of a small document (issue 12.2), not a read of the whole customer document (which grows
with orders, payments, invoices and loyalty entries) through the cache.

The document has the shape of the fields of the customer document that `contactability()`
reads: `state`, `email` and `phone` (only whether there is one: `true`/`false`, never the
address), `emailDeliverable`, `consents` (`{purpose: {granted}}`) and `preferences` (only
`channels`, `quietHours` and `timezone`). Erasure empties it down to the state (`erased`): a
projection store is not reached by erasure otherwise, and a rebuild after an erasure reads the
erased preferences as unreadable and lands on the same document.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from read_side.events import EventEnvelope
from read_side.projections.api import Document, Documents
from shared.engagement import default_preferences
from shared.events import payloads as ev
from shared.json_types import JSONObject

CONTACTABILITY = "contactability"
_KEPT_PREFERENCES = ("channels", "quietHours", "timezone")


def contact_preferences(preferences: object) -> JSONObject:
    """The part of a preferences document contactability reads (defaults when unreadable)."""
    source = preferences if isinstance(preferences, dict) else default_preferences()
    return {key: source.get(key) for key in _KEPT_PREFERENCES}


def new_document() -> Document:
    """A customer just created, before its profile is known."""
    return {
        "state": "active", "email": False, "phone": False, "emailDeliverable": True,
        "consents": {}, "preferences": contact_preferences(None),
    }  # fmt: skip


class ContactabilityProjection:
    """`GET /customers/{id}/contactability` (built in and internal: not listed to analysts)."""

    name = CONTACTABILITY
    version = 1
    description = "what contactability reads, per customer (GET .../contactability)"
    events = frozenset(
        {
            "customer.created", "customer.profile_changed", "customer.deleted",
            "customer.restored", "customer.erased", "customer.consent_changed",
            "customer.preferences_changed", "customer.communication_recorded",
        }
    )  # fmt: skip
    internal = True

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The customer's document."""
        return (event.customer_id,)

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        """Fold one event into the customer's document."""
        doc = docs.get(event.customer_id)
        if doc is None:
            return
        if event.type == "customer.created":
            payload = event.payload
            assert isinstance(payload, ev.Created)
            doc.update(new_document())
            doc["email"] = bool(payload.profile.email)
            doc["phone"] = bool(payload.profile.phone)
        elif not doc:
            return  # a customer whose creation this store never saw
        else:
            _fold(doc, event)


def _fold(doc: Document, event: EventEnvelope) -> None:
    payload = event.payload
    match payload:
        case ev.ProfileChanged(changes=changes):
            if changes.email is not msgspec.UNSET:  # a new address: deliverable until it bounces
                doc["email"], doc["emailDeliverable"] = bool(changes.email), True
            if changes.phone is not msgspec.UNSET:
                doc["phone"] = bool(changes.phone)
        case ev.Erased():
            doc.clear()
            doc.update(new_document() | {"state": "erased"})
        case ev.StateChanged():
            doc["state"] = payload.target.value
        case ev.ConsentChanged(purpose=purpose, consent=consent):
            doc.setdefault("consents", {})[purpose] = {"granted": bool(consent.granted)}
        case ev.PreferencesChanged(preferences=preferences):
            doc["preferences"] = contact_preferences(preferences)
        case ev.CommunicationRecorded(channel="email", status="bounced", bounce_type="hard"):
            doc["emailDeliverable"] = False
        case _:
            pass
