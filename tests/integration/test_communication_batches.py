"""Notifications of many customers decided together on both event stores: one transaction,
answers per customer, customers kept in memory yet deciding on current state."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.errors import Conflict, NotFound
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta, CommandOutcome
from write_side.application.engagement import EngagementCommands
from write_side.application.executor import CommandExecutor
from write_side.application.privacy import PrivacyCommands
from write_side.domain.engagement import Communication

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))
SENDER = CommandMeta(Principal("integration:notification", "acme", frozenset({Role.STAFF})))


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path, event_store_url=url)


@pytest.fixture
async def executors(settings: Settings) -> AsyncIterator[tuple[CommandExecutor, CommandExecutor]]:
    """Two executors on one store: two service processes."""
    pair = (
        CommandExecutor(open_event_store(settings), index_key=b"k"),
        CommandExecutor(open_event_store(settings), index_key=b"k"),
    )
    yield pair
    for executor in pair:
        executor.close()


def sent(nid: str, status: str = "sent") -> Communication:
    return Communication(
        nid, "notification", "email", "outbound", "invoice", None, "t", status, None,
        "2026-12-01T10:00:00Z",
    )  # fmt: skip


async def customer(executor: CommandExecutor, name: str) -> uuid.UUID:
    created = await CustomerCommands(executor).create(
        CommandMeta(ADMIN), ProfileInput({"firstName": name, "email": f"{name}@example.com"})
    )
    return created.customer.id


def results(answers: list[Any]) -> list[Any]:
    return [a.result if isinstance(a, CommandOutcome) else type(a) for a in answers]


async def test_a_batch_is_one_transaction_and_each_customer_is_answered_on_its_own(
    executors: tuple[CommandExecutor, CommandExecutor],
) -> None:
    executor, _ = executors
    ann, bob = await customer(executor, "ann"), await customer(executor, "bob")
    other_tenant = CommandMeta(Principal("x", "globex", frozenset({Role.STAFF})))
    before = executor.committer.transactions
    answers = await EngagementCommands(executor).record_communication_batches(
        [
            (SENDER, ann, [sent("n-1"), sent("n-1"), sent("n-1", "delivered")]),
            (SENDER, uuid.uuid4(), [sent("n-2")]),
            (SENDER, bob, [sent("n-4")]),
        ]
    )
    assert results(answers) == [[True, False, True], NotFound, [True]]
    assert executor.committer.transactions == before + 1
    refused = await EngagementCommands(executor).record_communication_batches(
        [(other_tenant, bob, [sent("n-3")])]
    )
    assert results(refused) == [NotFound]
    stored = executor.repository.get("acme", ann)
    assert stored.communications == {"n-1:sent", "n-1:delivered"}


async def test_a_kept_customer_sees_what_another_process_stored_and_dedups_against_it(
    executors: tuple[CommandExecutor, CommandExecutor],
) -> None:
    here, there = executors
    ann = await customer(here, "ann")
    await EngagementCommands(here).record_communication_batches([(SENDER, ann, [sent("n-1")])])
    assert here.customers.take([ann])  # kept after the first batch (given back below)
    here.customers.keep([here.repository.get("acme", ann)])
    await EngagementCommands(there).record_communication(SENDER, ann, sent("n-2"))
    answers = await EngagementCommands(here).record_communication_batches(
        [(SENDER, ann, [sent("n-2"), sent("n-3")])]
    )
    assert results(answers) == [[False, True]]
    assert here.customers.hits >= 1
    assert here.repository.get("acme", ann).communications == {"n-1:sent", "n-2:sent", "n-3:sent"}


async def test_a_decision_on_state_that_moved_is_refused_by_the_store_and_decided_again(
    executors: tuple[CommandExecutor, CommandExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = executors
    ann = await customer(here, "ann")
    await EngagementCommands(here).record_communication_batches([(SENDER, ann, [sent("n-1")])])
    await EngagementCommands(there).record_communication(SENDER, ann, sent("n-2"))
    stale = here.customers._stored_after
    reads: list[int] = []

    def missing_the_latest(wanted: Any) -> Any:  # the other write lands after this read
        reads.append(1)
        return [] if len(reads) == 1 else stale(wanted)

    monkeypatch.setattr(here.customers, "_stored_after", missing_the_latest)
    answers = await EngagementCommands(here).record_communication_batches(
        [(SENDER, ann, [sent("n-2"), sent("n-3")])]
    )
    assert results(answers) == [[False, True]] and len(reads) == 2
    assert [e.communication_id for e in events_of(here, ann)] == ["n-1", "n-2", "n-3"]


def events_of(executor: CommandExecutor, customer_id: uuid.UUID) -> list[Any]:
    stored = executor.app.recorder.select_events(customer_id)
    events = [executor.app.mapper.to_domain_event(s) for s in stored]
    return [e for e in events if type(e).__name__ == "CommunicationRecorded"]


async def test_an_erased_customer_is_forgotten_and_refuses_communications(
    executors: tuple[CommandExecutor, CommandExecutor],
) -> None:
    here, _ = executors
    ann = await customer(here, "ann")
    await EngagementCommands(here).record_communication_batches([(SENDER, ann, [sent("n-1")])])
    await PrivacyCommands(here).erase(CommandMeta(ADMIN), ann, "asked")
    hits = here.customers.hits
    assert here.customers.take([ann])[ann].state == "erased"
    assert here.customers.hits == hits  # read from the store: the kept one was forgotten
    here.customers.keep([here.repository.get("acme", ann)])
    answers = await EngagementCommands(here).record_communication_batches(
        [(SENDER, ann, [sent("n-2")])]
    )
    assert results(answers) == [Conflict]
