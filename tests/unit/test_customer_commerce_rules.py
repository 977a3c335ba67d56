"""Visits, orders, payments, invoices, consents and erasure as given / when / then.

Until now these rules were only reached through HTTP and integration tests; here each one reads
as the facts recorded, the command, and what it adds or refuses.
"""

from __future__ import annotations

from shared.errors import Conflict
from shared.events.values import PaymentStatus
from tests.unit.decider_spec import History, given, when

PAID = {"paymentId": "p-1", "amount": 2500, "currency": "EUR", "orderId": "o-1", "method": "card"}


def visited(*orders: tuple[str, str]) -> History:
    history = History().created(firstName="Ann", email="ann@example.com")
    for order_id, placed_at in orders:
        history.then_(
            "VisitRecorded",
            order_id=order_id,
            placed_at=placed_at,
            first_time=False,
            snapshot={"firstName": "Ann"},
        )
    return history


def paid(status: str, *, at: str = "2026-03-02T10:00:00Z") -> History:
    return visited().then_("PaymentRecorded", payment=PAID | {"status": status, "at": at})


def test_a_first_order_is_a_first_visit_and_a_repeat_records_nothing() -> None:
    customer = given(visited())
    first = when(
        customer, lambda c: c.record_visit(actor="o", order_id="o-1", placed_at="2026-03-05")
    )
    first.then(("VisitRecorded", {"order_id": "o-1", "first_time": True}))
    assert first.result is True and customer.visit_count == 1
    again = when(
        customer, lambda c: c.record_visit(actor="o", order_id="o-1", placed_at="2026-03-05")
    )
    again.then_nothing()
    assert again.result is True


def test_a_late_order_placed_before_every_visit_is_the_first_visit() -> None:
    customer = given(visited(("o-2", "2026-03-05T10:00:00Z")))
    late = when(
        customer,
        lambda c: c.record_visit(actor="o", order_id="o-1", placed_at="2026-03-01T10:00:00Z"),
    )
    late.then(("VisitRecorded", {"first_time": True}))
    assert customer.first_visit_at == "2026-03-01T10:00:00Z"
    assert customer.orders["o-1"].first_time and not customer.orders["o-2"].first_time


def test_an_open_order_closes_once_and_blocks_deletion_until_then() -> None:
    customer = given(visited(("o-1", "2026-03-05T10:00:00Z")))
    refused = when(customer, lambda c: c.delete(actor="a", reason=None)).then_error(Conflict)
    assert getattr(refused, "extra", {}).get("blockers") == [{"kind": "order", "id": "o-1"}]
    closing = when(customer, lambda c: c.close_order(actor="o", order_id="o-1", status="completed"))
    closing.then(("OrderClosed", {"status": "completed"}))
    when(customer, lambda c: c.close_order(actor="o", order_id="o-1", status="cancelled")).then()
    when(customer, lambda c: c.delete(actor="a", reason=None)).then(("Deleted", {}))


def test_payments_move_forward_only() -> None:
    customer = given(paid("pending"))
    succeed = PAID | {"status": "succeeded", "at": "2026-03-03T10:00:00Z"}
    when(customer, lambda c: c.record_payment(actor="p", payment=succeed)).then(
        ("PaymentRecorded", {"payment": succeed})
    )
    back = PAID | {"status": "pending", "at": "2026-03-04T10:00:00Z"}
    when(customer, lambda c: c.record_payment(actor="p", payment=back)).then_nothing()
    when(customer, lambda c: c.record_payment(actor="p", payment=succeed)).then_nothing()
    assert customer.payments["p-1"].status is PaymentStatus.SUCCEEDED


def test_a_pending_payment_blocks_deletion() -> None:
    customer = given(paid("pending"))
    refused = when(customer, lambda c: c.delete(actor="a", reason=None)).then_error(Conflict)
    assert getattr(refused, "extra", {}).get("blockers") == [{"kind": "payment", "id": "p-1"}]


def test_an_invoice_takes_settled_payments_once() -> None:
    customer = given(paid("succeeded"))
    issued = when(customer, lambda c: c.issue_invoice(actor="b", number=7, issued_at="2026-03-09"))
    (event,) = issued.then(("InvoiceIssued", {})).events
    assert [(line["kind"], line["amount"]) for line in event.invoice["lines"]] == [("charge", 2500)]
    when(
        customer, lambda c: c.issue_invoice(actor="b", number=8, issued_at="2026-03-10")
    ).then_error(Conflict)


def test_nothing_settled_means_no_invoice() -> None:
    customer = given(paid("pending"))
    when(
        customer, lambda c: c.issue_invoice(actor="b", number=1, issued_at="2026-03-09")
    ).then_error(Conflict)


def test_consent_records_changes_only() -> None:
    customer = given(visited())
    grant = {"granted": True, "source": "kiosk", "legalBasis": "consent"}
    when(customer, lambda c: c.change_consent(actor="a", purpose="email", consent=grant)).then(
        ("ConsentChanged", {"purpose": "email", "consent": grant})
    )
    when(customer, lambda c: c.change_consent(actor="a", purpose="email", consent=grant)).then()
    withdraw = grant | {"granted": False}
    when(customer, lambda c: c.change_consent(actor="a", purpose="email", consent=withdraw)).then(
        ("ConsentChanged", {"consent": withdraw})
    )


def test_erasure_forgets_personal_data_keeps_facts_and_happens_once() -> None:
    history = visited(("o-1", "2026-03-05T10:00:00Z")).then_(
        "ConsentChanged",
        purpose="email",
        consent={"granted": True, "source": "kiosk", "legalBasis": "consent"},
    )
    customer = given(history.then_("Deleted", reason="asked by phone"))
    erased = when(customer, lambda c: c.erase(actor="dpo", reason="gdpr"))
    erased.then(("Erased", {"reason": "gdpr"}))
    assert erased.result is True and customer.state == "erased"
    assert customer.profile["firstName"] is None and customer.profile["email"] is None
    assert customer.orders["o-1"].snapshot is None and customer.visit_count == 1
    assert customer.consents["email"].source is None
    assert all(change["reason"] is None for change in customer.state_history)
    repeat = when(customer, lambda c: c.erase(actor="dpo", reason=None)).then_nothing()
    assert repeat.result is False


def test_an_erased_customer_refuses_every_change() -> None:
    customer = given(visited().then_("Erased", reason=None))
    grant = {"granted": True, "source": "web", "legalBasis": "consent"}
    commands = [
        lambda c: c.update(actor="a", changes={"firstName": "Bo"}, customer_type=None),
        lambda c: c.change_consent(actor="a", purpose="sms", consent=grant),
        lambda c: c.restore(actor="a", reason=None),
        lambda c: c.set_billing(actor="a", billing={"name": "Bo"}),
        lambda c: c.issue_invoice(actor="a", number=1, issued_at="2026-03-09"),
    ]
    for command in commands:
        when(customer, command).then_error(Conflict)
