"""Unspent points expire oldest first when the retention job's (injected) clock passes their
expiry: not a millisecond before, once, and only what is left of each lot."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from entrypoints.retention import run_loyalty_expiry
from entrypoints.runtime import Runtime, start_runtime
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.application.commands import ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.domain.loyalty import ledger_id
from write_side.domain.loyalty_ledger import LoyaltyLedger

ADMIN = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))
PROGRAM = {"pointsPerUnit": {"EUR": 1}, "pointsPerVisit": 0, "expiryDays": 10, "tiers": []}


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """Projections driven by hand (`catch_up`), so the read model is where the test says."""
    started = await start_runtime(Settings(data_dir=tmp_path), projections=False)
    yield started
    await started.stop()


async def pay(runtime: Runtime, customer_id: uuid.UUID, payment_id: str, amount: int) -> None:
    payment = {"paymentId": payment_id, "orderId": None, "amount": amount, "currency": "EUR",
               "status": "succeeded", "at": "2026-11-20T11:00:00.000Z", "method": "card"}  # fmt: skip
    await runtime.commerce.record_payment(ADMIN, payment, customer_id=str(customer_id), payer=None)


def balance(runtime: Runtime, customer_id: uuid.UUID) -> int:
    ledger = runtime.commands.executor.repository.aggregate(ledger_id(customer_id), LoyaltyLedger)
    assert ledger is not None
    return ledger.balance


async def test_points_expire_oldest_first_when_the_clock_passes_their_expiry(
    runtime: Runtime,
) -> None:
    await runtime.loyalty.set_program(ADMIN, PROGRAM)
    ann = (await runtime.commands.create(ADMIN, ProfileInput({"firstName": "Ann"}))).customer.id
    await pay(runtime, ann, "p-1", 1000)
    ledger = runtime.commands.executor.repository.aggregate(ledger_id(ann), LoyaltyLedger)
    assert ledger is not None
    first_expiry = datetime.fromisoformat(ledger.lots[0]["expiresAt"])
    await pay(runtime, ann, "p-2", 500)
    spent = await runtime.loyalty.redeem(ADMIN, ann, 4, "coffee")  # from p-1's lot
    assert spent.balance == 11
    await runtime.runner.catch_up()

    just_before = await run_loyalty_expiry(
        runtime, clock=lambda: first_expiry - timedelta(milliseconds=1)
    )
    assert just_before == 0 and balance(runtime, ann) == 11
    at_expiry = await run_loyalty_expiry(runtime, clock=lambda: first_expiry)
    assert at_expiry == 6 and balance(runtime, ann) == 5  # what was left of p-1's 10
    again = await run_loyalty_expiry(runtime, clock=lambda: first_expiry)  # read model lags
    assert again == 0 and balance(runtime, ann) == 5

    await runtime.runner.catch_up()
    views = await runtime.read.views.current()
    doc = await views.get("acme", str(ann))
    assert doc is not None and doc["loyalty"]["balance"] == 5
    assert [e["kind"] for e in doc["loyalty"]["entries"]] == [
        "earned", "earned", "redeemed", "expired",
    ]  # fmt: skip
    later = await run_loyalty_expiry(runtime, clock=lambda: first_expiry + timedelta(days=1))
    assert later == 5 and balance(runtime, ann) == 0
