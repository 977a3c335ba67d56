"""The Customer aggregate: every change is an immutable event that names tenant and actor."""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.domain import Aggregate, event

from shared.clock import iso_utc
from shared.engagement import default_preferences
from shared.errors import Conflict, VersionMismatch
from shared.events import payloads as ev
from shared.events.catalog import stored_fields
from shared.events.values import (
    BillingDetails,
    Consent,
    ErasedValue,
    Invoice,
    OrderStatus,
    Payment,
    ProfileFields,
    Snapshot,
)
from shared.json_types import JSONObject
from write_side.domain.commerce import (
    build_invoice,
    delete_blockers,
    is_first_visit,
    payment_changes,
)
from write_side.domain.customer_events import event_class
from write_side.domain.merge_fold import MergeMemory
from write_side.domain.profile import (
    CustomerState,
    CustomerType,
    Profile,
    check_type_rules,
    registered_profile,
)
from write_side.domain.records import ConsentRecord, Order, PaymentRecord, as_value


class Customer(Aggregate):
    """A tenant's customer. Invariants are checked in `check_*` methods before events fire."""

    @classmethod
    def register(
        cls, *, tenant_id: str, actor: str, customer_type: CustomerType, profile: Profile
    ) -> Customer:
        """Create a customer after checking the per-type rules on its profile."""
        return cls(
            tenant_id=tenant_id,
            actor=actor,
            customer_type=customer_type.value,
            profile=registered_profile(profile, customer_type),
        )

    @event("Created")
    def __init__(self, tenant_id: str, actor: str, customer_type: str, profile: Profile) -> None:
        self.tenant_id = tenant_id
        self.customer_type = CustomerType(customer_type)
        self.profile: Profile = dict(profile)
        self.state = CustomerState.ACTIVE
        self.deleted_at: str | None = None
        at = iso_utc(self.created_on)
        self.state_history: list[JSONObject] = [
            {"state": "active", "at": at, "by": actor, "reason": None}
        ]
        self.first_visit_at: str | None = None
        self.last_visit_at: str | None = None
        self.visit_count = 0
        self.orders: dict[str, Order] = {}
        self.payments: dict[str, PaymentRecord] = {}
        self.billing: BillingDetails | ErasedValue | None = None
        self.invoices: dict[int, Invoice] = {}
        self.consents: dict[str, ConsentRecord] = {}
        self.tier: str | None = None
        self.tier_min_points: int | None = None
        self.preferences: JSONObject = default_preferences()
        self.note_items: dict[str, JSONObject] = {}
        self.communications: set[str] = set()  # ids and statuses applied (`customer_fold`)
        self.email_deliverable = True
        self.merged_into: str | None = None  # set while merged into another customer
        self.merges: dict[str, MergeMemory] = {}  # per source: what a merge gave this one

    # -- commands ---------------------------------------------------------------------------

    def update(self, *, actor: str, changes: Profile, customer_type: CustomerType | None) -> None:
        """Apply a partial update: only fields that differ produce an event."""
        self.check_mutable()
        effective = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        new_type = customer_type or self.customer_type
        check_type_rules(self.profile | effective, new_type).raise_if_any()
        if new_type is not self.customer_type:
            self.raise_event(actor, ev.TypeChanged(previous=self.customer_type, to=new_type))
        if effective:
            self.raise_event(
                actor, ev.ProfileChanged(changes=msgspec.convert(effective, ProfileFields))
            )

    def delete(self, *, actor: str, reason: str | None) -> None:
        """Soft-delete: the customer stays readable but leaves lists and frees its email.

        Refused (`Conflict` naming the blockers) while an order is open or a payment pending."""
        self.check_mutable()
        blockers = delete_blockers(self.orders, self.payments)
        if blockers:
            raise Conflict(
                "The customer has open orders or pending payments.", extra={"blockers": blockers}
            )
        self.raise_event(actor, ev.Deleted(reason=reason))

    def restore(self, *, actor: str, reason: str | None) -> None:
        """Bring a soft-deleted customer back to `active`."""
        self.check_not_merged()
        if self.state is not CustomerState.DELETED:
            raise Conflict(
                f"Only a deleted customer can be restored; this one is {self.state}.",
                extra={"state": self.state},
            )
        self.raise_event(actor, ev.Restored(reason=reason))

    # -- orders, payments, billing, invoices, consents, erasure ------------------------------

    def record_visit(self, *, actor: str, order_id: str, placed_at: str) -> bool:
        """Add an order (a visit); returns whether it is the first visit: placed before every
        visit known (by `placedAt`, not by arrival; `is_first_visit`). Idempotent."""
        if order_id in self.orders:
            return self.orders[order_id].first_time
        first_time = is_first_visit(placed_at, self.first_visit_at)
        snapshot = msgspec.convert(self.profile, Snapshot)
        visit = ev.VisitRecorded(
            order_id=order_id, placed_at=placed_at, first_time=first_time, snapshot=snapshot
        )
        self.raise_event(actor, visit)
        return first_time

    def close_order(self, *, actor: str, order_id: str, status: OrderStatus | str) -> None:
        """Mark an open order completed or cancelled (repeats change nothing)."""
        order, closing = self.orders.get(order_id), OrderStatus(status)
        if order is not None and order.is_open and closing is not OrderStatus.PLACED:
            self.raise_event(actor, ev.OrderClosed(order_id=order_id, status=closing))

    def record_payment(self, *, actor: str, payment: Payment | JSONObject) -> None:
        """Record a payment status (a `Payment` or its JSON form); repeats and steps back
        change nothing."""
        reported = as_value(Payment, payment)
        if payment_changes(self.payments.get(reported.payment_id), reported.status):
            self.raise_event(actor, ev.PaymentRecorded(payment=reported))

    def set_billing(self, *, actor: str, billing: BillingDetails | JSONObject) -> None:
        """Replace the billing details (`BillingDetails` or their JSON form)."""
        self.check_mutable()
        details = as_value(BillingDetails, billing)
        if details != self.billing:
            self.raise_event(actor, ev.BillingDetailsSet(billing=details))

    def issue_invoice(
        self, *, actor: str, number: int, issued_at: str, currency: str | None = None
    ) -> Invoice:
        """Invoice the payments not invoiced yet in one currency (`build_invoice`); `Conflict` when
        there is nothing to invoice in it."""
        if self.state is CustomerState.ERASED:
            raise Conflict("The customer is erased.", extra={"state": self.state})
        invoice = build_invoice(
            self.payments,
            number=number,
            customer_id=str(self.id),
            tenant_id=self.tenant_id,
            issued_at=issued_at,
            billing=self.billing,
            currency=currency,
        )
        self.raise_event(actor, ev.InvoiceIssued(invoice=invoice))
        return invoice

    def change_consent(self, *, actor: str, purpose: str, consent: Consent | JSONObject) -> None:
        """Grant or withdraw consent for a purpose (with source and legal basis)."""
        if self.state is CustomerState.ERASED:
            raise Conflict("The customer is erased.", extra={"state": self.state})
        given, current = as_value(Consent, consent), self.consents.get(purpose)
        known = current and Consent(
            granted=current.granted, source=current.source, legal_basis=current.legal_basis
        )
        if given != known:
            self.raise_event(actor, ev.ConsentChanged(purpose=purpose, consent=given))

    def reach_tier(self, *, actor: str, tier: str, min_points: int, lifetime_points: int) -> None:
        """Move up to `tier` (the caller picked it with `loyalty.next_tier`: never down)."""
        reached = ev.TierChanged(
            previous=self.tier, tier=tier, min_points=min_points, lifetime_points=lifetime_points
        )
        self.raise_event(actor, reached)

    def erase(self, *, actor: str, reason: str | None) -> bool:
        """Right to erasure: personal data goes; type, visits and payment totals stay."""
        if self.state is CustomerState.ERASED:
            return False
        self.raise_event(actor, ev.Erased(reason=reason))
        return True

    # -- invariants -------------------------------------------------------------------------

    def check_mutable(self) -> None:
        """Deleted and erased customers refuse changes (`Conflict`); only a deleted one can be
        restored, so only its message suggests it; a merged one names its target."""
        self.check_not_merged()
        if self.state is CustomerState.DELETED:
            raise Conflict(
                "The customer is deleted; restore it before changing it.",
                extra={"state": self.state},
            )
        if self.state is not CustomerState.ACTIVE:
            raise Conflict(
                f"The customer is {self.state}; it can no longer be changed.",
                extra={"state": self.state},
            )

    def check_not_merged(self) -> None:
        """A merged customer refuses every command (`Conflict` naming where it went)."""
        if self.state is CustomerState.MERGED:
            raise Conflict(
                f"The customer was merged into {self.merged_into}; change that one instead.",
                extra={"state": self.state, "mergedInto": self.merged_into},
            )

    def check_version(self, expected: int | None) -> None:
        """Optimistic concurrency: `VersionMismatch` when the caller saw another version."""
        if expected is not None and expected != self.version:
            raise VersionMismatch(
                f"The customer is at version {self.version}, not {expected}.",
                extra={"currentVersion": self.version},
            )

    @property
    def email(self) -> str | None:
        """The current normalised email, if any."""
        value = self.profile.get("email")
        return value if isinstance(value, str) else None

    @property
    def external_id(self) -> str | None:
        """The customer's id in the tenant's other system, if any (unique per tenant)."""
        value = self.profile.get("externalId")
        return value if isinstance(value, str) else None

    # -- events ---------------------------------------------------------------------------

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Every event goes through here: a merged customer takes none but its unmerge or its
        erasure (with its target's)."""
        if getattr(self, "state", None) is CustomerState.MERGED and event_class not in (
            type(self).Unmerged,
            type(self).Erased,
        ):
            self.check_not_merged()
        super().trigger_event(event_class, **kwargs)

    def raise_event(self, actor: str, payload: ev.Payload) -> None:
        """Trigger the event of this payload, with this customer's tenant and the actor."""
        event_type = getattr(type(self), type(payload).__name__)
        self.trigger_event(
            event_type, tenant_id=self.tenant_id, actor=actor, **stored_fields(payload)
        )

    # One class per payload of `shared.events` (`customer_events.event_class`); naming them
    # here makes them `Customer.<Name>`, the stored topics.
    ProfileChanged = event_class(ev.ProfileChanged)
    TypeChanged = event_class(ev.TypeChanged)
    Deleted = event_class(ev.Deleted)
    Restored = event_class(ev.Restored)
    Erased = event_class(ev.Erased)
    ConsentChanged = event_class(ev.ConsentChanged)
    VisitRecorded = event_class(ev.VisitRecorded)
    OrderClosed = event_class(ev.OrderClosed)
    PaymentRecorded = event_class(ev.PaymentRecorded)
    BillingDetailsSet = event_class(ev.BillingDetailsSet)
    InvoiceIssued = event_class(ev.InvoiceIssued)
    TierChanged = event_class(ev.TierChanged)
    PreferencesChanged = event_class(ev.PreferencesChanged)
    NoteAdded = event_class(ev.NoteAdded)
    NoteDeleted = event_class(ev.NoteDeleted)
    CommunicationRecorded = event_class(ev.CommunicationRecorded)
    Merged = event_class(ev.Merged)
    MergeAbsorbed = event_class(ev.MergeAbsorbed)
    Unmerged = event_class(ev.Unmerged)
    MergeUndone = event_class(ev.MergeUndone)
