"""Redemptions racing from two processes' executors on one event store (their in-process locks
do not meet): the store's version check alone keeps the balance exact and never negative, and
an Idempotency-Key sent to both spends once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.errors import Conflict
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor
from write_side.application.loyalty import LoyaltyCommands
from write_side.domain.loyalty import ledger_id
from write_side.domain.loyalty_ledger import LoyaltyLedger

STAFF = Principal("sam", "acme", frozenset({Role.MANAGER}))


@pytest.fixture(params=["sqlite", "postgres"])
def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[CommandExecutor, CommandExecutor]]:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    settings = Settings(data_dir=tmp_path, event_store_url=url)
    executors = [
        CommandExecutor(open_event_store(settings), index_key=b"test-key") for _ in range(2)
    ]
    yield executors[0], executors[1]
    for executor in executors:
        executor.close()


async def test_twenty_redemptions_from_two_processes_never_overdraw(
    two_processes: tuple[CommandExecutor, CommandExecutor],
) -> None:
    one, other = two_processes
    created = await CustomerCommands(one).create(
        CommandMeta(STAFF), ProfileInput({"firstName": "Ann"})
    )
    ann = created.customer.id
    await LoyaltyCommands(one).adjust(CommandMeta(STAFF), ann, 50, "opening balance")
    sides = [LoyaltyCommands(one), LoyaltyCommands(other)]
    attempts = [sides[n % 2].redeem(CommandMeta(STAFF), ann, 5, f"r{n}") for n in range(20)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    spent = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(spent), len(refused)) == (10, 10), results
    assert sorted(r.balance for r in spent) == list(range(0, 50, 5))  # each a distinct step
    ledger = one.repository.aggregate(ledger_id(ann), LoyaltyLedger)
    assert ledger is not None and ledger.balance == 0


async def test_one_idempotency_key_sent_to_two_processes_spends_once(
    two_processes: tuple[CommandExecutor, CommandExecutor],
) -> None:
    one, other = two_processes
    created = await CustomerCommands(one).create(
        CommandMeta(STAFF), ProfileInput({"firstName": "Bo"})
    )
    bo = created.customer.id
    await LoyaltyCommands(one).adjust(CommandMeta(STAFF), bo, 30, "opening balance")
    meta = CommandMeta(STAFF, idempotency_key=f"k-{uuid.uuid4()}", fingerprint="same body")
    answers = await asyncio.gather(
        *(LoyaltyCommands(side).redeem(meta, bo, 10, "mug") for side in (one, other, one, other))
    )
    assert {a.entry["id"] for a in answers} == {answers[0].entry["id"]}
    assert sum(not a.replayed for a in answers) == 1
    ledger = one.repository.aggregate(ledger_id(bo), LoyaltyLedger)
    assert ledger is not None and ledger.balance == 20
