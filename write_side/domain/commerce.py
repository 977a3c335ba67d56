"""Orders, payments and invoices as the Customer aggregate keeps them (pure rules over the
value objects of `records` and `shared.events.values`)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import Conflict
from shared.events.values import (
    BillingDetails,
    ErasedValue,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentStatus,
)
from write_side.domain.records import Order, PaymentRecord

_ALLOWED: dict[PaymentStatus | None, frozenset[PaymentStatus]] = {
    None: frozenset(PaymentStatus),
    PaymentStatus.PENDING: frozenset(
        {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.REFUNDED}
    ),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.FAILED: frozenset({PaymentStatus.PENDING, PaymentStatus.SUCCEEDED}),
    PaymentStatus.REFUNDED: frozenset(),
}
_SETTLED = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)


def is_first_visit(placed_at: str, first_visit_at: str | None) -> bool:
    """Whether an order placed at `placed_at` is the customer's first visit, given the
    earliest visit known so far: placed strictly before it (a tie is not before). Orders
    arrive late and out of order, so arrival order says nothing; `placedAt` decides, the
    same rule for the attendee result, the event and every fold (which then clear the flag
    on the order that was first until now)."""
    return first_visit_at is None or placed_at < first_visit_at


def payment_changes(current: PaymentRecord | None, status: PaymentStatus) -> bool:
    """True when `status` moves the payment forward (a repeat or a step back changes nothing)."""
    return status in _ALLOWED[current.status if current else None]


def merge_payment(previous: PaymentRecord | None, payment: Payment) -> PaymentRecord:
    """The payment after a status message. Each status keeps its own date, so a refund's
    invoice line does not rewrite the date of the charge line."""
    dated = dict(previous.dated) if previous else {}
    dated[payment.status] = payment.at
    invoiced = previous.invoiced_as if previous else ()
    return PaymentRecord(latest=payment, dated=dated, invoiced_as=invoiced)


def delete_blockers(
    orders: Mapping[str, Order], payments: Mapping[str, PaymentRecord]
) -> list[dict[str, str]]:
    """Open orders and pending payments that forbid deleting the customer."""
    blockers = [{"kind": "order", "id": order_id} for order_id, o in orders.items() if o.is_open]
    blockers += [
        {"kind": "payment", "id": payment_id}
        for payment_id, payment in payments.items()
        if payment.status is PaymentStatus.PENDING
    ]
    return blockers


def invoice_lines(payments: Mapping[str, PaymentRecord]) -> list[InvoiceLine]:
    """Lines for payments not yet invoiced: succeeded ones, and refunds as negative lines."""
    lines: list[InvoiceLine] = []
    for payment_id, record in sorted(payments.items(), key=lambda item: item[1].latest.at):
        amount = record.latest.amount
        if record.status in _SETTLED and "charge" not in record.invoiced_as:
            lines.append(_line(payment_id, record, "charge", amount))
        if record.status is PaymentStatus.REFUNDED and "refund" not in record.invoiced_as:
            lines.append(_line(payment_id, record, "refund", -amount))
    return lines


def _line(payment_id: str, record: PaymentRecord, kind: str, amount: int) -> InvoiceLine:
    payment = record.latest
    order = f" for order {payment.order_id}" if payment.order_id else ""
    refund = kind == "refund"
    return InvoiceLine(
        payment_id=payment_id,
        kind="refund" if refund else "charge",
        description=f"{'Refund' if refund else 'Payment'} {payment_id}{order}",
        amount=amount,
        currency=payment.currency,
        at=record.date_of(PaymentStatus.REFUNDED if refund else PaymentStatus.SUCCEEDED),
    )


def build_invoice(
    payments: Mapping[str, PaymentRecord],
    *,
    number: int,
    customer_id: str,
    tenant_id: str,
    issued_at: str,
    billing: BillingDetails | ErasedValue | None,
    currency: str | None = None,
) -> Invoice:
    """An invoice of the payments not invoiced yet in one currency (an invoice has one, as
    Stripe's do): `currency` picks it, else the only currency waiting. `Conflict` naming the
    currencies waiting (`currencies`) when none waits in it, or several do and none was
    named: payments in two currencies used to block every invoice for good (issue 10.7)."""
    lines = invoice_lines(payments)
    waiting = sorted({line.currency for line in lines})
    if currency is None and len(waiting) > 1:
        raise Conflict(
            f"Payments in {' and '.join(waiting)} are waiting and an invoice has one currency: "
            'name it in the body, e.g. {"currency": "' + waiting[0] + '"}.',
            extra={"currencies": waiting},
        )
    chosen = currency or (waiting[0] if waiting else None)
    lines = [line for line in lines if line.currency == chosen]
    if chosen is None or not lines:
        where = f" in {currency}" if currency else ""
        raise Conflict(
            f"There are no settled payments{where} that are not invoiced yet.",
            extra={"currencies": waiting},
        )
    return Invoice(
        number=number,
        customer_id=customer_id,
        tenant_id=tenant_id,
        issued_at=issued_at,
        currency=chosen,
        lines=lines,
        total=sum(line.amount for line in lines),
        billing=billing,
    )
