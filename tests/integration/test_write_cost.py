"""Write cost must not grow with data (issue 9 §3), on both event stores.

Deterministic, not timed: the events a create reads and writes are counted at the recorder,
and group-commit batches are counted at `save`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from shared.errors import Conflict
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.commerce import CommerceCommands
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor
from write_side.application.group_commit import GroupCommitter, PendingSave
from write_side.application.phone_backfill import backfill_phone_book
from write_side.application.ports import EventStore
from write_side.domain.claims import PhoneIndex
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

STAFF = CommandMeta(Principal("desk", "acme", frozenset({Role.STAFF})))
FRONT_DESK = "+14155550123"


@pytest.fixture(params=["sqlite", "postgres"])
async def commands(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[CustomerCommands]:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    handlers = CustomerCommands(
        CommandExecutor(
            open_event_store(Settings(data_dir=tmp_path, event_store_url=url)), index_key=b"k"
        )
    )
    yield handlers
    handlers.executor.close()


@dataclass
class Traffic:
    """Events read and written through the recorder, and save calls."""

    read: int = 0
    written: int = 0
    saves: int = 0


def count_traffic(app: EventStore, monkeypatch: pytest.MonkeyPatch) -> Traffic:
    """Wrap the recorder's reads and writes and the application's save (instance level)."""
    traffic = Traffic()
    recorder: Any = app.recorder
    select, insert, save = recorder.select_events, recorder.insert_events, app.save

    def counted_select(*args: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        found: Sequence[StoredEvent] = select(*args, **kwargs)
        traffic.read += len(found)
        return found

    def counted_insert(events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        traffic.written += len(events)
        return insert(events, **kwargs)

    def counted_save(*objs: Any, **kwargs: Any) -> Any:
        traffic.saves += 1
        return save(*objs, **kwargs)

    monkeypatch.setattr(recorder, "select_events", counted_select)
    monkeypatch.setattr(recorder, "insert_events", counted_insert)
    monkeypatch.setattr(app, "save", counted_save)
    return traffic


async def _create_measured(
    commands: CustomerCommands, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any]
) -> Traffic:
    with monkeypatch.context() as patch:
        traffic = count_traffic(commands.executor.app, patch)
        await commands.create(STAFF, ProfileInput(fields))
    return traffic


async def test_a_create_reads_and_writes_as_much_with_1_or_40_customers_on_the_phone(
    commands: CustomerCommands, monkeypatch: pytest.MonkeyPatch
) -> None:
    await commands.create(STAFF, ProfileInput({"firstName": "First", "phone": FRONT_DESK}))
    second = await _create_measured(
        commands, monkeypatch, {"firstName": "Second", "phone": FRONT_DESK}
    )
    for i in range(40):
        await commands.create(STAFF, ProfileInput({"firstName": f"N{i}", "phone": FRONT_DESK}))
    later = await _create_measured(
        commands, monkeypatch, {"firstName": "Late", "phone": FRONT_DESK}
    )
    assert (later.read, later.written, later.saves) == (second.read, second.written, second.saves)
    assert later.saves == 1  # no conflict, no retry


def _phone_match(commands: CustomerCommands, phone: str) -> uuid.UUID | None:
    """The customer an attendee with only this phone is matched to, if any."""
    found, how, _ = AttendeeProcessing(commands.executor).match("acme", {"phone": phone}, {})
    return found.id if found is not None and how == "phone" else None


def _new_customer(name: str) -> Customer:
    return Customer.register(
        tenant_id="acme", actor="desk", customer_type=CustomerType.NEW, profile={"firstName": name}
    )


async def test_a_batch_with_one_conflict_commits_the_others_in_one_transaction(
    commands: CustomerCommands, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = commands.executor.app
    stored = _new_customer("Stored")
    stale_events = stored.collect_events()
    app.save(*stale_events)  # its version 1 is taken: saving these events again conflicts
    twin = _new_customer("Twin")
    twin_events = twin.collect_events()
    fresh = [PendingSave(_new_customer(f"F{i}").collect_events()) for i in range(5)]
    first_twin, second_twin = PendingSave(twin_events), PendingSave(twin_events)
    stale = PendingSave(stale_events)
    traffic = count_traffic(app, monkeypatch)
    GroupCommitter(app).commit([fresh[0], first_twin, stale, *fresh[1:], second_twin])
    assert traffic.saves == 2  # the batch, then the batch without the conflicting command
    with pytest.raises(IntegrityError):
        stale.done.result(timeout=1)
    with pytest.raises(IntegrityError):
        second_twin.done.result(timeout=1)  # refused before saving: its twin came first
    positions = [request.done.result(timeout=1) for request in [*fresh, first_twin]]
    assert len(set(positions)) == 6
    assert app.repository.get(twin.id).version == 1


async def test_phone_matching_follows_changes_deletes_restores_and_erasure(
    commands: CustomerCommands,
) -> None:
    from write_side.application.privacy import PrivacyCommands

    manager = CommandMeta(Principal("m", "acme", frozenset({Role.MANAGER, Role.ADMIN})))

    def match(phone: str) -> uuid.UUID | None:
        return _phone_match(commands, phone)

    one = await commands.create(STAFF, ProfileInput({"firstName": "A", "phone": FRONT_DESK}))
    two = await commands.create(STAFF, ProfileInput({"firstName": "B", "phone": FRONT_DESK}))
    assert match(FRONT_DESK) is None  # two holders: ambiguous
    await commands.delete(manager, two.customer.id, None)
    assert match(FRONT_DESK) == one.customer.id
    await commands.restore(manager, two.customer.id, None)
    assert match(FRONT_DESK) is None
    await commands.update(STAFF, two.customer.id, ProfileInput({"phone": "+14155550199"}))
    assert match(FRONT_DESK) == one.customer.id
    assert match("+14155550199") == two.customer.id
    await commands.update(STAFF, two.customer.id, ProfileInput({"phone": None}))
    assert match("+14155550199") is None
    await PrivacyCommands(commands.executor).erase(manager, one.customer.id, None)
    assert match(FRONT_DESK) is None
    assert match("+14155550123") is None


async def test_a_store_of_an_earlier_version_gets_its_phone_book_from_the_old_indexes(
    commands: CustomerCommands,
) -> None:
    def holder(phone: str) -> Customer:
        return Customer.register(
            tenant_id="acme", actor="desk", customer_type=CustomerType.NEW, profile={"phone": phone}
        )

    kept, moved, gone = holder(FRONT_DESK), holder(FRONT_DESK), holder("+14155550177")
    moved.update(actor="desk", changes={"phone": "+14155550199"}, customer_type=None)
    gone.delete(actor="desk", reason=None)
    key = commands.executor.claims.phone_key
    front_desk = PhoneIndex(index_id=key("acme", FRONT_DESK), owner_id=kept.id)
    front_desk.add(moved.id)
    moved_to = PhoneIndex(index_id=key("acme", "+14155550199"), owner_id=moved.id)
    deleted = PhoneIndex(index_id=key("acme", "+14155550177"), owner_id=gone.id)
    commands.executor.app.save(
        kept, moved, gone, front_desk, moved_to, deleted
    )  # as earlier versions did
    assert _phone_match(commands, FRONT_DESK) is None  # the book does not know them yet
    assert backfill_phone_book(commands.executor.app, commands.executor.claims) == 3
    assert _phone_match(commands, FRONT_DESK) == kept.id
    assert _phone_match(commands, "+14155550199") == moved.id
    assert _phone_match(commands, "+14155550177") is None
    assert backfill_phone_book(commands.executor.app, commands.executor.claims) == 0  # done once


PAYMENT = {"paymentId": "p-1", "amount": 900, "currency": "EUR", "status": "pending",
           "at": "2026-11-20T11:00:00.000Z", "method": "card"}  # fmt: skip


async def test_a_payment_reads_its_known_owner_once(
    commands: CustomerCommands, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the owner is new is known from how it was found: it used to be read a second
    time because the check meant for that (`version == 0`) could never be true."""
    ann = await commands.create(STAFF, ProfileInput({"firstName": "Ann", "email": "a@x.io"}))
    commerce = CommerceCommands(commands.executor, AttendeeProcessing(commands.executor))
    traffic = count_traffic(commands.executor.app, monkeypatch)
    owner = str(ann.customer.id)
    await commerce.record_payment(STAFF, dict(PAYMENT), customer_id=owner, payer=None)
    assert (traffic.read, traffic.written, traffic.saves) == (1, 1, 1)


async def test_a_payer_nobody_matches_becomes_a_customer_holding_email_and_phone(
    commands: CustomerCommands,
) -> None:
    executor = commands.executor
    attendees = AttendeeProcessing(executor)
    payer = AttendeeInput(first_name="Pat", email="pat@example.com", phone=FRONT_DESK)
    commerce = CommerceCommands(executor, attendees)
    created = await commerce.record_payment(STAFF, dict(PAYMENT), customer_id=None, payer=payer)
    assert executor.claims.email_owner("acme", "PAT@example.com") == uuid.UUID(created)
    assert _phone_match(commands, FRONT_DESK) == uuid.UUID(created)
    with pytest.raises(Conflict) as taken:
        await commands.create(STAFF, ProfileInput({"email": "pat@example.com"}))
    assert taken.value.extra == {"existingId": created}
