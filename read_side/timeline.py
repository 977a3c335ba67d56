"""One newest-first stream of everything that happened to a customer: the items, and the page
read from the end of its event stream, which serves while the timeline projection
(`read_side.timeline_projection`) is not built yet or has not seen the customer.

`timeline_item` names each stored event's kind and a summary without personal values (field
names, ids, statuses, amounts); the texts themselves stay behind their own reads.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

import msgspec

from read_side.events import EventEnvelope
from shared.clock import iso_utc
from shared.errors import FieldError, MalformedRequest, NotFound
from shared.json_types import JSONObject

KINDS = (
    "profile", "lifecycle", "order", "payment", "invoice", "consent", "preference",
    "communication", "note", "loyalty", "merge",
)  # fmt: skip
KIND_OF = {
    "customer.created": "lifecycle",
    "customer.deleted": "lifecycle",
    "customer.restored": "lifecycle",
    "customer.erased": "lifecycle",
    "customer.profile_changed": "profile",
    "customer.type_changed": "profile",
    "customer.visit_recorded": "order",
    "customer.order_closed": "order",
    "customer.payment_recorded": "payment",
    "customer.billing_details_set": "invoice",
    "customer.invoice_issued": "invoice",
    "customer.consent_changed": "consent",
    "customer.preferences_changed": "preference",
    "customer.communication_recorded": "communication",
    "customer.note_added": "note",
    "customer.note_deleted": "note",
    "customer.tier_changed": "loyalty",
    "customer.merged": "merge",
    "customer.merge_absorbed": "merge",
    "customer.unmerged": "merge",
    "customer.merge_undone": "merge",
}
NewestEvents = Callable[[str, int | None, int], Awaitable[list[EventEnvelope]]]
"""(customer id, below version or None, limit) → that many events, newest first."""


class TimelineItem(msgspec.Struct):
    """One thing that happened: when, what kind, which event, a summary, who, and what it
    refers to (an order, payment, invoice number, purpose, note or communication id)."""

    at: str
    kind: str
    type: str
    summary: str
    actor: str | None
    ref: str | None


class TimelinePage(msgspec.Struct, rename="camel"):
    """`GET .../timeline`: newest first; `nextCursor` continues."""

    items: list[TimelineItem]
    next_cursor: str | None


@dataclass(frozen=True)
class StreamPage:
    """Events of one page, newest first, and the cursor of the next page (None: the end)."""

    events: list[EventEnvelope]
    next_cursor: str | None


async def newest_matching(
    newest: NewestEvents, tenant_id: str, customer_id: str, types: Collection[str] | None,
    limit: int, cursor: str | None,
) -> StreamPage:  # fmt: skip
    """Walk back from the cursor in chunks until `limit` events of `types` (all when None)
    are found or the stream begins; 404 for a customer of another tenant or none."""
    below = decode_cursor(cursor)
    found: list[EventEnvelope] = []
    chunk = max(limit * 2, 64)
    first_read = True
    while True:
        events = await newest(customer_id, below, chunk)
        if first_read:
            if (not events and cursor is None) or (events and events[0].tenant_id != tenant_id):
                raise NotFound("No customer with this id.")
            first_read = False
        for event in events:
            if types is None or event.type in types:
                found.append(event)
                if len(found) == limit:
                    more = event.version > 1
                    return StreamPage(found, encode_cursor(event.version) if more else None)
        if len(events) < chunk:
            return StreamPage(found, None)
        below = events[-1].version


def encode_cursor(version: int) -> str:
    """An opaque cursor: the version the next page starts below."""
    return base64.urlsafe_b64encode(f"v{version}".encode()).decode().rstrip("=")


def is_stream_cursor(cursor: str) -> bool:
    """True for a cursor of the stream read (`v…`), which the projection does not take."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).startswith(b"v")
    except (binascii.Error, ValueError):
        return False


def decode_cursor(cursor: str | None) -> int | None:
    """The version a cursor names; 400 for anything this service did not hand out."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("v") and text[1:].isdigit() and 0 < len(text) < 20:
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise MalformedRequest(
        "The cursor is not valid.", errors=[FieldError("cursor", "use nextCursor as given")]
    )


def timeline_item(event: EventEnvelope) -> TimelineItem:
    """The item of one event (kind `profile` for one this table does not know yet)."""
    summary, ref = _summary(event.type, event.data)
    return TimelineItem(
        at=iso_utc(event.occurred_at),
        kind=KIND_OF.get(event.type, "profile"),
        type=event.type,
        summary=summary,
        actor=event.actor,
        ref=ref,
    )


def _summary(kind: str, data: JSONObject) -> tuple[str, str | None]:
    if kind == "customer.profile_changed":
        return "Changed " + ", ".join(sorted(data.get("changes") or {})), None
    if kind == "customer.type_changed":
        return f"Type {data.get('previous')} → {data.get('to')}", None
    if kind in ("customer.visit_recorded", "customer.order_closed"):
        status = data.get("status") or "placed"
        return f"Order {data.get('order_id')} {status}", str(data.get("order_id"))
    if kind == "customer.payment_recorded":
        payment = data.get("payment") or {}
        amount = f"{payment.get('amount')} {payment.get('currency')}"
        return f"Payment {payment.get('status')}: {amount}", payment.get("paymentId")
    if kind == "customer.invoice_issued":
        number = str((data.get("invoice") or {}).get("number"))
        return f"Invoice {number} issued", number
    if kind == "customer.consent_changed":
        granted = (data.get("consent") or {}).get("granted")
        purpose = str(data.get("purpose"))
        return f"Consent {purpose} {'granted' if granted else 'withdrawn'}", purpose
    if kind == "customer.communication_recorded":
        what = data.get("status") or f"logged ({data.get('direction')})"
        return f"{data.get('channel')} {data.get('purpose') or ''} {what}".replace("  ", " "), str(
            data.get("communication_id")
        )
    if kind == "customer.tier_changed":
        return f"Tier {data.get('previous') or 'none'} → {data.get('tier')}", data.get("tier")
    if kind in ("customer.note_added", "customer.note_deleted"):
        verb = "added" if kind.endswith("added") else "deleted"
        return f"Note {verb}", str(data.get("note_id"))
    if kind in ("customer.merged", "customer.unmerged"):  # the source's side
        verb = "Merged into" if kind == "customer.merged" else "Unmerged from"
        return f"{verb} {data.get('target_id')}", str(data.get("target_id"))
    if kind in ("customer.merge_absorbed", "customer.merge_undone"):  # the target's side
        source = data.get("customer_id") or data.get("source_id")
        verb = "Absorbed" if kind == "customer.merge_absorbed" else "Gave back"
        return f"{verb} {source}", str(source)
    return kind.removeprefix("customer.").replace("_", " ").capitalize(), None
