"""The customer read model: a JSON document per customer and a pure `evolve` function.

The document holds every field of the contract's customer resource (camelCase), plus
`tenantId` and `consents`. Times are ISO-8601 UTC strings with millisecond precision, so they
sort correctly as text. `evolve` is version-guarded: an event at or below the document's
version returns the document unchanged, so re-applying a batch is harmless.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from read_side import loyalty_view, merge_views
from read_side.engagement_views import (
    email_changed,
    engagement_defaults,
    erase_engagement,
    fold_engagement,
)
from read_side.events import EventEnvelope
from shared.clock import iso_utc
from shared.events import payloads as ev
from shared.events.catalog import CUSTOMER_EVENTS, UnknownEventType
from shared.events.values import PROFILE_FIELDS, CustomerState
from shared.json_types import JSONObject

CustomerDoc = JSONObject

PROFILE_KEYS = PROFILE_FIELDS
RESOURCE_KEYS = (
    "id",
    "type",
    "state",
    *PROFILE_KEYS,
    "firstVisitAt",
    "lastVisitAt",
    "visitCount",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "version",
    "stateHistory",
)
_CREATED = "customer.created"


def evolve(doc: CustomerDoc | None, event: EventEnvelope) -> CustomerDoc | None:
    """The document after `event`; pure (the input is not modified)."""
    return _evolve(doc, event, in_place=False)


def evolve_in_place(doc: CustomerDoc | None, event: EventEnvelope) -> CustomerDoc | None:
    """Like `evolve`, but changes `doc` itself: only for documents nobody else holds (the
    in-memory staging of a rebuild), where copying every document per event is waste."""
    return _evolve(doc, event, in_place=True)


def _evolve(doc: CustomerDoc | None, event: EventEnvelope, *, in_place: bool) -> CustomerDoc | None:
    if loyalty_view.is_loyalty_event(event):  # the customer's ledger: a version of its own
        if doc is None or event.version <= loyalty_view.version_of(doc):
            return doc
        result = doc if in_place else _clone(doc)
        loyalty_view.fold(result, event)
        return result
    if event.type == _CREATED:
        if doc is not None and doc["version"] >= event.version:
            return doc
        payload = event.payload
        assert isinstance(payload, ev.Created)
        return _created(event, payload)
    if doc is None or event.version <= doc["version"]:
        return doc
    payload = event.payload  # UnknownEventType before anything is changed
    result = doc if in_place else _clone(doc)
    at = iso_utc(event.occurred_at)
    _fold(result, payload, event, at)
    result["version"] = event.version
    result["updatedAt"] = at
    return result


def _clone(value: Any) -> Any:
    """A deep copy of a JSON-like tree (dicts and lists copied, scalars shared): several times
    faster than `copy.deepcopy`, which evolve would otherwise pay on every event."""
    if type(value) is dict:
        return {key: _clone(item) for key, item in value.items()}
    if type(value) is list:
        return [_clone(item) for item in value]
    if isinstance(value, dict | list):  # subclasses: keep their type
        return copy.deepcopy(value)
    return value


def to_resource(doc: CustomerDoc) -> JSONObject:
    """The public customer resource (drops internal fields such as `tenantId`)."""
    resource = {key: doc.get(key) for key in RESOURCE_KEYS}
    resource["emailDeliverable"] = doc.get("emailDeliverable", True)
    resource["mergedInto"] = doc.get("mergedInto")
    return resource


def _json(value: object) -> Any:
    """A payload value as plain JSON (a fresh copy: the document never shares the event's)."""
    return msgspec.to_builtins(value)


def _created(event: EventEnvelope, payload: ev.Created) -> CustomerDoc:
    at = iso_utc(event.occurred_at)
    profile = _json(payload.profile)
    doc: CustomerDoc = {
        "id": event.customer_id,
        "tenantId": event.tenant_id,
        "type": payload.customer_type.value,
        "state": CustomerState.ACTIVE.value,
        **{key: profile.get(key) for key in PROFILE_KEYS},
        "firstVisitAt": None,
        "lastVisitAt": None,
        "visitCount": 0,
        "createdAt": at,
        "updatedAt": at,
        "deletedAt": None,
        "version": event.version,
        "stateHistory": [{"state": "active", "at": at, "by": event.actor, "reason": None}],
        "consents": {},
        "orders": {},
        "payments": {},
        "billing": None,
        "invoices": {},
        "mergedInto": None,
        **engagement_defaults(),
    }
    _shape_collections(doc)
    return doc


def _shape_collections(doc: CustomerDoc) -> None:
    """Tags are a list and attributes a dict, also when an erased key made them "[erased]"."""
    doc["tags"] = list(doc["tags"]) if isinstance(doc["tags"], list) else []
    doc["attributes"] = dict(doc["attributes"]) if isinstance(doc["attributes"], dict) else {}


def _fold(doc: CustomerDoc, payload: ev.Payload, event: EventEnvelope, at: str) -> None:
    """Fold one typed payload (stored `at`) into the document; an event without a fold here
    stops."""
    match payload:
        case ev.ProfileChanged(changes=changes):
            changed = _json(changes)
            doc.update(changed)
            _shape_collections(doc)
            email_changed(doc, changed)
        case ev.TypeChanged(to=to):
            doc["type"] = to.value
        case ev.StateChanged(reason=reason):
            _state_changed(doc, payload.target, at, event.actor, reason)
        case ev.VisitRecorded():
            _visit_recorded(doc, payload)
        case ev.OrderClosed(order_id=order_id, status=status):
            order = doc.setdefault("orders", {}).get(order_id)
            if order is not None:
                order["status"] = status.value
                order["closedAt"] = at
        case ev.PaymentRecorded(payment=payment):
            payments = doc.setdefault("payments", {})
            payments[payment.payment_id] = payments.get(payment.payment_id, {}) | _json(payment)
        case ev.BillingDetailsSet(billing=billing):
            doc["billing"] = _json(billing)
        case ev.InvoiceIssued(invoice=invoice):
            doc.setdefault("invoices", {})[str(invoice.number)] = _json(invoice)
        case ev.TierChanged(tier=tier):
            doc["tier"] = tier
        case ev.ConsentChanged(purpose=purpose, consent=consent):
            stamp = {"at": at, "by": event.actor}
            doc.setdefault("consents", {})[purpose] = _json(consent) | stamp
        case ev.Merged():
            merge_views.merged(doc, payload, at, event.actor)
        case ev.MergeAbsorbed():
            merge_views.absorbed(doc, payload, at)
        case ev.Unmerged():
            merge_views.unmerged(doc, payload, at, event.actor)
        case ev.MergeUndone():
            merge_views.undone(doc, payload)
        case (
            ev.PreferencesChanged() | ev.NoteAdded() | ev.NoteDeleted() | ev.CommunicationRecorded()
        ):
            fold_engagement(doc, payload, event)
        case _:
            raise UnknownEventType(event.type)


def _state_changed(
    doc: CustomerDoc, target: CustomerState, at: str, actor: str | None, reason: str | None
) -> None:
    doc["state"] = target.value
    if target is not CustomerState.ERASED:
        doc["deletedAt"] = at if target is CustomerState.DELETED else None
    doc["stateHistory"].append({"state": target.value, "at": at, "by": actor, "reason": reason})
    if target is CustomerState.ERASED:
        _forget_personal_data(doc)


def _visit_recorded(doc: CustomerDoc, payload: ev.VisitRecorded) -> None:
    """The first visit is the order placed first (by `placedAt`, as the aggregate decides):
    an earlier order arriving late takes `firstTime` from the one that had it."""
    placed_at = payload.placed_at
    orders = doc.setdefault("orders", {})
    first = doc.get("firstVisitAt") is None or placed_at < str(doc["firstVisitAt"])
    if first:
        for order in orders.values():
            order["firstTime"] = False
    doc["visitCount"] = int(doc.get("visitCount") or 0) + 1
    doc["firstVisitAt"] = min(filter(None, (doc.get("firstVisitAt"), placed_at)))
    doc["lastVisitAt"] = max(filter(None, (doc.get("lastVisitAt"), placed_at)))
    orders[payload.order_id] = {
        "orderId": payload.order_id,
        "placedAt": placed_at,
        "status": "placed",
        "firstTime": first,
        "snapshot": _json(payload.snapshot),
    }


def _forget_personal_data(doc: CustomerDoc) -> None:
    for key in PROFILE_KEYS:
        doc[key] = [] if key == "tags" else {} if key == "attributes" else None
    doc["billing"] = None
    for order in doc.get("orders", {}).values():
        order["snapshot"] = None
    for invoice in doc.get("invoices", {}).values():
        invoice["billing"] = None
    for consent in doc.get("consents", {}).values():
        consent["source"] = None  # free text: who or what recorded it may name the person
    for change in doc["stateHistory"]:
        change["reason"] = None
    loyalty_view.forget_reasons(doc)
    doc["merges"] = {}  # what a merge brought: personal, and no unmerge after an erasure
    erase_engagement(doc)


def folded_event_types() -> frozenset[str]:
    """Every event type `evolve` folds: every Customer event `shared.events` declares (the
    unit tests fold a sample of each, so a declared event without a fold here fails)."""
    return frozenset(event.name for event in CUSTOMER_EVENTS)
