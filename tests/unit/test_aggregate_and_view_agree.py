"""The write side's aggregate and the read side's `evolve` must tell the same story.

Both fold the same events, written twice (the aggregate's `apply` methods and `read_side.views`):
a field one of them forgets, or a rule only one applies, makes the customer the API shows differ
from the customer the commands decide on. Hypothesis drives random command sequences through the
aggregate, folds the events it emitted with `evolve` and compares every field the view exposes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projectors.envelopes import to_envelope
from read_side.views import PROFILE_KEYS, evolve
from shared.engagement import default_preferences
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed, VersionMismatch
from write_side.domain import engagement
from write_side.domain.billing import normalize_billing
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

Command = Callable[[Customer], Any]
TOPIC = "write_side.domain.customer:Customer."
DATES = [f"2026-0{month}-1{day}T10:00:00Z" for month in (1, 2, 3) for day in (1, 5)]
ORDER_IDS = ["o-1", "o-2", "o-3"]
PAYMENT_IDS = ["p-1", "p-2"]


def _update(changes: dict[str, Any], kind: CustomerType | None) -> Command:
    return lambda c: c.update(actor="bob", changes=changes, customer_type=kind)


def _payment(payment_id: str, status: str, amount: int, currency: str, day: str) -> Command:
    payment = {
        "paymentId": payment_id,
        "status": status,
        "amount": amount,
        "currency": currency,
        "at": day,
        "orderId": None,
    }
    return lambda c: c.record_payment(actor="pay", payment=payment)


def _consent(purpose: str, granted: bool, source: str) -> Command:
    consent = {"granted": granted, "source": source, "legalBasis": "consent"}
    return lambda c: c.change_consent(actor="bob", purpose=purpose, consent=consent)


def _billing(name: str) -> Command:
    billing = normalize_billing({"name": name, "address": {"line1": "1 Main St", "country": "GB"}})
    return lambda c: c.set_billing(actor="bob", billing=billing)


def _note(note_id: str, author: str) -> Command:
    return lambda c: engagement.add_note(c, actor=author, note_id=note_id, text="called back")


def _delete_note(note_id: str, author: str) -> Command:
    return lambda c: engagement.delete_note(c, actor=author, note_id=note_id, may_delete_any=False)


def _communication(
    channel: str, status: str | None, bounce: str | None, other: bool = False
) -> Command:
    message = engagement.Communication(
        communication_id=f"m-{channel}-{status}", source="notification", channel=channel,
        direction="outbound", purpose="marketing", subject="Hi", template="t1", status=status,
        bounce_type=bounce, at=DATES[0], other_address=other,
    )  # fmt: skip
    return lambda c: engagement.record_communication(c, actor="notify", communication=message)


def _preferences(language: str) -> Command:
    preferences = default_preferences() | {"language": language}
    preferences["channels"] = preferences["channels"] | {"sms": {"enabled": language == "fr"}}
    return lambda c: engagement.change_preferences(c, actor="bob", preferences=preferences)


names = st.sampled_from(["Ann", "Bo", "Céline", "Đorđe"])
changes = st.fixed_dictionaries(
    {},
    optional={
        "firstName": names,
        "lastName": names,
        "email": st.sampled_from(["a@example.com", "b@example.org", None]),
        "phone": st.sampled_from(["+442079460055", "+14155552671", None]),
        "notes": st.sampled_from(["vip", None]),
        "tags": st.lists(st.sampled_from(["vip", "kiwi", "late"]), max_size=2, unique=True),
        "attributes": st.dictionaries(
            st.sampled_from(["seats", "tier"]), st.one_of(st.integers(0, 9), st.just("gold"))
        ),
    },
)
#: What happens to an active customer (no lifecycle change: the merge property reuses it).
life = st.one_of(
    st.builds(_update, changes, st.one_of(st.none(), st.sampled_from(list(CustomerType)))),
    st.builds(
        lambda order, day: lambda c: c.record_visit(actor="ord", order_id=order, placed_at=day),
        st.sampled_from(ORDER_IDS),
        st.sampled_from(DATES),
    ),
    st.builds(
        lambda order, status: lambda c: c.close_order(actor="ord", order_id=order, status=status),
        st.sampled_from(ORDER_IDS),
        st.sampled_from(["completed", "cancelled"]),
    ),
    st.builds(
        _payment,
        st.sampled_from(PAYMENT_IDS),
        st.sampled_from(["pending", "succeeded", "failed", "refunded"]),
        st.integers(1, 50_000),
        st.sampled_from(["USD", "EUR", "JPY"]),
        st.sampled_from(DATES),
    ),
    st.builds(_billing, names),
    st.builds(_consent, st.sampled_from(["email", "sms"]), st.booleans(), st.sampled_from(["web"])),
    st.builds(_note, st.sampled_from(["n-1", "n-2"]), st.sampled_from(["bob", "eve"])),
    st.builds(_delete_note, st.sampled_from(["n-1", "n-2"]), st.sampled_from(["bob", "eve"])),
    st.builds(
        _communication,
        st.sampled_from(["email", "sms"]),
        st.sampled_from([None, "delivered", "bounced"]),
        st.sampled_from([None, "hard", "soft"]),
        st.booleans(),  # a merged source's other address
    ),
    st.builds(_preferences, st.sampled_from(["en", "fr"])),
    st.builds(
        lambda number: lambda c: c.issue_invoice(actor="acc", number=number, issued_at=DATES[-1]),
        st.integers(1, 1_000),
    ),
)
deleting = st.just(lambda c: c.delete(actor="bob", reason="asked"))
commands = st.one_of(
    life,
    deleting,
    st.just(lambda c: c.restore(actor="bob", reason=None)),
    st.just(lambda c: c.erase(actor="dpo", reason="gdpr")),
)


def _fold(events: list[Any]) -> dict[str, Any]:
    """The read side's document after the aggregate's events, with distinct event times."""
    doc: dict[str, Any] | None = None
    start = datetime(2026, 4, 1, tzinfo=UTC)
    for position, event in enumerate(events, start=1):
        object.__setattr__(event, "timestamp", start + timedelta(seconds=position))
        envelope = to_envelope(event, TOPIC + type(event).__name__, position)
        doc = evolve(doc, envelope)
    assert doc is not None
    return doc


def _replayed(events: list[Any]) -> Customer:
    """The aggregate rebuilt from its (re-timed) events, as the repository would load it."""
    customer: Any = None
    for event in events:
        customer = event.mutate(customer)
    assert isinstance(customer, Customer)
    return customer


def _run(commands_to_run: list[Command]) -> tuple[Customer, list[Any]]:
    customer = Customer.register(
        tenant_id="acme",
        actor="alice",
        customer_type=CustomerType.NEW,
        profile={"firstName": "Ann", "email": "a@example.com"},
    )
    for command in commands_to_run:
        with suppress(Conflict, VersionMismatch, ValidationFailed, NotFound, Forbidden):
            command(customer)  # a refused command emits nothing; the sequence goes on
    events = list(customer.collect_events())
    return customer, events


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands, max_size=12))
def test_the_view_folds_the_aggregates_events_to_the_same_customer(
    sequence: list[Command],
) -> None:
    _, events = _run(sequence)
    doc = _fold(events)
    customer = _replayed(events)
    assert doc["id"] == str(customer.id) and doc["version"] == customer.version
    assert doc["type"] == customer.customer_type
    assert doc["state"] == customer.state
    assert doc["deletedAt"] == customer.deleted_at
    assert doc["stateHistory"] == customer.state_history
    for key in PROFILE_KEYS:
        assert doc[key] == customer.profile.get(key), key
    assert (doc["firstVisitAt"], doc["lastVisitAt"], doc["visitCount"]) == (
        customer.first_visit_at,
        customer.last_visit_at,
        customer.visit_count,
    )
    assert doc["billing"] == msgspec.to_builtins(customer.billing)
    assert doc["consents"] == msgspec.to_builtins(customer.consents)
    for order_id, order in customer.orders.items():
        known = msgspec.to_builtins(order)  # `closedAt` only once closed, in both
        kept = {k: v for k, v in known.items() if k != "closedAt" or v is not None}
        assert doc["orders"][order_id] == kept, order_id
    assert doc["orders"].keys() == customer.orders.keys()
    assert doc["payments"] == {
        payment_id: msgspec.to_builtins(record.latest)
        for payment_id, record in customer.payments.items()
    }
    assert doc["invoices"] == {str(n): msgspec.to_builtins(i) for n, i in customer.invoices.items()}
    assert doc["preferences"] == customer.preferences
    assert doc["liveNotes"] == customer.note_items
    assert doc["emailDeliverable"] == customer.email_deliverable


def test_ids_are_customers_own() -> None:
    """Guard for the fold: events of one customer carry its id and consecutive versions."""
    customer, events = _run([_update({"lastName": "Lee"}, None)])
    assert {e.originator_id for e in events} == {customer.id}
    assert [e.originator_version for e in events] == [1, 2]
    assert isinstance(customer.id, uuid.UUID)
