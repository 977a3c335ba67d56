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

A merge folds in like the customer document's (`read_side.merge_views`): the source's state
becomes `merged` (contactable under its old id no more), the target takes the address flags
and consents the merge gave it, and remembers under `merges` which of them it has not
changed since, so an unmerge gives back exactly those (version 2: a rebuild folds the merges
of documents built before).
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
    version = 2
    description = "what contactability reads, per customer (GET .../contactability)"
    events = frozenset(
        {
            "customer.created", "customer.profile_changed", "customer.deleted",
            "customer.restored", "customer.erased", "customer.consent_changed",
            "customer.preferences_changed", "customer.communication_recorded",
            "customer.merged", "customer.merge_absorbed", "customer.unmerged",
            "customer.merge_undone",
        }
    )  # fmt: skip
    internal = True

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The customer's document; none for a communication other than a hard email bounce
        (nearly all of them: a notification sender reports a thousand a second, and loading
        and writing the document back unchanged for each was half this store's work)."""
        if event.type == "customer.communication_recorded" and not _hard_bounce(event.payload):
            return ()
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
                _changed_since_merges(doc, field="email")
            if changes.phone is not msgspec.UNSET:
                doc["phone"] = bool(changes.phone)
                _changed_since_merges(doc, field="phone")
        case ev.Erased():
            doc.clear()
            doc.update(new_document() | {"state": "erased"})
        case ev.StateChanged():
            doc["state"] = payload.target.value
        case ev.ConsentChanged(purpose=purpose, consent=consent):
            doc.setdefault("consents", {})[purpose] = {"granted": bool(consent.granted)}
            _changed_since_merges(doc, purpose=purpose)
        case ev.PreferencesChanged(preferences=preferences):
            doc["preferences"] = contact_preferences(preferences)
        case ev.CommunicationRecorded() if _hard_bounce(payload):
            doc["emailDeliverable"] = False
        case ev.Merged():
            doc["state"] = "merged"
        case ev.Unmerged(state=state):
            doc["state"] = state.value
        case ev.MergeAbsorbed():
            _absorbed(doc, payload)
        case ev.MergeUndone(source_id=source_id):
            _undone(doc, (doc.get("merges") or {}).pop(source_id, None))
        case _:
            pass


def _hard_bounce(payload: object) -> bool:
    """The one communication contactability folds: a hard bounce of the customer's own email
    (not of a merged source's other address)."""
    match payload:
        case ev.CommunicationRecorded(
            channel="email", status="bounced", bounce_type="hard", other_address=False
        ):
            return True
    return False


def _absorbed(doc: Document, payload: ev.MergeAbsorbed) -> None:
    """The target takes the source's address flags (for fields it had empty) and the
    consents whose latest change was the source's; remembers what they replaced."""
    values = msgspec.to_builtins(payload.values)
    taken = [field for field in ("email", "phone") if values.get(field)]
    for field in taken:
        doc[field] = True
    consents = doc.setdefault("consents", {})
    replaced = {purpose: consents.get(purpose) for purpose in payload.consents}
    for purpose, consent in payload.consents.items():
        consents[purpose] = {"granted": bool(consent.granted)}
    memory = {"fields": taken, "replaced": replaced}
    doc.setdefault("merges", {})[payload.customer_id] = memory


def _undone(doc: Document, memory: JSONObject | None) -> None:
    """Give back what the merge gave and the target has not changed since."""
    if memory is None:
        return
    for field in memory["fields"]:
        doc[field] = False
    consents = doc.setdefault("consents", {})
    for purpose, previous in memory["replaced"].items():
        if previous is None:
            consents.pop(purpose, None)
        else:
            consents[purpose] = previous


def _changed_since_merges(doc: Document, *, field: str = "", purpose: str = "") -> None:
    """An address field or a consent changed: no unmerge takes it back."""
    for memory in (doc.get("merges") or {}).values():
        memory["fields"] = [taken for taken in memory["fields"] if taken != field]
        memory["replaced"].pop(purpose, None)
