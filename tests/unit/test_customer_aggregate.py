"""Customer aggregate in given-events / when-command / then-events form."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from shared.errors import Conflict, ValidationFailed, VersionMismatch
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType


def given(*steps: Callable[[Customer], None], **profile: Any) -> Customer:
    """A customer created with `profile` (type new), after `steps`, with events collected."""
    customer = Customer.register(
        tenant_id="acme", actor="alice", customer_type=CustomerType.NEW, profile=profile
    )
    for step in steps:
        step(customer)
    customer.collect_events()
    return customer


def then(customer: Customer) -> Sequence[Any]:
    return customer.collect_events()


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_created_event_carries_tenant_actor_type_and_full_profile() -> None:
    customer = Customer.register(
        tenant_id="acme",
        actor="alice",
        customer_type=CustomerType.REGULAR,
        profile={"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com"},
    )
    (created,) = then(customer)
    assert type(created).__name__ == "Created"
    assert created.tenant_id == "acme" and created.actor == "alice"
    assert created.customer_type == "regular"
    assert created.profile["firstName"] == "Ann" and created.profile["tags"] == []
    assert customer.state == "active" and customer.version == 1


def test_update_records_only_changed_fields() -> None:
    customer = given(firstName="Ann", lastName="Lee")
    customer.update(actor="bob", changes={"firstName": "Ann", "lastName": "Li"}, customer_type=None)
    (changed,) = then(customer)
    assert type(changed).__name__ == "ProfileChanged"
    assert changed.changes == {"lastName": "Li"} and changed.actor == "bob"
    assert changed.tenant_id == "acme"


def test_update_with_no_difference_records_nothing() -> None:
    customer = given(firstName="Ann")
    customer.update(actor="bob", changes={"firstName": "Ann"}, customer_type=None)
    assert then(customer) == []


def test_type_change_is_its_own_event_and_checks_the_new_type_rules() -> None:
    customer = given(firstName="Ann", lastName="Lee")
    with pytest.raises(ValidationFailed) as refused:
        customer.update(actor="bob", changes={}, customer_type=CustomerType.REGULAR)
    assert [e.field for e in refused.value.errors] == ["email"]
    assert then(customer) == []
    customer.update(
        actor="bob", changes={"email": "ann@example.com"}, customer_type=CustomerType.REGULAR
    )
    events = then(customer)
    assert names(events) == ["TypeChanged", "ProfileChanged"]
    assert events[0].previous == "new" and events[0].to == "regular"


@pytest.mark.parametrize(
    ("customer_type", "profile", "fields"),
    [
        (CustomerType.REGULAR, {"firstName": "Ann"}, ["lastName", "email"]),
        (CustomerType.ANONYMOUS, {"email": "a@b.co", "phone": "+14155552671"}, ["email", "phone"]),
        (CustomerType.NEW, {"notes": "only notes"}, ["firstName", "lastName", "email", "phone"]),
    ],
)
def test_type_rules_name_every_offending_field(
    customer_type: CustomerType, profile: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        Customer.register(
            tenant_id="acme", actor="alice", customer_type=customer_type, profile=profile
        )
    assert [e.field for e in refused.value.errors] == fields


def test_anonymous_customer_may_have_only_a_name() -> None:
    customer = Customer.register(
        tenant_id="acme",
        actor="alice",
        customer_type=CustomerType.ANONYMOUS,
        profile={"firstName": "Guest"},
    )
    assert customer.customer_type == "anonymous"


def test_delete_then_restore_records_state_history() -> None:
    customer = given(firstName="Ann")
    customer.delete(actor="mgr", reason="duplicate")
    customer.restore(actor="mgr", reason="mistake")
    events = then(customer)
    assert names(events) == ["Deleted", "Restored"]
    assert events[0].reason == "duplicate"
    assert [h["state"] for h in customer.state_history] == ["active", "deleted", "active"]
    assert customer.state_history[1]["by"] == "mgr"
    assert customer.deleted_at is None


def test_deleted_customer_refuses_updates_and_second_delete() -> None:
    customer = given(lambda c: c.delete(actor="mgr", reason=None), firstName="Ann")
    with pytest.raises(Conflict):
        customer.update(actor="bob", changes={"firstName": "Bo"}, customer_type=None)
    with pytest.raises(Conflict):
        customer.delete(actor="bob", reason=None)
    assert then(customer) == []
    assert customer.deleted_at is not None


def test_restore_needs_a_deleted_customer() -> None:
    customer = given(firstName="Ann")
    with pytest.raises(Conflict):
        customer.restore(actor="mgr", reason=None)


def test_check_version_refuses_a_stale_if_match() -> None:
    customer = given(
        lambda c: c.update(actor="b", changes={"notes": "x"}, customer_type=None), firstName="Ann"
    )
    customer.check_version(2)
    customer.check_version(None)
    with pytest.raises(VersionMismatch):
        customer.check_version(1)


def test_each_invoice_line_keeps_the_date_of_its_own_fact() -> None:
    """A refund used to overwrite the payment's `at`, so the charge line showed the refund's
    date (issue 10.8)."""
    payment = {"paymentId": "p1", "amount": 1200, "currency": "EUR", "method": "card"}
    customer = given(
        lambda c: c.record_payment(
            actor="pay", payment=payment | {"status": "succeeded", "at": "2026-11-01T10:00:00Z"}
        ),
        lambda c: c.record_payment(
            actor="pay", payment=payment | {"status": "refunded", "at": "2026-11-09T16:30:00Z"}
        ),
        firstName="Ann",
    )
    invoice = customer.issue_invoice(actor="alice", number=1, issued_at="2026-11-10T00:00:00Z")
    assert [(line.kind, line.at) for line in invoice.lines] == [
        ("charge", "2026-11-01T10:00:00Z"),
        ("refund", "2026-11-09T16:30:00Z"),
    ]
