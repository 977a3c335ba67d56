"""Loyalty rules as given / when / then: rounding, refunds after redemptions, expiry
boundaries, tiers that never go down, programs that are never retroactive."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import Conflict, ValidationFailed
from tests.unit.decider_spec import reloaded, when
from write_side.application.loyalty_earning import LoyaltyEarning
from write_side.domain.customer import Customer
from write_side.domain.loyalty import Program, check_program, entry_id, next_tier
from write_side.domain.loyalty_ledger import LoyaltyLedger
from write_side.domain.profile import CustomerType

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CUSTOMER = uuid.UUID("00000000-0000-4000-8000-000000000001")
TIERS = [{"name": "Silver", "minPoints": 100}, {"name": "Gold", "minPoints": 500}]


def program(**changes: object) -> Program:
    document = {
        "pointsPerUnit": {"EUR": 1, "JPY": 0.01, "KWD": 2.5},
        "pointsPerVisit": 10,
        "expiryDays": 365,
        "tiers": TIERS,
    }
    return Program.from_document(check_program(document | changes))


def ledger_with(*earned: tuple[str, int, datetime]) -> LoyaltyLedger:
    """A ledger that recorded these earnings (payment id, points, when), each expiring a
    year after it was earned; `reloaded` turns it (and any later facts) into a stored one."""
    ledger = LoyaltyLedger(customer_id=CUSTOMER, tenant_id="acme")
    for payment_id, points, at in earned:
        expires = program().expires_at(at)
        ledger.earn(
            actor="p", cause=("payment", payment_id), points=points, at=at, expires_at=expires
        )
    return ledger


# -- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "points"),
    [
        (2599, "EUR", 25),  # 25.99 EUR → 25 points, rounded down
        (99, "EUR", 0),  # under one unit earns nothing
        (1999, "JPY", 19),  # JPY has no minor unit: 1,999 yen times 0.01
        (1999, "KWD", 4),  # KWD has three: 1.999 times 2.5 = 4.9975 → 4
        (10_000, "USD", 0),  # a currency the program does not list earns nothing
    ],
)
def test_a_payment_earns_its_major_units_times_the_rate_rounded_down(
    amount: int, currency: str, points: int
) -> None:
    assert program().points_for_payment(amount, currency) == points


def test_a_payment_earns_once_however_often_it_is_applied() -> None:
    ledger = reloaded(ledger_with(("p-1", 25, T0)))
    again = when(
        ledger,
        lambda le: le.earn(actor="p", cause=("payment", "p-1"), points=25, at=T0, expires_at=None),
    )
    again.then_nothing()
    assert ledger.balance == 25


# -- refunds -------------------------------------------------------------------------------


def test_a_refund_takes_back_what_its_payment_earned() -> None:
    ledger = reloaded(ledger_with(("p-1", 25, T0), ("p-2", 10, T0)))
    refund = when(ledger, lambda le: le.reverse(actor="p", payment_id="p-1", at=T0))
    refund.then(("PointsReversed", {"lifetime": -25}))
    assert refund.events[0].entry | {"id": "x"} == {
        "id": "x", "kind": "reversed", "points": -25, "reason": "payment.refunded",
        "ref": "payment:p-1", "at": "2026-03-01T09:00:00.000Z", "shortfall": 0,
    }  # fmt: skip
    assert (ledger.balance, ledger.lifetime_points) == (10, 10)


def test_a_refund_after_a_redemption_stops_at_zero_and_records_the_shortfall() -> None:
    ledger = ledger_with(("p-1", 25, T0))
    ledger.redeem(actor="s", points=20, reason="mug", at=T0, request=None)
    ledger = reloaded(ledger)
    refund = when(ledger, lambda le: le.reverse(actor="p", payment_id="p-1", at=T0))
    refund.then(("PointsReversed", {}))
    assert refund.events[0].entry["points"] == -5
    assert refund.events[0].entry["shortfall"] == 20
    assert ledger.balance == 0 and ledger.lifetime_points == 0


def test_a_refund_of_a_payment_that_earned_nothing_or_was_reversed_records_nothing() -> None:
    ledger = reloaded(ledger_with(("p-1", 25, T0)))
    when(ledger, lambda le: le.reverse(actor="p", payment_id="p-9", at=T0)).then_nothing()
    when(ledger, lambda le: le.reverse(actor="p", payment_id="p-1", at=T0)).then(
        ("PointsReversed", {})
    )
    when(ledger, lambda le: le.reverse(actor="p", payment_id="p-1", at=T0)).then_nothing()


# -- redemptions and adjustments -----------------------------------------------------------


def test_a_redemption_beyond_the_balance_is_refused_and_records_nothing() -> None:
    ledger = reloaded(ledger_with(("p-1", 25, T0)))
    refused = when(
        ledger, lambda le: le.redeem(actor="s", points=26, reason="x", at=T0, request=None)
    )
    refused.then_error(Conflict, "balance is 25")
    exact = when(ledger, lambda le: le.redeem(actor="s", points=25, reason="x", at=T0, request="k"))
    exact.then(("PointsRedeemed", {"request": "k"}))
    assert ledger.balance == 0 and ledger.answer_for("k") is not None


def test_a_negative_adjustment_cannot_overdraw_and_a_positive_one_counts_for_the_tier() -> None:
    ledger = reloaded(ledger_with(("p-1", 25, T0)))
    when(
        ledger, lambda le: le.adjust(actor="m", points=-30, reason="x", at=T0, expires_at=None)
    ).then_error(Conflict)
    when(
        ledger, lambda le: le.adjust(actor="m", points=80, reason="x", at=T0, expires_at=None)
    ).then(("PointsAdjusted", {"lifetime": 80}))
    assert (ledger.balance, ledger.lifetime_points) == (105, 105)


# -- expiry --------------------------------------------------------------------------------


def test_points_expire_exactly_expiry_days_after_they_were_earned_not_a_millisecond_before() -> (
    None
):
    ledger = reloaded(ledger_with(("p-1", 25, T0)))
    due = T0 + timedelta(days=365)
    when(
        ledger, lambda le: le.expire(actor="x", now=due - timedelta(milliseconds=1))
    ).then_nothing()
    when(ledger, lambda le: le.expire(actor="x", now=due)).then(("PointsExpired", {}))
    assert ledger.balance == 0 and ledger.lifetime_points == 25  # lifetime keeps them
    when(ledger, lambda le: le.expire(actor="x", now=due)).then_nothing()


def test_the_oldest_points_are_spent_first_so_only_the_unspent_rest_of_a_lot_expires() -> None:
    later = T0 + timedelta(days=30)
    ledger = ledger_with(("p-1", 25, T0), ("p-2", 40, later))
    ledger.redeem(actor="s", points=30, reason="x", at=later, request=None)  # 25 of p-1, 5 of p-2
    ledger = reloaded(ledger)
    first = when(ledger, lambda le: le.expire(actor="x", now=T0 + timedelta(days=365)))
    first.then_nothing()  # p-1's lot was spent entirely
    second = when(ledger, lambda le: le.expire(actor="x", now=later + timedelta(days=365)))
    second.then(("PointsExpired", {}))
    assert second.events[0].entry["points"] == -35
    assert second.events[0].entry["ref"] == entry_id(CUSTOMER, "earn", "payment", "p-2")


def test_expiry_takes_lots_oldest_first_in_one_sweep() -> None:
    ledger = reloaded(ledger_with(("p-2", 40, T0 + timedelta(days=1)), ("p-1", 25, T0)))
    swept = when(ledger, lambda le: le.expire(actor="x", now=T0 + timedelta(days=400)))
    swept.then(("PointsExpired", {}), ("PointsExpired", {}))
    assert [e.entry["points"] for e in swept.events] == [-25, -40]


# -- tiers ---------------------------------------------------------------------------------


def customer() -> Customer:
    """A customer that registered (not reloaded yet: see `reloaded`)."""
    return Customer.register(
        tenant_id="acme", actor="a", customer_type=CustomerType.NEW, profile={"firstName": "A"}
    )


def test_the_tier_follows_lifetime_points_up() -> None:
    ann = reloaded(customer())
    climbed = when(ann, lambda c: LoyaltyEarning.climb(c, program(), 520, "p"))
    climbed.then(("TierChanged", {"previous": None, "tier": "Gold", "min_points": 500}))


def test_the_tier_never_goes_down_when_lifetime_points_fall_after_a_refund() -> None:
    ann = customer()
    LoyaltyEarning.climb(ann, program(), 520, "p")
    ann = reloaded(ann)
    when(ann, lambda c: LoyaltyEarning.climb(c, program(), 120, "p")).then_nothing()
    assert ann.tier == "Gold"


def test_a_program_change_is_not_retroactive() -> None:
    """Raising thresholds keeps the tier reached; points already earned are not revalued."""
    ann = customer()
    LoyaltyEarning.climb(ann, program(), 150, "p")
    ann = reloaded(ann)
    stricter = program(
        tiers=[{"name": "Bronze", "minPoints": 50}, {"name": "Silver", "minPoints": 1000}]
    )
    when(ann, lambda c: LoyaltyEarning.climb(c, stricter, 210, "p")).then_nothing()
    assert ann.tier == "Silver"  # kept: Silver now needs 1000, and Bronze (50) is not higher
    ledger = reloaded(ledger_with(("p-1", 25, T0)))
    assert ledger.lots[0]["expiresAt"] == "2027-03-01T09:00:00.000Z"  # a year, as it was then
    assert program(expiryDays=30).expires_at(T0) == "2026-03-31T09:00:00.000Z"  # new ones only
    assert ledger.balance == 25  # a new rate does not touch what was earned


def test_next_tier_moves_only_above_the_threshold_held() -> None:
    assert next_tier(program(), 99, None) is None
    assert next_tier(program(), 100, None) is not None
    assert next_tier(program(), 499, 100) is None
    assert next_tier(program(), 500, 100) is not None


def test_a_program_with_an_unknown_currency_or_repeated_tiers_is_refused() -> None:
    document = {"pointsPerUnit": {"EUR": 1, "XYZ": 1}, "pointsPerVisit": 0, "expiryDays": None,
                "tiers": [{"name": "A", "minPoints": 1}, {"name": "A", "minPoints": 1}]}  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        check_program(document)
    assert [e.field for e in refused.value.errors] == ["pointsPerUnit.XYZ", "tiers", "tiers"]


# -- the read side agrees with the ledger ----------------------------------------------------


def test_the_loyalty_view_folds_to_the_ledgers_balance_lifetime_and_lots() -> None:
    """The read side folds the ledger's own events into the customer document (by the shared
    lot rule), and the timeline shows each entry as a `loyalty` item."""
    from projectors.envelopes import to_envelope
    from read_side import loyalty_view
    from read_side.views import evolve

    later = T0 + timedelta(days=30)
    ledger = ledger_with(("p-1", 25, T0), ("p-2", 40, later))
    ledger.redeem(actor="s", points=30, reason="mug", at=later, request=None)
    ledger.reverse(actor="p", payment_id="p-2", at=later)
    ledger.expire(actor="x", now=T0 + timedelta(days=400))
    events = list(ledger.collect_events())
    folded: LoyaltyLedger | None = None
    for event in events:
        folded = event.mutate(folded)
    assert folded is not None
    envelopes = [
        to_envelope(e, f"write_side.domain.loyalty_ledger:LoyaltyLedger.{type(e).__name__}", n)
        for n, e in enumerate(events, 1)
    ]
    view: dict[str, Any] = {"id": str(CUSTOMER), "tenantId": "acme", "version": 1, "tier": None}
    for envelope in envelopes:
        view = evolve(view, envelope) or view
    summary = loyalty_view.summary(view)
    assert (summary["balance"], summary["lifetimePoints"]) == (
        folded.balance,
        folded.lifetime_points,
    )
    assert view["loyalty"]["lots"] == folded.lots
    items = [loyalty_view.timeline_item(e) for e in envelopes]
    assert items[0] is None  # the ledger's opening
    assert [i["type"] for i in items if i] == [
        "loyalty.earned", "loyalty.earned", "loyalty.redeemed", "loyalty.reversed",
    ]  # fmt: skip
    assert all(i["kind"] == "loyalty" for i in items if i)
