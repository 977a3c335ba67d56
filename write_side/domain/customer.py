"""The Customer aggregate: every change is an immutable event that names tenant and actor."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from shared.clock import iso_utc
from shared.engagement import default_preferences
from shared.errors import Conflict, VersionMismatch
from shared.json_types import JSONObject
from write_side.domain import commerce_events, engagement_events, lifecycle_events
from write_side.domain.commerce import (
    build_invoice,
    delete_blockers,
    is_first_visit,
    payment_changes,
)
from write_side.domain.profile import (
    CustomerState,
    CustomerType,
    Profile,
    check_type_rules,
    empty_profile,
)


class Customer(Aggregate):
    """A tenant's customer. Invariants are checked in `check_*` methods before events fire."""

    @classmethod
    def register(
        cls, *, tenant_id: str, actor: str, customer_type: CustomerType, profile: Profile
    ) -> Customer:
        """Create a customer after checking the per-type rules on its profile."""
        full = empty_profile() | profile
        check_type_rules(full, customer_type).raise_if_any()
        return cls(
            tenant_id=tenant_id, actor=actor, customer_type=customer_type.value, profile=full
        )

    @event("Created")
    def __init__(self, tenant_id: str, actor: str, customer_type: str, profile: Profile) -> None:
        self.tenant_id = tenant_id
        self.customer_type = customer_type
        self.profile: Profile = dict(profile)
        self.state = CustomerState.ACTIVE.value
        self.deleted_at: str | None = None
        self.state_history: list[JSONObject] = []
        self.first_visit_at: str | None = None
        self.last_visit_at: str | None = None
        self.visit_count = 0
        self.orders: dict[str, JSONObject] = {}
        self.payments: dict[str, JSONObject] = {}
        self.billing: JSONObject | None = None
        self.invoices: dict[int, JSONObject] = {}
        self.consents: dict[str, JSONObject] = {}
        self.tier: str | None = None
        self.tier_min_points: int | None = None
        self.preferences: JSONObject = default_preferences()
        self.note_items: dict[str, JSONObject] = {}
        self.communications: set[str] = set()  # ids and statuses applied (`engagement_events`)
        self.email_deliverable = True
        at = iso_utc(self.created_on)
        self.state_history.append({"state": "active", "at": at, "by": actor, "reason": None})

    # -- commands ---------------------------------------------------------------------------

    def update(self, *, actor: str, changes: Profile, customer_type: CustomerType | None) -> None:
        """Apply a partial update: only fields that differ produce an event."""
        self.check_mutable()
        effective = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        new_type = CustomerType(customer_type or self.customer_type)
        check_type_rules(self.profile | effective, new_type).raise_if_any()
        if new_type.value != self.customer_type:
            self._type_changed(
                tenant_id=self.tenant_id,
                actor=actor,
                previous=self.customer_type,
                to=new_type.value,
            )
        if effective:
            self._profile_changed(tenant_id=self.tenant_id, actor=actor, changes=effective)

    def delete(self, *, actor: str, reason: str | None) -> None:
        """Soft-delete: the customer stays readable but leaves lists and frees its email.

        Refused (`Conflict` naming the blockers) while an order is open or a payment pending."""
        self.check_mutable()
        blockers = delete_blockers(self.orders, self.payments)
        if blockers:
            raise Conflict(
                "The customer has open orders or pending payments.", extra={"blockers": blockers}
            )
        self.trigger_event(self.Deleted, tenant_id=self.tenant_id, actor=actor, reason=reason)

    def restore(self, *, actor: str, reason: str | None) -> None:
        """Bring a soft-deleted customer back to `active`."""
        if self.state != CustomerState.DELETED.value:
            raise Conflict(
                f"Only a deleted customer can be restored; this one is {self.state}.",
                extra={"state": self.state},
            )
        self.trigger_event(self.Restored, tenant_id=self.tenant_id, actor=actor, reason=reason)

    # -- orders, payments, billing, invoices, consents, erasure ------------------------------

    def record_visit(self, *, actor: str, order_id: str, placed_at: str) -> bool:
        """Add an order (a visit); returns whether it is the first visit: placed before every
        visit known (by `placedAt`, not by arrival; `is_first_visit`). Idempotent."""
        if order_id in self.orders:
            return bool(self.orders[order_id]["firstTime"])
        first_time = is_first_visit(placed_at, self.first_visit_at)
        snapshot = {
            key: self.profile.get(key) for key in ("firstName", "lastName", "email", "phone")
        }
        self.trigger_event(
            self.VisitRecorded,
            tenant_id=self.tenant_id,
            actor=actor,
            order_id=order_id,
            placed_at=placed_at,
            first_time=first_time,
            snapshot=snapshot,
        )
        return first_time

    def close_order(self, *, actor: str, order_id: str, status: str) -> None:
        """Mark an open order completed or cancelled (repeats change nothing)."""
        order = self.orders.get(order_id)
        if order is not None and order["status"] == "placed" and status != "placed":
            self.trigger_event(
                self.OrderClosed,
                tenant_id=self.tenant_id,
                actor=actor,
                order_id=order_id,
                status=status,
            )

    def record_payment(self, *, actor: str, payment: JSONObject) -> None:
        """Record a payment status; repeats and steps back change nothing."""
        if payment_changes(self.payments.get(payment["paymentId"]), payment["status"]):
            self.trigger_event(
                self.PaymentRecorded, tenant_id=self.tenant_id, actor=actor, payment=payment
            )

    def set_billing(self, *, actor: str, billing: JSONObject) -> None:
        """Replace the billing details."""
        self.check_mutable()
        if billing != self.billing:
            self.trigger_event(
                self.BillingDetailsSet, tenant_id=self.tenant_id, actor=actor, billing=billing
            )

    def issue_invoice(
        self, *, actor: str, number: int, issued_at: str, currency: str | None = None
    ) -> JSONObject:
        """Invoice the payments not invoiced yet in one currency (`build_invoice`); `Conflict` when
        there is nothing to invoice in it."""
        if self.state == CustomerState.ERASED.value:
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
        self.trigger_event(
            self.InvoiceIssued, tenant_id=self.tenant_id, actor=actor, invoice=invoice
        )
        return invoice

    def change_consent(self, *, actor: str, purpose: str, consent: JSONObject) -> None:
        """Grant or withdraw consent for a purpose (with source and legal basis)."""
        if self.state == CustomerState.ERASED.value:
            raise Conflict("The customer is erased.", extra={"state": self.state})
        current = self.consents.get(purpose)
        if current is None or {k: current.get(k) for k in consent} != consent:
            self.trigger_event(
                self.ConsentChanged,
                tenant_id=self.tenant_id,
                actor=actor,
                purpose=purpose,
                consent=consent,
            )

    def reach_tier(self, *, actor: str, tier: str, min_points: int, lifetime_points: int) -> None:
        """Move up to `tier` (the caller picked it with `loyalty.next_tier`: never down)."""
        self.trigger_event(
            self.TierChanged, tenant_id=self.tenant_id, actor=actor, previous=self.tier,
            tier=tier, min_points=min_points, lifetime_points=lifetime_points,
        )  # fmt: skip

    def erase(self, *, actor: str, reason: str | None) -> bool:
        """Right to erasure: personal data goes; type, visits and payment totals stay."""
        if self.state == CustomerState.ERASED.value:
            return False
        self.trigger_event(self.Erased, tenant_id=self.tenant_id, actor=actor, reason=reason)
        return True

    # -- invariants -------------------------------------------------------------------------

    def check_mutable(self) -> None:
        """Deleted and erased customers refuse changes (`Conflict`); only a deleted one can be
        restored, so only its message suggests it."""
        if self.state == CustomerState.DELETED.value:
            raise Conflict(
                "The customer is deleted; restore it before changing it.",
                extra={"state": self.state},
            )
        if self.state != CustomerState.ACTIVE.value:
            raise Conflict(
                f"The customer is {self.state}; it can no longer be changed.",
                extra={"state": self.state},
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

    # -- events -----------------------------------------------------------------------------

    @event("ProfileChanged")
    def _profile_changed(self, tenant_id: str, actor: str, changes: Profile) -> None:
        self.profile.update(changes)
        if "email" in changes:  # a hard bounce holds until the address changes
            self.email_deliverable = True

    @event("TypeChanged")
    def _type_changed(self, tenant_id: str, actor: str, previous: str, to: str) -> None:
        self.customer_type = to

    # Lifecycle and consent events live in `lifecycle_events`, the commercial record's in
    # `commerce_events`; naming them here makes them `Customer.<Name>` (same stored topics and
    # fields as when they were written in this class).
    StateEvent = lifecycle_events.StateEvent
    Deleted = lifecycle_events.Deleted
    Restored = lifecycle_events.Restored
    Erased = lifecycle_events.Erased
    ConsentChanged = lifecycle_events.ConsentChanged
    VisitRecorded = commerce_events.VisitRecorded
    OrderClosed = commerce_events.OrderClosed
    PaymentRecorded = commerce_events.PaymentRecorded
    BillingDetailsSet = commerce_events.BillingDetailsSet
    InvoiceIssued = commerce_events.InvoiceIssued
    TierChanged = commerce_events.TierChanged
    PreferencesChanged = engagement_events.PreferencesChanged
    NoteAdded = engagement_events.NoteAdded
    NoteDeleted = engagement_events.NoteDeleted
    CommunicationRecorded = engagement_events.CommunicationRecorded

    def forget_personal_data(self) -> None:
        """Drop personal data from memory (erasure); non-personal facts stay."""
        self.profile = empty_profile()
        self.billing = None
        for order in self.orders.values():
            order["snapshot"] = None
        for invoice in self.invoices.values():
            invoice["billing"] = None
        for consent in self.consents.values():
            consent["source"] = None
        for change in self.state_history:
            change["reason"] = None
        self.preferences = default_preferences()
        for note in self.note_items.values():
            note["text"] = None
