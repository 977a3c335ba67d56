"""Folds of the merge events into the customer document (the aggregate's side of the same
story: `write_side.domain.merge_fold`; tests/unit/test_merge_property.py holds them together).

The source keeps its document as it was, with state `merged` and `mergedInto`; the target
takes what `customer.merge_absorbed` moved and remembers it under `merges` (not part of the
resource), so `customer.merge_undone` gives back exactly that, where unchanged since.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shared.events import payloads as ev
from shared.json_types import JSONObject

SCALAR_FIELDS = ("firstName", "lastName", "email", "phone", "dateOfBirth", "notes", "externalId")


def _json(value: object) -> Any:
    return msgspec.to_builtins(value)


def _sealed(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}  # "[erased]": nothing readable


def merged(doc: JSONObject, payload: ev.Merged, at: str, actor: str | None) -> None:
    """The source: state `merged`, `mergedInto` the target."""
    doc["state"] = "merged"
    doc["mergedInto"] = payload.target_id
    doc["stateHistory"].append({"state": "merged", "at": at, "by": actor, "reason": None})


def unmerged(doc: JSONObject, payload: ev.Unmerged, at: str, actor: str | None) -> None:
    """The source: its state back, its orders and payments as the target left them."""
    doc["state"] = payload.state.value
    doc["mergedInto"] = None
    state = {"state": payload.state.value, "at": at, "by": actor, "reason": None}
    doc["stateHistory"].append(state)
    orders = doc.setdefault("orders", {})
    for moved in payload.orders:
        order = orders.get(moved.order_id)
        if order is not None:
            order["status"] = moved.status.value
            if moved.closed_at is not None:
                order["closedAt"] = moved.closed_at
    payments = doc.setdefault("payments", {})
    for payment in payload.payments:
        payments[payment.latest.payment_id] = _json(payment.latest)


def absorbed(doc: JSONObject, payload: ev.MergeAbsorbed, at: str) -> None:
    """The target: takes what moved, and remembers it under `merges`."""
    values = _json(payload.values)
    taken = {k: v for k, v in values.items() if k in SCALAR_FIELDS}
    tags = list(values["tags"]) if isinstance(values.get("tags"), list) else []
    attributes = dict(values["attributes"]) if isinstance(values.get("attributes"), dict) else {}
    doc.update(taken)
    doc["tags"] = [*doc.get("tags", []), *tags]
    doc["attributes"] = {**doc.get("attributes", {}), **attributes}
    if payload.billing is not None:
        doc["billing"] = _json(payload.billing)
    snapshots = _sealed(payload.snapshots)
    orders = doc.setdefault("orders", {})
    for order in payload.orders:
        shown = {
            "orderId": order.order_id, "placedAt": order.placed_at,
            "status": order.status.value, "firstTime": order.first_time,
            "snapshot": _json(snapshots.get(order.order_id)),
        }  # fmt: skip
        orders[order.order_id] = shown | ({"closedAt": order.closed_at} if order.closed_at else {})
    recount_visits(doc)
    payments = doc.setdefault("payments", {})
    payments.update({p.latest.payment_id: _json(p.latest) for p in payload.payments})
    billing_of = _sealed(payload.invoice_billing)
    invoices = doc.setdefault("invoices", {})
    for invoice in payload.invoices:
        billing = billing_of.get(str(invoice.number))
        invoices[str(invoice.number)] = _json(invoice) | {"billing": _json(billing)}
    consents = doc.setdefault("consents", {})
    sources = _sealed(payload.consent_sources)
    taken_consents = {
        purpose: {"granted": c.granted, "source": sources.get(purpose),
                  "legalBasis": c.legal_basis, "at": c.at, "by": c.by}
        for purpose, c in payload.consents.items()
    }  # fmt: skip
    replaced = {purpose: consents.get(purpose) for purpose in taken_consents}
    consents.update({purpose: dict(c) for purpose, c in taken_consents.items()})
    texts = _sealed(payload.note_texts)
    notes = doc.setdefault("liveNotes", {})
    for note in payload.notes:
        notes[note.note_id] = {
            "id": note.note_id, "text": texts.get(note.note_id), "author": note.author,
            "at": note.at,
        }  # fmt: skip
    tier = None
    if payload.tier is not None:  # the merge's tier, and the one it replaced
        tier = {"taken": payload.tier.name, "previous": doc.get("tier")}
        doc["tier"] = payload.tier.name
    doc.setdefault("merges", {})[payload.customer_id] = {
        "at": at, "values": taken, "tags": tags, "attributes": attributes,
        "billing": _json(payload.billing), "orderIds": [o.order_id for o in payload.orders],
        "paymentIds": [p.latest.payment_id for p in payload.payments],
        "invoiceNumbers": [str(i.number) for i in payload.invoices],
        "consents": taken_consents, "replaced": replaced,
        "noteIds": [n.note_id for n in payload.notes], "tier": tier,
    }  # fmt: skip


def undone(doc: JSONObject, payload: ev.MergeUndone) -> None:
    """The target gives back what it took from the source and has not changed since."""
    memory = (doc.get("merges") or {}).pop(payload.source_id, None)
    if memory is None:
        return
    for name, value in memory["values"].items():
        if doc.get(name) == value:
            doc[name] = None
    doc["tags"] = [t for t in doc.get("tags", []) if t not in memory["tags"]]
    attributes = doc.get("attributes", {})
    for key, value in memory["attributes"].items():
        if attributes.get(key) == value:
            del attributes[key]
    if memory["billing"] is not None and doc.get("billing") == memory["billing"]:
        doc["billing"] = None
    for key, ids in (("orders", "orderIds"), ("payments", "paymentIds"),
                     ("invoices", "invoiceNumbers"), ("liveNotes", "noteIds")):  # fmt: skip
        held = doc.setdefault(key, {})
        for item in memory[ids]:
            held.pop(item, None)
    recount_visits(doc)
    consents = doc.setdefault("consents", {})
    for purpose, taken in memory["consents"].items():
        if consents.get(purpose) == taken:
            previous = memory["replaced"].get(purpose)
            if previous is None:
                consents.pop(purpose, None)
            else:
                consents[purpose] = previous
    tier = memory.get("tier")
    if tier is not None and doc.get("tier") == tier["taken"]:  # not moved since
        doc["tier"] = tier["previous"]
        if tier["previous"] is None:  # it had none: a document without one, as before
            del doc["tier"]


def recount_visits(doc: JSONObject) -> None:
    """Visits from the orders: the earliest `placedAt` is first (the one known first among
    equals), as the aggregate's `merge_fold.recount_visits`."""
    orders = list(doc.get("orders", {}).values())
    first = min(orders, key=lambda o: o["placedAt"], default=None)
    for order in orders:
        order["firstTime"] = order is first
    doc["visitCount"] = len(orders)
    doc["firstVisitAt"] = first["placedAt"] if first else None
    doc["lastVisitAt"] = max((o["placedAt"] for o in orders), default=None)
