"""Orders, payments and invoices as the Customer aggregate keeps them (pure rules)."""

from __future__ import annotations

import enum

from shared.json_types import JSONObject

OPEN_ORDER = "placed"
ORDER_STATES = ("placed", "completed", "cancelled")


class PaymentStatus(enum.StrEnum):
    """Payment lifecycle as reported by the payment system."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


_ALLOWED = {
    None: {"pending", "succeeded", "failed", "refunded"},
    "pending": {"succeeded", "failed", "refunded"},
    "succeeded": {"refunded"},
    "failed": {"pending", "succeeded"},
    "refunded": set(),
}


def is_first_visit(placed_at: str, first_visit_at: str | None) -> bool:
    """Whether an order placed at `placed_at` is the customer's first visit, given the
    earliest visit known so far: placed strictly before it (a tie is not before). Orders
    arrive late and out of order, so arrival order says nothing; `placedAt` decides, the
    same rule for the attendee result, the event and every fold (which then clear the flag
    on the order that was first until now)."""
    return first_visit_at is None or placed_at < first_visit_at


def payment_changes(current: JSONObject | None, status: str) -> bool:
    """True when `status` moves the payment forward (a repeat or a step back changes nothing)."""
    previous = current["status"] if current else None
    return status in _ALLOWED.get(previous, set())


def merge_payment(previous: JSONObject, payment: JSONObject) -> JSONObject:
    """The payment after a status message. `at` follows the latest status; each status also
    keeps its own date (`succeededAt`, `refundedAt`, …), so a refund's invoice line does not
    rewrite the date of the charge line."""
    dated = {f"{payment['status']}At": payment["at"]} if payment.get("at") else {}
    return previous | payment | dated


def delete_blockers(orders: JSONObject, payments: JSONObject) -> list[dict[str, str]]:
    """Open orders and pending payments that forbid deleting the customer."""
    blockers = [
        {"kind": "order", "id": order_id}
        for order_id, order in orders.items()
        if order["status"] == OPEN_ORDER
    ]
    blockers += [
        {"kind": "payment", "id": payment_id}
        for payment_id, payment in payments.items()
        if payment["status"] == PaymentStatus.PENDING
    ]
    return blockers


def invoice_lines(payments: JSONObject) -> list[JSONObject]:
    """Lines for payments not yet invoiced: succeeded ones, and refunds as negative lines."""
    lines: list[JSONObject] = []
    for payment_id, payment in sorted(payments.items(), key=lambda item: item[1]["at"]):
        invoiced = set(payment.get("invoicedAs", []))
        if payment["status"] in ("succeeded", "refunded") and "charge" not in invoiced:
            lines.append(_line(payment_id, payment, "charge", payment["amount"]))
        if payment["status"] == "refunded" and "refund" not in invoiced:
            lines.append(_line(payment_id, payment, "refund", -payment["amount"]))
    return lines


def _line(payment_id: str, payment: JSONObject, kind: str, amount: int) -> JSONObject:
    order = f" for order {payment['orderId']}" if payment.get("orderId") else ""
    label = "Refund" if kind == "refund" else "Payment"
    return {
        "paymentId": payment_id,
        "kind": kind,
        "description": f"{label} {payment_id}{order}",
        "amount": amount,
        "currency": payment["currency"],
        "at": payment.get("refundedAt" if kind == "refund" else "succeededAt", payment["at"]),
    }


def totals(payments: JSONObject) -> dict[str, int]:
    """Settled amount per currency (succeeded minus refunded): kept after erasure."""
    result: dict[str, int] = {}
    for payment in payments.values():
        if payment["status"] == "succeeded":
            result[payment["currency"]] = result.get(payment["currency"], 0) + payment["amount"]
    return result


def build_invoice(
    payments: JSONObject,
    *,
    number: int,
    customer_id: str,
    tenant_id: str,
    issued_at: str,
    billing: JSONObject | None,
    currency: str | None = None,
) -> JSONObject:
    """An invoice of the payments not invoiced yet in one currency (an invoice has one, as
    Stripe's do): `currency` picks it, else the only currency waiting. `Conflict` naming the
    currencies waiting (`currencies`) when none waits in it, or several do and none was
    named: payments in two currencies used to block every invoice for good (issue 10.7)."""
    from shared.errors import Conflict

    lines = invoice_lines(payments)
    waiting = sorted({line["currency"] for line in lines})
    if currency is None and len(waiting) > 1:
        raise Conflict(
            f"Payments in {' and '.join(waiting)} are waiting and an invoice has one currency: "
            'name it in the body, e.g. {"currency": "' + waiting[0] + '"}.',
            extra={"currencies": waiting},
        )
    chosen = currency or (waiting[0] if waiting else None)
    lines = [line for line in lines if line["currency"] == chosen]
    if not lines:
        where = f" in {currency}" if currency else ""
        raise Conflict(
            f"There are no settled payments{where} that are not invoiced yet.",
            extra={"currencies": waiting},
        )
    return {
        "number": number,
        "customerId": customer_id,
        "tenantId": tenant_id,
        "issuedAt": issued_at,
        "currency": chosen,
        "lines": lines,
        "total": sum(line["amount"] for line in lines),
        "billing": billing,
    }
