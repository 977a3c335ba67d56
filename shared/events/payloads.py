"""The payload of every Customer event (and of a customer's loyalty ledger's): its own
fields, typed, in their stored order.

A payload class is named like the stored event (`VisitRecorded` is stored under the topic
`write_side.domain.customer:Customer.VisitRecorded` and read as `customer.visit_recorded`);
field names are the stored attribute names (snake_case; nested values are camelCase). The
envelope, not the payload, carries the tenant, the actor, the time and the version.
To add an event, see "How to add an event" in docs/DESIGN.md.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from shared.events.base import Payload as Payload
from shared.events.merge_payloads import MergeAbsorbed as MergeAbsorbed
from shared.events.merge_payloads import Merged as Merged
from shared.events.merge_payloads import MergeUndone as MergeUndone
from shared.events.merge_payloads import Unmerged as Unmerged
from shared.events.values import (
    AttendeeResult,
    BillingDetails,
    Consent,
    CustomerState,
    CustomerType,
    ErasedValue,
    FreeForm,
    Invoice,
    LedgerEntry,
    Lot,
    OrderStatus,
    Payment,
    Personal,
    ProfileFields,
    Public,
    Snapshot,
)


class Created(Payload, frozen=True):
    """A customer registered, with every profile field (unset ones as null)."""

    customer_type: Public[CustomerType]
    profile: ProfileFields


class ProfileChanged(Payload, frozen=True):
    """Profile fields that changed, with their new values."""

    published_as = "customer.updated"
    changes: ProfileFields


class TypeChanged(Payload, frozen=True):
    """The customer type changed."""

    published_as = "customer.updated"
    previous: Public[CustomerType]
    to: Public[CustomerType]


class StateChanged(Payload, frozen=True):
    """A lifecycle change; the subclass says which state it leads to."""

    target: ClassVar[CustomerState]
    reason: Personal[str | None] = None


class Deleted(StateChanged, frozen=True):
    """Soft-deleted: readable, out of lists, its email free."""

    target = CustomerState.DELETED


class Restored(StateChanged, frozen=True):
    """Back to active."""

    target = CustomerState.ACTIVE


class Erased(StateChanged, frozen=True):
    """Personal data erased (the data key is shredded right after)."""

    target = CustomerState.ERASED


class ConsentChanged(Payload, frozen=True):
    """A purpose granted or withdrawn."""

    purpose: Public[str]
    consent: Consent


class VisitRecorded(Payload, frozen=True):
    """An order placed for the customer: a visit, with the profile as it was then."""

    order_id: Public[str]
    placed_at: Public[str]
    first_time: Public[bool]
    snapshot: Personal[Snapshot | ErasedValue | None]


class OrderClosed(Payload, frozen=True):
    """An open order completed or cancelled."""

    order_id: Public[str]
    status: Public[OrderStatus]


class PaymentRecorded(Payload, frozen=True):
    """A payment status reported by the payment system."""

    payment: Payment


class BillingDetailsSet(Payload, frozen=True):
    """The billing details replaced as a whole."""

    billing: Personal[BillingDetails | ErasedValue]


class InvoiceIssued(Payload, frozen=True):
    """An invoice with its tenant-wide number; its payments are invoiced from now on."""

    invoice: Invoice


class TierChanged(Payload, frozen=True):
    """The customer reached a higher loyalty tier (`customer.tier_changed` on the broker).

    It is the customer's event, not the ledger's, so it is published in the customer's order
    with its version, shows in its history, and the customer view holds the tier (segments
    filter on it). `min_points` is the tier's threshold when reached: the tier never goes down,
    even when the program is changed afterwards."""

    previous: Public[str | None]
    tier: Public[str]
    min_points: Public[int]
    lifetime_points: Public[int]


class PreferencesChanged(Payload, frozen=True):
    """The whole preferences document after a merge patch."""

    preferences: Personal[FreeForm | ErasedValue]  # language, zone, hours, card brand: hers


class NoteAdded(Payload, frozen=True):
    """A note written about the customer; its author is the event's actor."""

    note_id: Public[str]
    text: Personal[str]


class NoteDeleted(Payload, frozen=True):
    """A note taken out of lists; `NoteAdded` keeps its text in the history."""

    note_id: Public[str]


class CommunicationRecorded(Payload, frozen=True):
    """A message to or from the customer: what kind went where and when, never what it said."""

    communication_id: Public[str]
    source: Public[str]
    channel: Public[str]
    direction: Public[str]
    purpose: Public[str | None]
    subject: Personal[str | None]
    template: Public[str | None]
    status: Public[str | None]
    bounce_type: Public[str | None]
    at: Public[str]
    #: A sender's status about a customer merged into this one, concerning an address this
    #: customer does not hold (the source's): a hard bounce of it leaves this customer's own
    #: email deliverable. Came later: older events read False.
    other_address: Public[bool] = False


class AttendeesProcessed(Payload, frozen=True):
    """An order's attendees matched or registered (stored by the order record, published
    to the broker; read models learn the visits from each customer's `VisitRecorded`)."""

    order_id: Public[str]
    placed_at: Public[str]
    results: Public[list[AttendeeResult]]


class LedgerOpened(Payload, frozen=True):
    """A customer's loyalty ledger opened (its own stream, named after the customer)."""

    customer_id: Public[uuid.UUID]


class LedgerEntryRecorded(Payload, frozen=True):
    """One entry of a customer's loyalty ledger. `lot` is the lot an earning opens; a negative
    entry takes its points from the lots, `first_lot`'s before the others; `lifetime` is what it
    adds to lifetime points; `request` a keyed hash of a redemption's `Idempotency-Key`."""

    customer_id: Public[str]
    entry: LedgerEntry
    lot: Public[Lot | None] = None
    first_lot: Public[str | None] = None
    lifetime: Public[int] = 0
    request: Public[str | None] = None


class PointsEarned(LedgerEntryRecorded, frozen=True):
    """Points for a payment or a completed order."""


class PointsRedeemed(LedgerEntryRecorded, frozen=True):
    """Points spent by the customer."""


class PointsAdjusted(LedgerEntryRecorded, frozen=True):
    """A manager's correction, either way."""


class PointsReversed(LedgerEntryRecorded, frozen=True):
    """A refunded payment's points taken back (as far as the balance allows)."""


class PointsExpired(LedgerEntryRecorded, frozen=True):
    """Unspent points of a lot whose time ran out."""


#: Every event a customer's loyalty ledger stream holds.
LedgerPayload = (
    LedgerOpened | PointsEarned | PointsRedeemed | PointsAdjusted | PointsReversed | PointsExpired
)


class SegmentDefined(Payload, frozen=True):
    """A segment defined: the tenant's business vocabulary, naming no customer."""

    name: Public[str]
    description: Public[str | None]
    filter: Public[FreeForm]  # the contract's filter language, checked on write


class SegmentRedefined(SegmentDefined, frozen=True):
    """A new name, description or filter (membership is recomputed from it)."""


class SegmentRemoved(Payload, frozen=True):
    """A segment removed (its members are not announced one by one)."""


#: Every event a segment definition's stream holds.
SegmentPayload = SegmentDefined | SegmentRedefined | SegmentRemoved


#: Every event a Customer stream holds, in the order of a customer's life.
CustomerPayload = (
    Created
    | ProfileChanged
    | TypeChanged
    | Deleted
    | Restored
    | Erased
    | ConsentChanged
    | VisitRecorded
    | OrderClosed
    | PaymentRecorded
    | BillingDetailsSet
    | InvoiceIssued
    | TierChanged
    | PreferencesChanged
    | NoteAdded
    | NoteDeleted
    | CommunicationRecorded
    | Merged
    | MergeAbsorbed
    | Unmerged
    | MergeUndone
)
