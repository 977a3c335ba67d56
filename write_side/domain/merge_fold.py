"""How the merge events change the Customer aggregate's state (`customer_fold` delegates here).

The target remembers, per source, what the merge gave it (`MergeMemory`): an unmerge takes
back exactly that, where it has not changed since. The read side's `read_side.merge_views`
tells the same story as a document (tests/unit/test_merge_property.py holds the two to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from shared.events import payloads as ev
from shared.events.values import (
    BillingDetails,
    CustomerState,
    ErasedValue,
    HeldTier,
    MovedOrder,
    MovedPayment,
    PaymentStatus,
    Snapshot,
)
from shared.json_types import JSONObject
from write_side.domain.records import ConsentRecord, Order, PaymentRecord

if TYPE_CHECKING:
    from write_side.domain.customer import Customer

SCALAR_FIELDS = ("firstName", "lastName", "email", "phone", "dateOfBirth", "notes", "externalId")


class MergeMemory(msgspec.Struct, frozen=True, kw_only=True):
    """What a target took from one source, and the consents the source's replaced."""

    source_id: str
    at: str
    values: JSONObject
    tags: tuple[str, ...]
    attributes: JSONObject
    billing: BillingDetails | ErasedValue | None
    order_ids: tuple[str, ...]
    payment_ids: tuple[str, ...]
    invoice_numbers: tuple[int, ...]
    consents: dict[str, ConsentRecord]
    replaced: dict[str, ConsentRecord | None]
    note_ids: tuple[str, ...]
    communications: tuple[str, ...]
    claims: tuple[str, ...]
    tier: HeldTier | None = None  # the tier the merge gave, and the one it replaced
    previous_tier: HeldTier | None = None


def sealed_map(value: JSONObject | str) -> JSONObject:
    """A sealed side table of a merge event ({} once its key was shredded: "[erased]")."""
    return value if isinstance(value, dict) else {}


def fold_merged(customer: Customer, payload: ev.Merged, at: str, actor: str) -> None:
    """The source: state `merged`, pointing at its target; everything else stays as it was."""
    customer.state = CustomerState.MERGED
    customer.merged_into = payload.target_id
    change = {"state": "merged", "at": at, "by": actor, "reason": None}
    customer.state_history = [*customer.state_history, change]


def fold_unmerged(customer: Customer, payload: ev.Unmerged, at: str, actor: str) -> None:
    """The source: back to its state, with its orders and payments as the target left them."""
    customer.state = payload.state
    customer.merged_into = None
    change = {"state": payload.state.value, "at": at, "by": actor, "reason": None}
    customer.state_history = [*customer.state_history, change]
    orders = dict(customer.orders)
    for moved in payload.orders:
        if moved.order_id in orders:
            kept = orders[moved.order_id]
            orders[moved.order_id] = msgspec.structs.replace(
                kept, status=moved.status, closed_at=moved.closed_at
            )
    customer.orders = orders
    customer.payments = customer.payments | {
        p.latest.payment_id: record(p) for p in payload.payments
    }


def fold_absorbed(customer: Customer, payload: ev.MergeAbsorbed, at: str) -> None:
    """The target: takes what the event says moved, and remembers it."""
    taken, tags, attributes = _take_values(customer, payload)
    if payload.billing is not None:
        customer.billing = payload.billing
    snapshots = sealed_map(payload.snapshots)
    moved_orders = {o.order_id: order(o, snapshots.get(o.order_id)) for o in payload.orders}
    customer.orders = customer.orders | moved_orders
    recount_visits(customer)
    customer.payments = customer.payments | {
        p.latest.payment_id: record(p) for p in payload.payments
    }
    billing_of = sealed_map(payload.invoice_billing)
    invoices = {
        i.number: msgspec.structs.replace(i, billing=billing_of.get(str(i.number)))
        for i in payload.invoices
    }
    customer.invoices = customer.invoices | invoices
    sources = sealed_map(payload.consent_sources)
    consents = {
        purpose: ConsentRecord(
            granted=c.granted,
            source=sources.get(purpose),
            legal_basis=c.legal_basis,
            at=c.at,
            by=c.by,
        )
        for purpose, c in payload.consents.items()
    }
    replaced = {purpose: customer.consents.get(purpose) for purpose in consents}
    customer.consents = customer.consents | consents
    texts = sealed_map(payload.note_texts)
    for note in payload.notes:
        customer.note_items[note.note_id] = {
            "id": note.note_id, "text": texts.get(note.note_id), "author": note.author,
            "at": note.at,
        }  # fmt: skip
    customer.communications = customer.communications | set(payload.communications)
    previous_tier = _take_tier(customer, payload.tier)
    customer.merges = customer.merges | {
        payload.customer_id: MergeMemory(
            source_id=payload.customer_id,
            at=at,
            values=taken,
            tags=tuple(tags),
            attributes=attributes,
            billing=payload.billing,
            order_ids=tuple(moved_orders),
            payment_ids=tuple(p.latest.payment_id for p in payload.payments),
            invoice_numbers=tuple(invoices),
            consents=consents,
            replaced=replaced,
            note_ids=tuple(n.note_id for n in payload.notes),
            communications=tuple(payload.communications),
            claims=tuple(payload.claims),
            tier=payload.tier,
            previous_tier=previous_tier,
        )
    }


def _take_tier(customer: Customer, tier: HeldTier | None) -> HeldTier | None:
    """The target takes the merge's tier (if any); returns the one it held before."""
    if tier is None:
        return None
    held = customer.tier, customer.tier_min_points
    customer.tier, customer.tier_min_points = tier.name, tier.min_points
    return (
        None if held[0] is None or held[1] is None else HeldTier(name=held[0], min_points=held[1])
    )


def _take_values(
    customer: Customer, payload: ev.MergeAbsorbed
) -> tuple[JSONObject, list[str], JSONObject]:
    """The profile takes the moved values, tags and attributes (read as nothing once the
    source's key is shredded); returns them as taken."""
    values = msgspec.to_builtins(payload.values)
    taken = {k: v for k, v in values.items() if k in SCALAR_FIELDS}
    raw_tags, raw_attributes = values.get("tags"), values.get("attributes")
    tags = list(raw_tags) if isinstance(raw_tags, list) else []
    attributes = dict(raw_attributes) if isinstance(raw_attributes, dict) else {}
    profile = dict(customer.profile) | taken
    profile["tags"] = [*(profile.get("tags") or []), *tags]
    profile["attributes"] = dict(profile.get("attributes") or {}) | attributes
    customer.profile = profile
    return taken, tags, attributes


def fold_undone(customer: Customer, payload: ev.MergeUndone) -> None:
    """The target gives back what it took from the source and has not changed since."""
    memory = customer.merges.get(payload.source_id)
    customer.merges = {k: m for k, m in customer.merges.items() if k != payload.source_id}
    if memory is None:  # erased meanwhile: nothing left to give back
        return
    profile = dict(customer.profile)
    for name, value in memory.values.items():
        if profile.get(name) == value:
            profile[name] = None
    profile["tags"] = [t for t in profile.get("tags") or [] if t not in memory.tags]
    attributes = dict(profile.get("attributes") or {})
    for key, value in memory.attributes.items():
        if attributes.get(key) == value:
            del attributes[key]
    profile["attributes"] = attributes
    customer.profile = profile
    if memory.billing is not None and customer.billing == memory.billing:
        customer.billing = None
    customer.orders = {k: o for k, o in customer.orders.items() if k not in memory.order_ids}
    recount_visits(customer)
    customer.payments = {k: p for k, p in customer.payments.items() if k not in memory.payment_ids}
    customer.invoices = {
        k: i for k, i in customer.invoices.items() if k not in memory.invoice_numbers
    }
    consents = dict(customer.consents)
    for purpose, taken in memory.consents.items():
        if consents.get(purpose) == taken:
            previous = memory.replaced.get(purpose)
            if previous is None:
                consents.pop(purpose, None)
            else:
                consents[purpose] = previous
    customer.consents = consents
    customer.note_items = {k: n for k, n in customer.note_items.items() if k not in memory.note_ids}
    customer.communications = customer.communications - set(memory.communications)
    _give_back_tier(customer, memory)


def _give_back_tier(customer: Customer, memory: MergeMemory) -> None:
    """The tier the merge gave goes back to the one it replaced, unless it moved since."""
    given = memory.tier
    if given is None or (customer.tier, customer.tier_min_points) != (
        given.name, given.min_points,
    ):  # fmt: skip
        return
    held = memory.previous_tier
    customer.tier = None if held is None else held.name
    customer.tier_min_points = None if held is None else held.min_points


def order(moved: MovedOrder, snapshot: Snapshot | ErasedValue | None) -> Order:
    """The aggregate's order of a moved one (with its snapshot, when still readable)."""
    return Order(
        order_id=moved.order_id, placed_at=moved.placed_at, status=moved.status,
        first_time=moved.first_time, snapshot=snapshot, closed_at=moved.closed_at,
    )  # fmt: skip


def record(moved: MovedPayment) -> PaymentRecord:
    """The aggregate's payment record of a moved one."""
    dated = {PaymentStatus(k): v for k, v in moved.dated.items()}
    return PaymentRecord(latest=moved.latest, dated=dated, invoiced_as=tuple(moved.invoiced_as))


def moved_order(order: Order) -> MovedOrder:
    """An order as a merge moves it (without its snapshot)."""
    return MovedOrder(
        order_id=order.order_id, placed_at=order.placed_at, status=order.status,
        first_time=order.first_time, closed_at=order.closed_at,
    )  # fmt: skip


def moved_payment(payment: PaymentRecord) -> MovedPayment:
    """A payment record as a merge moves it."""
    dated = {str(k): v for k, v in payment.dated.items()}
    return MovedPayment(latest=payment.latest, dated=dated, invoiced_as=list(payment.invoiced_as))


def recount_visits(customer: Customer) -> None:
    """Visit count, first and last visit, and which order is the first, from the orders: the
    earliest `placedAt` is first, the one known first among equals (as the fold decides)."""
    orders = customer.orders
    first = min(orders.values(), key=lambda o: o.placed_at, default=None)
    customer.orders = {
        k: o if o.first_time == (o is first) else msgspec.structs.replace(o, first_time=o is first)
        for k, o in orders.items()
    }
    customer.visit_count = len(orders)
    customer.first_visit_at = first.placed_at if first else None
    customer.last_visit_at = max((o.placed_at for o in orders.values()), default=None)


def forget_merges(customer: Customer) -> None:
    """Erasure: what the target took is personal (values, consent sources); an erased customer
    cannot be unmerged, so the memory goes."""
    customer.merges = {}
