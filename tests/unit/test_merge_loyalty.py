"""Loyalty in a merge (docs/decisions.md "Merge and unmerge"): the target takes the source's
unspent lots and its lifetime points, and the higher tier; an unmerge gives back the lots
left, the lifetime points and the tier (unless it moved since), so the target's ledger ends
as if the merge had never happened while its own earnings between stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given as generated
from hypothesis import settings
from hypothesis import strategies as st

from shared.events.values import HeldTier
from tests.unit.decider_spec import History, given, when
from write_side.domain import merge as rules
from write_side.domain.loyalty_ledger import LoyaltyLedger

AT = datetime(2026, 5, 1, tzinfo=UTC)
SOURCE, TARGET = uuid.UUID(int=1), uuid.UUID(int=2)


def ledger(owner: uuid.UUID, *earned: tuple[str, int], spent: int = 0) -> LoyaltyLedger:
    """A ledger with these earnings (a year's expiry) and `spent` points redeemed."""
    found = LoyaltyLedger(customer_id=owner, tenant_id="acme")
    for ref, points in earned:
        found.earn(actor="pay", cause=("payment", ref), points=points, at=AT,
                   expires_at="2027-05-01T00:00:00.000Z")  # fmt: skip
    if spent:
        found.redeem(actor="ann", points=spent, reason="gift", at=AT, request=None)
    found.collect_events()
    return found


def shape(found: LoyaltyLedger) -> tuple[int, int, list[tuple[int, Any]]]:
    return (
        found.balance,
        found.lifetime_points,
        sorted((lot["points"], str(lot["expiresAt"])) for lot in found.lots),
    )


def test_given_a_source_with_points_when_merged_then_its_lots_and_lifetime_move() -> None:
    source, target = ledger(SOURCE, ("p-1", 300), ("p-2", 200), spent=100), ledger(TARGET)
    target.absorb(actor="mgr", source=source, at=AT)
    assert shape(target) == (400, 500, [(200, "2027-05-01T00:00:00.000Z")] * 2)
    events: list[Any] = list(target.collect_events())
    assert [e.entry["ref"] for e in events] == [f"merge:{SOURCE}"] * 2
    target.give_back(actor="mgr", source_id=str(SOURCE), at=AT + timedelta(days=1))
    assert shape(target) == (0, 0, [])
    assert shape(source) == (400, 500, [(200, "2027-05-01T00:00:00.000Z")] * 2)  # untouched


def test_given_a_source_that_spent_everything_then_its_lifetime_moves_on_an_empty_entry() -> None:
    source, target = ledger(SOURCE, ("p-1", 300), spent=300), ledger(TARGET, ("p-9", 50))
    target.absorb(actor="mgr", source=source, at=AT)
    entry: Any
    (entry,) = target.collect_events()
    assert (entry.entry["points"], entry.lifetime) == (0, 300)
    assert shape(target)[:2] == (50, 350)
    target.give_back(actor="mgr", source_id=str(SOURCE), at=AT)
    assert shape(target)[:2] == (50, 50)


@settings(max_examples=60, deadline=None)
@generated(
    st.lists(st.integers(1, 500), max_size=4), st.integers(0, 3),
    st.lists(st.integers(1, 500), max_size=4), st.lists(st.integers(1, 300), max_size=4),
)  # fmt: skip
def test_merge_then_unmerge_leaves_the_targets_ledger_as_its_own_story(
    source_points: list[int], spent_share: int, target_points: list[int], between: list[int]
) -> None:
    """Earnings between stay. (Points spent between from the moved lots are not taken from
    the target's own lots at the unmerge, as the decisions say: no spending here.)"""
    source_earned = [(f"s-{i}", p) for i, p in enumerate(source_points)]
    spent = sum(source_points) * spent_share // 4
    target_earned = [(f"t-{i}", p) for i, p in enumerate(target_points)]
    merged = ledger(TARGET, *target_earned)
    plain = ledger(TARGET, *target_earned)
    merged.absorb(actor="mgr", source=ledger(SOURCE, *source_earned, spent=spent), at=AT)
    for index, points in enumerate(between):
        for world in (merged, plain):
            world.earn(actor="pay", cause=("order", f"b-{index}"), points=points, at=AT,
                       expires_at=None)  # fmt: skip
    merged.give_back(actor="mgr", source_id=str(SOURCE), at=AT + timedelta(days=1))
    assert shape(merged) == shape(plain)


def tiered(name: str | None, min_points: int = 0) -> History:
    history = History().created("new", firstName="X")
    if name is not None:
        history.then_("TierChanged", previous=None, tier=name, min_points=min_points,
                      lifetime_points=min_points)  # fmt: skip
    return history


def test_given_the_source_holds_a_higher_tier_when_merged_then_the_target_takes_it() -> None:
    target, source = given(tiered("Silver", 100)), given(tiered("Gold", 500))
    outcome = when(target, lambda t: rules.merge(t, source, actor="mgr", claims=[]))
    assert outcome.events[0].tier == {"name": "Gold", "minPoints": 500}
    assert (target.tier, target.tier_min_points) == ("Gold", 500)


def test_given_both_ledgers_reach_a_tier_together_then_the_target_takes_it() -> None:
    target, source = given(tiered(None)), given(tiered("Silver", 100))
    diamond = HeldTier(name="Diamond", min_points=5000)
    rules.merge(target, source, actor="mgr", claims=[], reached=diamond)
    assert (target.tier, target.tier_min_points) == ("Diamond", 5000)
    rules.unmerge(target, source, actor="mgr", now=datetime.now(UTC))
    assert (target.tier, target.tier_min_points) == (None, None)


def test_given_the_target_holds_the_higher_tier_then_it_keeps_it() -> None:
    target, source = given(tiered("Gold", 500)), given(tiered("Silver", 100))
    rules.merge(
        target, source, actor="mgr", claims=[], reached=HeldTier(name="Gold", min_points=500)
    )
    absorbed: Any
    (absorbed,) = target.collect_events()
    assert absorbed.tier is None and target.tier == "Gold"


def test_given_the_target_climbed_since_the_merge_when_unmerged_then_it_keeps_its_tier() -> None:
    target, source = given(tiered("Silver", 100)), given(tiered("Gold", 500))
    rules.merge(target, source, actor="mgr", claims=[])
    target.reach_tier(actor="loyalty", tier="Platinum", min_points=2000, lifetime_points=2100)
    rules.unmerge(target, source, actor="mgr", now=datetime.now(UTC))
    assert (target.tier, target.tier_min_points) == ("Platinum", 2000)
    assert (source.tier, source.tier_min_points) == ("Gold", 500)
