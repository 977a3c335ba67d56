"""Use cases say what happened (created, changed, unchanged) and whether it is a replay; the
HTTP layer alone turns that into a status (issue 11.2)."""

from __future__ import annotations

import uuid

import pytest

from shared.principal import Principal, Role
from write_side.application.claims import _recorded_outcome
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta, Outcome
from write_side.http.command_support import STATUS_OF

ADMIN = Principal("admin", "acme", frozenset({Role.ADMIN}))


async def test_outcomes_of_the_customer_use_cases(commands: CustomerCommands) -> None:
    created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Ann"}))
    assert (created.outcome, created.replayed) == (Outcome.CREATED, False)
    ann = created.customer.id
    changed = await commands.update(CommandMeta(ADMIN), ann, ProfileInput({"firstName": "Bo"}))
    assert changed.outcome is Outcome.CHANGED
    same = await commands.update(CommandMeta(ADMIN), ann, ProfileInput({"firstName": "Bo"}))
    assert same.outcome is Outcome.UNCHANGED
    assert same.customer.version == changed.customer.version


async def test_a_replay_answers_as_the_first_request(commands: CustomerCommands) -> None:
    meta = CommandMeta(ADMIN, idempotency_key="k-1", fingerprint="f")
    first = await commands.create(meta, ProfileInput({"firstName": "Ann"}))
    again = await commands.create(meta, ProfileInput({"firstName": "Ann"}))
    assert (again.outcome, again.replayed) == (Outcome.CREATED, True)
    assert again.customer.id == first.customer.id


def test_records_written_with_a_status_still_replay() -> None:
    """Idempotency records written before outcomes had names kept the HTTP status."""
    record = {"customerId": str(uuid.uuid4()), "version": 1}
    assert _recorded_outcome({**record, "status": 201}) is Outcome.CREATED
    assert _recorded_outcome({**record, "status": 200}) is Outcome.CHANGED
    assert _recorded_outcome({**record, "outcome": "unchanged"}) is Outcome.UNCHANGED


def test_every_outcome_has_a_status() -> None:
    assert {outcome: STATUS_OF[outcome] for outcome in Outcome} == {
        Outcome.CREATED: 201,
        Outcome.CHANGED: 200,
        Outcome.UNCHANGED: 200,
    }


async def test_a_missing_result_is_a_bug_not_a_none(commands: CustomerCommands) -> None:
    """`answer()` gives a use case's typed result; one that is absent fails loudly."""
    created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Ann"}))
    with pytest.raises(RuntimeError, match="no result"):
        created.answer()
