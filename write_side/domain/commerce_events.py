"""The Customer's commercial record as events: visits (orders), order closing, payments,
billing details, invoices and the loyalty tier, each with the fold that keeps the aggregate's state.

They live apart from `customer.py` so the aggregate reads as its commands and invariants.
`Customer` names each class in its body (`VisitRecorded = commerce_events.VisitRecorded`),
and eventsourcing redefines a class named there as `Customer.<Name>` in `customer.py`: the
stored topics (`write_side.domain.customer:Customer.VisitRecorded`, …) and fields are those
the `@event` methods had, so every stored event reads back unchanged.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from shared.json_types import JSONObject
from write_side.domain.commerce import is_first_visit, merge_payment


class VisitRecorded(Aggregate.Event):
    """An order placed for the customer: a visit, with the profile as it was then."""

    tenant_id: str
    actor: str
    order_id: str
    placed_at: str
    first_time: bool
    snapshot: JSONObject

    def apply(self, aggregate: Any) -> None:
        """Count the visit, widen the first/last visit span and keep the order open. An order
        placed before every known visit becomes the first one (`firstTime` derives from
        `placedAt` here too, so events stored before that rule fold the same way)."""
        first = is_first_visit(self.placed_at, aggregate.first_visit_at)
        if first:
            aggregate.orders = {k: o | {"firstTime": False} for k, o in aggregate.orders.items()}
        aggregate.visit_count += 1
        aggregate.first_visit_at = min(filter(None, (aggregate.first_visit_at, self.placed_at)))
        aggregate.last_visit_at = max(filter(None, (aggregate.last_visit_at, self.placed_at)))
        aggregate.orders[self.order_id] = {
            "orderId": self.order_id,
            "placedAt": self.placed_at,
            "status": "placed",
            "firstTime": first,
            "snapshot": self.snapshot,
        }


class OrderClosed(Aggregate.Event):
    """An open order completed or cancelled."""

    tenant_id: str
    actor: str
    order_id: str
    status: str

    def apply(self, aggregate: Any) -> None:
        """The order keeps its facts; only its status moves."""
        aggregate.orders[self.order_id] = aggregate.orders[self.order_id] | {"status": self.status}


class PaymentRecorded(Aggregate.Event):
    """A payment status reported by the payment system."""

    tenant_id: str
    actor: str
    payment: JSONObject

    def apply(self, aggregate: Any) -> None:
        """Merge the status into the payment (each status keeps its own date)."""
        previous = aggregate.payments.get(self.payment["paymentId"], {})
        aggregate.payments[self.payment["paymentId"]] = merge_payment(previous, self.payment)


class BillingDetailsSet(Aggregate.Event):
    """The billing details replaced as a whole."""

    tenant_id: str
    actor: str
    billing: JSONObject

    def apply(self, aggregate: Any) -> None:
        """Keep the new details."""
        aggregate.billing = self.billing


class InvoiceIssued(Aggregate.Event):
    """An invoice with its tenant-wide number; its payments are invoiced from now on."""

    tenant_id: str
    actor: str
    invoice: JSONObject

    def apply(self, aggregate: Any) -> None:
        """Keep the invoice and mark each line's payment as invoiced for that kind of line."""
        aggregate.invoices[int(self.invoice["number"])] = self.invoice
        for line in self.invoice["lines"]:
            payment = aggregate.payments[line["paymentId"]]
            payment["invoicedAs"] = [*payment.get("invoicedAs", []), line["kind"]]


class TierChanged(Aggregate.Event):
    """The customer reached a higher loyalty tier (`customer.tier_changed` on the broker).

    It is the customer's event, not the ledger's, so it is published in the customer's order
    with its version, shows in its history, and the customer view holds the tier (segments
    filter on it). `min_points` is the tier's threshold when reached: the tier never goes down,
    even when the program is changed afterwards."""

    tenant_id: str
    actor: str
    previous: str | None
    tier: str
    min_points: int
    lifetime_points: int

    def apply(self, aggregate: Any) -> None:
        """Hold the tier and the threshold it was reached at."""
        aggregate.tier = self.tier
        aggregate.tier_min_points = self.min_points
