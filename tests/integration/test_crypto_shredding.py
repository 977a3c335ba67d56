"""Personal data is encrypted at rest with a key per customer, on both event stores: raw rows
never show it, the domain still sees it, and shredding a key erases exactly one customer."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from shared.errors import Conflict
from shared.events.values import Snapshot
from shared.principal import Principal, Role
from shared.settings import Settings
from tests.integration.raw_event_store import RawStore, assert_nothing_in_clear
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor
from write_side.application.ports import EventStore
from write_side.application.privacy import PrivacyCommands
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))
ZEB = {
    "firstName": "Zebediah",
    "lastName": "Quillfeather",
    "email": "zeb.unique@example.com",
    "phone": "+14155550123",
    "dateOfBirth": "1980-02-29",
    "notes": "allergic to kiwi",
    "tags": ["vip"],
}
SECRETS = [
    "Zebediah", "Quillfeather", "zeb.unique", "4155550123", "1980-02-29", "allergic to kiwi",
    "Zeb Holdings", "Fjordgata", "Ottoline",
]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path, event_store_url=url)


@pytest.fixture
async def commands(settings: Settings) -> AsyncIterator[CustomerCommands]:
    handlers = CustomerCommands(CommandExecutor(open_event_store(settings), index_key=b"test-key"))
    yield handlers
    handlers.executor.close()
    handlers.executor.app.close()


@pytest.fixture
def raw(settings: Settings) -> RawStore:
    return RawStore(settings)


async def create(commands: CustomerCommands, fields: dict[str, Any]) -> uuid.UUID:
    outcome = await commands.create(CommandMeta(ADMIN), ProfileInput(fields, "regular"))
    return uuid.UUID(str(outcome.customer.id))


def load(app: EventStore, customer_id: uuid.UUID) -> Any:
    return app.repository.get(customer_id)


async def test_personal_data_is_encrypted_at_rest_and_shredding_erases_it(
    commands: CustomerCommands, settings: Settings, raw: RawStore
) -> None:
    app = commands.executor.app
    zeb = await create(commands, ZEB)
    ann = await create(commands, {"firstName": "Ann", "lastName": "Other", "email": "a@b.co"})
    await commands.update(CommandMeta(ADMIN), ann, ProfileInput({"notes": "Ottoline"}))
    customer = load(app, zeb)
    customer.set_billing(
        actor="alice", billing={"name": "Zeb Holdings", "address": {"line1": "Fjordgata 1"}}
    )
    customer.record_visit(actor="alice", order_id="o-1", placed_at="2026-01-01T10:00:00Z")
    app.save(customer)

    assert_nothing_in_clear(raw, SECRETS)
    found = load(app, zeb)
    assert {k: found.profile[k] for k in ZEB} == ZEB | {"phone": "+14155550123"}
    assert found.billing is not None and found.billing.address is not None
    assert found.billing.address.line1 == "Fjordgata 1"
    snapshot = found.orders["o-1"].snapshot
    assert isinstance(snapshot, Snapshot) and snapshot.email == "zeb.unique@example.com"

    data_keys = [app.keys.get_or_create(zeb), app.keys.get_or_create(ann)]
    key_forms = [k for key in data_keys for k in (key, key.hex(), base64.b64encode(key))]
    assert_nothing_in_clear(raw, key_forms)  # only wrapped keys are stored

    version = found.version
    app.keys.shred(zeb)
    for reopened in (app, open_event_store(settings)):
        erased, other = load(reopened, zeb), load(reopened, ann)
        for field in ("firstName", "lastName", "email", "phone", "dateOfBirth", "notes", "tags"):
            assert erased.profile[field] == "[erased]"  # tags are free text too
        assert erased.customer_type == "regular"
        assert erased.version == version and erased.state == "active"
        assert erased.billing == "[erased]" and erased.orders["o-1"].snapshot == "[erased]"
        assert (other.profile["firstName"], other.profile["notes"]) == ("Ann", "Ottoline")
        assert reopened.keys.get(zeb) is None
        assert reopened.keys.get(ann) == data_keys[1]
    reopened.close()
    assert_nothing_in_clear(raw, [*SECRETS, *key_forms[:3]])
    shredded = [row for row in raw.rows("customer_keys") if uuid.UUID(str(row[0])) == zeb]
    assert shredded[0][1] is None and shredded[0][4] is not None  # wrapped_key, shredded_at


async def test_no_personal_data_can_be_written_after_shredding(
    commands: CustomerCommands,
) -> None:
    zeb = await create(commands, ZEB)
    commands.executor.app.keys.shred(zeb)
    with pytest.raises(Conflict):
        await commands.update(CommandMeta(ADMIN), zeb, ProfileInput({"notes": "new notes"}))
    assert load(commands.executor.app, zeb).version == 1


async def test_erase_command_shreds_the_key(commands: CustomerCommands, raw: RawStore) -> None:
    zeb = await create(commands, ZEB)
    await PrivacyCommands(commands.executor).erase(CommandMeta(ADMIN), zeb, "asked by the customer")
    erased = load(commands.executor.app, zeb)
    assert erased.state == "erased" and erased.profile["email"] is None
    assert commands.executor.app.keys.get(zeb) is None
    history: Any = [
        commands.executor.app.mapper.to_domain_event(s)
        for s in commands.executor.app.recorder.select_events(zeb)
    ]
    assert history[0].profile["firstName"] == "[erased]"
    assert_nothing_in_clear(raw, SECRETS)


async def test_keys_commit_with_their_events_under_group_commit(
    commands: CustomerCommands, raw: RawStore
) -> None:
    solo = [
        commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": f"Solo{i}"}))
        for i in range(32)
    ]
    created = [r.customer.id for r in await asyncio.gather(*solo)]
    assert commands.executor.committer.batches < 32  # new customers' keys were saved in batches
    same_email = [
        commands.create(
            CommandMeta(ADMIN), ProfileInput({"firstName": f"Nomen{i}", "email": "same@x.co"})
        )
        for i in range(16)
    ]  # the batch conflicts, then each request is saved alone: only one succeeds
    results = await asyncio.gather(*same_email, return_exceptions=True)
    created += [r.customer.id for r in results if not isinstance(r, BaseException)]
    assert len(created) == 33
    customers = [load(commands.executor.app, customer_id) for customer_id in created]
    assert sum(c.profile["firstName"].startswith("Nomen") for c in customers) == 1
    key_rows = raw.rows("customer_keys")
    assert len(key_rows) == 33  # no key was left behind by a save that failed
    assert {len(row[1]) for row in key_rows} == {12 + 32 + 16}  # nonce, wrapped key, GCM tag
    assert_nothing_in_clear(raw, ["Nomen", "Solo", "same@x.co"])


async def test_a_key_created_before_its_customer_is_the_one_used(
    commands: CustomerCommands, settings: Settings
) -> None:
    customer = Customer.register(
        tenant_id="acme",
        actor="alice",
        customer_type=CustomerType.NEW,
        profile={"firstName": "Early"},
    )
    events = customer.collect_events()
    early = open_event_store(settings)  # another process: its key is not in this cache
    try:
        key = early.keys.get_or_create(customer.id)
    finally:
        early.close()
    with pytest.raises(IntegrityError):  # a new key was staged; the stored row wins...
        commands.executor.app.save(*events)
    commands.executor.app.save(*events)  # ...from the next attempt on
    assert load(commands.executor.app, customer.id).profile["firstName"] == "Early"
    assert commands.executor.app.keys.get(customer.id) == key


async def test_a_log_reader_prefetches_keys_per_batch_and_honours_shredding(
    commands: CustomerCommands, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projectors.envelopes import EventLog

    kept = await create(
        commands, {"firstName": "Kept", "lastName": "K", "email": "kept@example.com"}
    )
    gone = await create(
        commands, {"firstName": "Gone", "lastName": "G", "email": "gone@example.com"}
    )
    kept_key = commands.executor.app.keys.get(kept)
    commands.executor.app.keys.shred(gone)
    reader = open_event_store(settings)  # a projector process: nothing cached
    try:

        def one_by_one(customer_id: uuid.UUID) -> None:
            raise AssertionError(f"key of {customer_id} looked up alone, not prefetched")

        monkeypatch.setattr(reader.keys, "_select", one_by_one)
        batch = EventLog(reader).read(0, 100)
        names = {e.customer_id: e.data["profile"]["firstName"] for e in batch.envelopes}
        assert names == {str(kept): "Kept", str(gone): "[erased]"}
        assert reader.keys.get(kept) == kept_key
        assert reader.keys.get(gone) is None
    finally:
        reader.close()
