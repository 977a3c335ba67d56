"""The overview projection: per tenant and UTC day, new customers by type, first-time and
returning visits, revenue and refunds per currency (minor units), erasures, and consent
grants and withdrawals per purpose.

No personal value is kept: a day's document holds counts and sums only, keyed by the day.
Erasure adds to `erasures` and subtracts nothing, so the numbers stay when customers go (and a
rebuild after the erasure finds the same numbers: none of them come from encrypted fields).
Each fact is dated by when it happened for the business: a visit by its order's `placedAt`,
a payment by its status's `at`, everything else by when the event was stored. A visit is
first-time when the service said so when it recorded it (`firstTime` of the attendee result).
"""

from __future__ import annotations

from collections.abc import Iterable

from read_side.events import EventEnvelope
from read_side.projections.api import Document, Documents
from shared.clock import iso_utc
from shared.events import payloads as ev

OVERVIEW = "analytics_overview"
DAY_PREFIX = "day:"


def day_key(day: str) -> str:
    """The document key of a UTC day (`YYYY-MM-DD`)."""
    return f"{DAY_PREFIX}{day}"


def fact_day(event: EventEnvelope) -> str:
    """The UTC day a fact of `event` belongs to (see the module docstring)."""
    match event.payload:
        case ev.VisitRecorded(placed_at=placed_at):
            return placed_at[:10]
        case ev.PaymentRecorded(payment=payment) if len(payment.at) >= 10:
            return payment.at[:10]
    return iso_utc(event.occurred_at)[:10]


def _bump(doc: Document, path: Iterable[str], amount: int = 1) -> None:
    *parents, leaf = path
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = int(node.get(leaf, 0)) + amount


def count_fact(doc: Document, event: EventEnvelope) -> None:
    """Add what `event` tells to a day's document (also used by tests' brute force)."""
    match event.payload:
        case ev.Created(customer_type=customer_type):
            _bump(doc, ("newCustomers", customer_type.value))
        case ev.VisitRecorded(first_time=first_time):
            _bump(doc, ("visits", "firstTime" if first_time else "returning"))
        case ev.PaymentRecorded(payment=payment):
            kind = _MONEY_KINDS.get(payment.status.value)
            if kind is not None:
                _bump(doc, (kind, payment.currency), payment.amount)
        case ev.Erased():
            _bump(doc, ("erasures",))
        case ev.ConsentChanged(purpose=purpose, consent=consent):
            _bump(doc, ("consents", purpose, "granted" if consent.granted else "withdrawn"))


_MONEY_KINDS = {"succeeded": "revenue", "refunded": "refunds"}


class OverviewProjection:
    """Daily counters per tenant (`GET /analytics/overview` sums them per week or month)."""

    name = OVERVIEW
    version = 1
    description = "daily new customers, visits, revenue, refunds, erasures and consents"
    events = frozenset(
        {
            "customer.created",
            "customer.visit_recorded",
            "customer.payment_recorded",
            "customer.erased",
            "customer.consent_changed",
        }
    )

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The day the event's fact belongs to."""
        return (day_key(fact_day(event)),)

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        """Count the fact into its day."""
        for doc in docs.values():
            count_fact(doc, event)
