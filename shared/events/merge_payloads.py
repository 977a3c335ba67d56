"""The payloads of a merge and its undoing (docs/decisions.md "Merge and unmerge"): the
source's `Merged` / `Unmerged`, the target's `MergeAbsorbed` / `MergeUndone`. Part of
`payloads.CustomerPayload` like every other Customer event."""

from __future__ import annotations

from shared.events.base import Payload
from shared.events.values import (
    BillingDetails,
    CustomerState,
    ErasedValue,
    HeldTier,
    Invoice,
    MovedConsent,
    MovedNote,
    MovedOrder,
    MovedPayment,
    Personal,
    ProfileFields,
    Public,
    Snapshot,
)


class Merged(Payload, frozen=True):
    """On the source of a merge: folded into `target_id`, readable, out of lists, refusing
    every command; `previous_state` is the state an unmerge gives back."""

    source_id: Public[str]
    target_id: Public[str]
    previous_state: Public[CustomerState]


class MergeAbsorbed(Payload, frozen=True):
    """On the target of a merge: what it took from the source. `values` are the profile
    fields it had empty (`tags`: the tags it lacked, `attributes`: the keys it lacked);
    orders, payments, invoices, live notes, communications and the consents whose latest
    change was the source's move whole; `claims` are the source's email and external-id
    claims, now held by the target. The personal parts are the source's data: `customer_id`
    names the source, so they are sealed under the source's key (shredded with it). `tier`:
    the loyalty tier the target takes when it is higher than its own (the source's, or the
    one both ledgers' lifetime points reach together); None when it keeps its own (and in
    events stored before the field existed)."""

    published_as = "customer.merged"
    customer_id: Public[str]
    target_id: Public[str]
    values: ProfileFields
    billing: Personal[BillingDetails | ErasedValue | None]
    orders: Public[list[MovedOrder]]
    snapshots: Personal[dict[str, Snapshot | None] | ErasedValue]
    payments: Public[list[MovedPayment]]
    invoices: Public[list[Invoice]]  # their `billing` travels in `invoice_billing`
    invoice_billing: Personal[dict[str, BillingDetails | ErasedValue | None] | ErasedValue]
    consents: Public[dict[str, MovedConsent]]
    consent_sources: Personal[dict[str, str | None] | ErasedValue]
    notes: Public[list[MovedNote]]
    note_texts: Personal[dict[str, str | None] | ErasedValue]
    communications: Public[list[str]]
    claims: Public[list[str]]
    tier: Public[HeldTier | None] = None


class Unmerged(Payload, frozen=True):
    """On the source: the merge undone; back to `state` with what it had, and its orders
    and payments as they are now (an order completed while merged comes back completed)."""

    published_as = "customer.unmerged"
    source_id: Public[str]
    target_id: Public[str]
    state: Public[CustomerState]
    orders: Public[list[MovedOrder]]
    payments: Public[list[MovedPayment]]


class MergeUndone(Payload, frozen=True):
    """On the target: it gives back what it took from `source_id` (the fold knows what:
    what the merge moved and has not changed since); what happened to it since stays."""

    published_as = "customer.unmerged"
    source_id: Public[str]
    target_id: Public[str]
