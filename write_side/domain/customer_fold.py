"""How the Customer aggregate's state follows its events: one `match` over the typed payloads
of `shared.events` (the read side's `evolve` is the same story told as a document; the
property test tests/unit/test_aggregate_and_view_agree.py holds the two to it). Every value
kept is a frozen value object, replaced on change and never shared with an event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import msgspec

from shared.clock import iso_utc
from shared.engagement import default_preferences
from shared.events import payloads as ev
from shared.events.catalog import UnknownEventType
from shared.events.values import CustomerState, OrderStatus
from write_side.domain import merge_fold
from write_side.domain.commerce import is_first_visit, merge_payment
from write_side.domain.profile import empty_profile
from write_side.domain.records import ConsentRecord, Order

if TYPE_CHECKING:
    from datetime import datetime

    from write_side.domain.customer import Customer


class Stamped(Protocol):
    """What the fold reads of the event around a payload: when, and by whom."""

    @property
    def timestamp(self) -> datetime: ...
    @property
    def actor(self) -> str: ...


def fold(customer: Customer, payload: ev.Payload, event: Stamped) -> None:
    """Apply one event's payload to the aggregate's state."""
    at = iso_utc(event.timestamp)
    match payload:
        case ev.ProfileChanged(changes=changes):
            customer.profile = customer.profile | msgspec.to_builtins(changes)
            if changes.email is not msgspec.UNSET:  # a hard bounce holds until it changes
                customer.email_deliverable = True
        case ev.TypeChanged(to=to):
            customer.customer_type = to
        case ev.StateChanged(reason=reason):
            _state_changed(customer, payload.target, at, event.actor, reason)
        case ev.ConsentChanged(purpose=purpose, consent=c):
            record = ConsentRecord(
                granted=c.granted, source=c.source, legal_basis=c.legal_basis, at=at, by=event.actor
            )
            customer.consents = customer.consents | {purpose: record}
        case ev.VisitRecorded():
            _visit_recorded(customer, payload)
        case ev.OrderClosed(order_id=order_id, status=status):
            order = customer.orders[order_id]
            closed = msgspec.structs.replace(order, status=status, closed_at=at)
            customer.orders = customer.orders | {order_id: closed}
        case ev.PaymentRecorded(payment=payment):
            merged = merge_payment(customer.payments.get(payment.payment_id), payment)
            customer.payments = customer.payments | {payment.payment_id: merged}
        case ev.BillingDetailsSet(billing=billing):
            customer.billing = billing
        case ev.InvoiceIssued():
            _invoice_issued(customer, payload)
        case ev.TierChanged(tier=tier, min_points=min_points):
            customer.tier, customer.tier_min_points = tier, min_points
        case ev.PreferencesChanged(preferences=preferences):
            # once erased the sealed value reads back as a marker: the defaults stand in
            customer.preferences = (
                msgspec.to_builtins(preferences)
                if isinstance(preferences, dict)
                else default_preferences()
            )
        case ev.NoteAdded(note_id=note_id, text=text):
            note = {"id": note_id, "text": text, "author": event.actor, "at": at}
            customer.note_items = customer.note_items | {note_id: note}
        case ev.NoteDeleted(note_id=note_id):
            customer.note_items = {k: n for k, n in customer.note_items.items() if k != note_id}
        case ev.CommunicationRecorded():
            _communication_recorded(customer, payload)
        case ev.Merged():
            merge_fold.fold_merged(customer, payload, at, event.actor)
        case ev.MergeAbsorbed():
            merge_fold.fold_absorbed(customer, payload, at)
        case ev.Unmerged():
            merge_fold.fold_unmerged(customer, payload, at, event.actor)
        case ev.MergeUndone():
            merge_fold.fold_undone(customer, payload)
        case _:
            raise UnknownEventType(type(payload).__name__)


def communication_key(communication_id: str, status: str | None) -> str:
    """What makes a communication applied once: its id and the status reported."""
    return f"{communication_id}:{status or ''}"


def _communication_recorded(customer: Customer, payload: ev.CommunicationRecorded) -> None:
    """Remember it was applied (a redelivery changes nothing); a hard email bounce makes the
    current address undeliverable until it changes."""
    key = communication_key(payload.communication_id, payload.status)
    # Added in place, the one exception to replace-on-change: the set belongs to this
    # aggregate alone, and a copy per event made replaying 10,000 communications quadratic.
    customer.communications.add(key)
    hard = (payload.channel, payload.status, payload.bounce_type) == ("email", "bounced", "hard")
    if hard and not payload.other_address:
        customer.email_deliverable = False


def _state_changed(
    customer: Customer, target: CustomerState, at: str, actor: str, reason: str | None
) -> None:
    """Record the new state with the event's time (an `@event` body would see the previous
    `modified_on`); erasure also forgets the personal data held in memory."""
    customer.state = target
    if target is not CustomerState.ERASED:
        customer.deleted_at = at if target is CustomerState.DELETED else None
    change = {"state": target.value, "at": at, "by": actor, "reason": reason}
    customer.state_history = [*customer.state_history, change]
    if target is CustomerState.ERASED:
        _forget_personal_data(customer)


def _visit_recorded(customer: Customer, payload: ev.VisitRecorded) -> None:
    """Count the visit, widen the first/last visit span and keep the order open. An order
    placed before every known visit becomes the first one (`firstTime` derives from
    `placedAt` here too, so events stored before that rule fold the same way)."""
    placed_at = payload.placed_at
    first = is_first_visit(placed_at, customer.first_visit_at)
    orders = customer.orders
    if first:
        orders = {k: msgspec.structs.replace(o, first_time=False) for k, o in orders.items()}
    customer.visit_count += 1
    customer.first_visit_at = min(filter(None, (customer.first_visit_at, placed_at)))
    customer.last_visit_at = max(filter(None, (customer.last_visit_at, placed_at)))
    order = Order(
        order_id=payload.order_id,
        placed_at=placed_at,
        status=OrderStatus.PLACED,
        first_time=first,
        snapshot=payload.snapshot,
    )
    customer.orders = orders | {payload.order_id: order}


def _invoice_issued(customer: Customer, payload: ev.InvoiceIssued) -> None:
    """Keep the invoice and mark each line's payment as invoiced for that kind of line."""
    invoice = payload.invoice
    customer.invoices = customer.invoices | {invoice.number: invoice}
    payments = dict(customer.payments)
    for line in invoice.lines:
        record = payments[line.payment_id]
        invoiced = (*record.invoiced_as, line.kind)
        payments[line.payment_id] = msgspec.structs.replace(record, invoiced_as=invoiced)
    customer.payments = payments


def _forget_personal_data(customer: Customer) -> None:
    """Drop personal data from memory (erasure); non-personal facts stay."""
    replace = msgspec.structs.replace
    customer.profile = empty_profile()
    customer.billing = None
    customer.orders = {k: replace(o, snapshot=None) for k, o in customer.orders.items()}
    customer.invoices = {k: replace(i, billing=None) for k, i in customer.invoices.items()}
    customer.consents = {k: replace(c, source=None) for k, c in customer.consents.items()}
    customer.state_history = [c | {"reason": None} for c in customer.state_history]
    customer.preferences = default_preferences()
    customer.note_items = {k: n | {"text": None} for k, n in customer.note_items.items()}
    merge_fold.forget_merges(customer)
