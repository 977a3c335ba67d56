"""Merge and unmerge as given / when / then: the facts of two customers, the command, and
the events it adds to each (or the error it raises)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import Conflict, ValidationFailed
from shared.events.values import CustomerState
from tests.unit.decider_spec import History, given, when
from write_side.domain import engagement
from write_side.domain import merge as rules
from write_side.domain.customer import Customer

NOW = datetime.now(UTC) + timedelta(minutes=1)  # the aggregate stamps new events now
CONSENT = {"granted": True, "source": "web form", "legalBasis": "consent"}


def ann() -> History:
    return History().created(
        "regular", firstName="Ann", lastName="Lee", email="ann@example.com",
        tags=["vip"], attributes={"seats": 2},
    )  # fmt: skip


def bo(*, state: str = "active") -> History:
    """The duplicate: another email, a phone, a tag and an attribute Ann lacks, an order, a
    payment, a consent and a note."""
    history = History().created(
        "new", firstName="Annie", email="annie@example.org", phone="+14155552671",
        tags=["vip", "kiwi"], attributes={"seats": 9, "diet": "vegan"},
    )  # fmt: skip
    history.then_(
        "VisitRecorded", order_id="o-b", placed_at="2026-01-05T10:00:00.000Z",
        first_time=True, snapshot={"firstName": "Annie"},
    )  # fmt: skip
    payment = {"paymentId": "p-b", "orderId": "o-b", "amount": 900, "currency": "EUR",
               "status": "succeeded", "at": "2026-01-05T10:00:00.000Z"}  # fmt: skip
    history.then_("PaymentRecorded", payment=payment)
    history.then_("ConsentChanged", purpose="sms", consent=CONSENT)
    history.then_("NoteAdded", note_id="n-b", text="prefers aisle seats")
    if state == "deleted":
        history.then_("Deleted", reason=None)
    return history


def merged(target: Customer, source: Customer) -> list[Any]:
    """Merge, and the source's events (the target's are the `when`'s)."""
    rules.merge(target, source, actor="mgr", claims=["c-1"])
    return list(source.collect_events())


def test_the_target_keeps_its_values_and_takes_the_empty_ones_tags_and_new_attributes() -> None:
    target, source = given(ann()), given(bo())
    outcome = when(target, lambda t: merged(t, source))
    (absorbed,) = outcome.events
    assert type(absorbed).__name__ == "MergeAbsorbed"
    assert absorbed.values == {"phone": "+14155552671", "tags": ["kiwi"],
                               "attributes": {"diet": "vegan"}}  # fmt: skip
    assert target.profile["firstName"] == "Ann" and target.email == "ann@example.com"
    assert target.profile["phone"] == "+14155552671"
    assert target.profile["tags"] == ["vip", "kiwi"]
    assert target.profile["attributes"] == {"seats": 2, "diet": "vegan"}
    assert absorbed.customer_id == str(source.id)  # its key seals the copy


def test_orders_payments_consents_and_notes_move_and_the_visits_are_counted_again() -> None:
    target = given(ann().then_(
        "VisitRecorded", order_id="o-a", placed_at="2026-02-01T10:00:00.000Z",
        first_time=True, snapshot=None,
    ))  # fmt: skip
    source = given(bo())
    when(target, lambda t: merged(t, source))
    assert list(target.orders) == ["o-a", "o-b"]
    assert (target.orders["o-b"].first_time, target.orders["o-a"].first_time) == (True, False)
    assert target.visit_count == 2 and target.first_visit_at == "2026-01-05T10:00:00.000Z"
    assert target.orders["o-b"].snapshot is not None
    assert list(target.payments) == ["p-b"] and target.consents["sms"].source == "web form"
    assert target.note_items["n-b"]["text"] == "prefers aisle seats"


def test_per_consent_purpose_the_latest_change_wins() -> None:
    older = ann().then_("ConsentChanged", purpose="sms", consent=CONSENT | {"granted": False})
    target, source = given(older), given(bo())  # Bo's sms consent is at version 4: later
    when(target, lambda t: merged(t, source))
    assert target.consents["sms"].granted is True
    newer = ann()
    for _ in range(6):
        newer.then_("NoteAdded", note_id="x", text="t")
    newer.then_("ConsentChanged", purpose="sms", consent=CONSENT | {"granted": False})
    target = given(newer)
    when(target, lambda t: merged(t, given(bo())))
    assert target.consents["sms"].granted is False


def test_the_source_becomes_merged_and_refuses_every_command_naming_the_target() -> None:
    target, source = given(ann()), given(bo())
    (event,) = merged(target, source)
    assert type(event).__name__ == "Merged" and event.target_id == str(target.id)
    assert source.state is CustomerState.MERGED and source.merged_into == str(target.id)
    for command in (
        lambda c: c.update(actor="x", changes={"notes": "n"}, customer_type=None),
        lambda c: c.delete(actor="x", reason=None),
        lambda c: c.restore(actor="x", reason=None),
        lambda c: c.change_consent(actor="x", purpose="email", consent=CONSENT),
        lambda c: c.record_visit(actor="x", order_id="o-new", placed_at="2026-04-01"),
        lambda c: engagement.add_note(c, actor="x", note_id="n", text="t"),
    ):
        error = when(source, command).then_error(Conflict)
        assert isinstance(error, Conflict) and error.extra["mergedInto"] == str(target.id)


def test_a_deleted_source_may_be_merged_and_comes_back_deleted() -> None:
    target, source = given(ann()), given(bo(state="deleted"))
    when(target, lambda t: merged(t, source))
    assert source.state == "merged"
    when(target, lambda t: rules.unmerge(t, source, actor="mgr", now=NOW))
    assert source.state == "deleted"


@pytest.mark.parametrize(
    ("target_history", "source_history", "error"),
    [
        (ann().then_("Erased", reason=None), bo(), Conflict),
        (ann().then_("Deleted", reason=None), bo(), Conflict),
        (ann(), bo().then_("Erased", reason=None), Conflict),
    ],
)
def test_erased_or_deleted_targets_and_erased_sources_are_refused(
    target_history: History, source_history: History, error: type[Exception]
) -> None:
    target, source = given(target_history), given(source_history)
    when(target, lambda t: merged(t, source)).then_error(error)


def test_a_customer_cannot_be_merged_into_itself_nor_twice() -> None:
    history = ann()
    target = given(history)
    when(target, lambda t: merged(t, given(history))).then_error(ValidationFailed)
    source = given(bo())
    merged(given(ann()), source)
    when(target, lambda t: merged(t, source)).then_error(Conflict, "already merged")


def test_unmerge_gives_back_what_moved_and_keeps_what_happened_since() -> None:
    target, source = given(ann()), given(bo())
    before = (dict(target.profile), dict(target.consents), dict(target.orders))
    merged(target, source)
    target.collect_events()
    target.record_visit(actor="o", order_id="o-after", placed_at="2026-03-01T10:00:00.000Z")
    target.close_order(actor="o", order_id="o-b", status="completed")
    target.update(actor="x", changes={"attributes": {"seats": 2, "diet": "keto"}},
                  customer_type=None)  # fmt: skip
    target.collect_events()
    outcome = when(target, lambda t: rules.unmerge(t, source, actor="mgr", now=NOW))
    outcome.then(("MergeUndone", {"source_id": str(source.id)}))
    assert list(target.orders) == ["o-after"] and target.orders["o-after"].first_time
    assert target.profile["attributes"] == {"seats": 2, "diet": "keto"}  # changed since: kept
    assert target.profile["tags"] == before[0]["tags"] and target.profile["phone"] is None
    assert target.consents == before[1] and target.payments == {} and "n-b" not in target.note_items
    unmerged: Any = source.collect_events()[0]
    assert type(unmerged).__name__ == "Unmerged" and unmerged.state == "active"
    assert source.state is CustomerState.ACTIVE and source.merged_into is None
    assert source.orders["o-b"].status == "completed"  # closed while merged: comes back closed


def test_unmerge_only_within_30_days_and_only_of_a_merged_source() -> None:
    target, source = given(ann()), given(bo())
    when(target, lambda t: rules.unmerge(t, source, actor="m", now=NOW)).then_error(Conflict)
    merged(target, source)
    target.collect_events()
    late = NOW + timedelta(days=31)
    when(target, lambda t: rules.unmerge(t, source, actor="m", now=late)).then_error(
        Conflict, "within 30 days"
    )
