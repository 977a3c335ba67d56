"""The event log reader shares recent batches between projections, without hiding new events
and without holding a slower projection to a faster one's small batches."""

from __future__ import annotations

from typing import Any

import pytest

from projectors.envelopes import EventLog
from shared.principal import Principal, Role
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.privacy import PrivacyCommands

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


async def create(commands: CustomerCommands, name: str) -> None:
    await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": name}))


async def test_projections_share_a_decoded_batch_and_still_see_later_events(
    commands: CustomerCommands, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create(commands, "One")
    log = EventLog(commands.executor.app)
    decoded: list[Any] = []
    original = commands.executor.app.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        decoded.append(stored)
        return original(stored)

    monkeypatch.setattr(commands.executor.app.mapper, "to_domain_event", counting)
    first = log.read(0, 100)
    assert log.read(0, 100) is first  # the second projection gets the same decoded batch
    once = len(decoded)
    assert once >= 1
    await create(commands, "Two")
    again = log.read(0, 100)  # the kept short batch, extended with what was stored since
    names = [e.data["profile"]["firstName"] for e in again.envelopes]
    assert names == ["One", "Two"] and again.envelopes[0] is first.envelopes[0]
    full = log.read(0, 1)  # a full batch stays valid whatever is stored later
    await create(commands, "Three")
    assert log.read(0, 1) is full
    later = log.read(again.last_position, 100)
    assert [e.data["profile"]["firstName"] for e in later.envelopes] == ["Three"]
    empty = log.read(later.last_position, 100)
    await create(commands, "Four")
    assert empty.envelopes == [] and log.read(later.last_position, 100).envelopes  # never kept


async def test_an_erasure_leaves_no_decrypted_envelope_of_the_customer_in_the_caches(
    commands: CustomerCommands,
) -> None:
    """The caches hold decrypted events; once the erasure is read, the shredded customer's are
    dropped (kept batches and decoded positions), so neither memory nor a later projection
    finds a value the store itself can no longer decrypt."""
    created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Zebulon"}))
    await create(commands, "Kept")
    log = EventLog(commands.executor.app)
    before = log.read(0, 100)
    assert "Zebulon" in repr(before.envelopes)
    await PrivacyCommands(commands.executor).erase(CommandMeta(ADMIN), created.customer.id, None)
    after = log.read(before.last_position, 100)
    assert [e.type for e in after.envelopes] == ["customer.erased"]
    cached = [*log._decoded.values(), *(b for k in log._recent.values() for b in k.envelopes)]
    assert "Zebulon" not in repr(cached) and "Kept" in repr(log.read(0, 100).envelopes)
    assert "Zebulon" not in repr(log.read(0, 100).envelopes)
