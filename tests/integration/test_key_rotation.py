"""Master-key rotation on both event stores: every customer key is re-wrapped under the new
key, the old key can then leave `CUSTOMERS_MASTER_KEY` and everything still reads; an
interrupted rotation resumes; an erased customer stays erased; email claims survive."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from entrypoints.cli_keys import rotate_keys
from shared.errors import Conflict
from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import CustomersApplication, open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.crypto import MasterKeyMismatch
from write_side.application.crypto.key_cache import DataKey
from write_side.application.crypto.key_rotation import RingLacksKey, RotationPlan, plan, rotate
from write_side.application.crypto.key_store import StagedKey
from write_side.application.crypto.pii_cipher import new_data_key, wrap_key
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor
from write_side.application.privacy import PrivacyCommands
from write_side.domain.customer import Customer

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))
OLD = "legacy-master-key-0123456789"  # a plain value, as set before rotation existed
NEW = "new:bmV3LWtleS1ub3QtdGhlLW9sZC1vbmUtMzJieXRlcw=="


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path, event_store_url=url, master_key=OLD)


def with_keys(settings: Settings, value: str) -> Settings:
    return dataclasses.replace(settings, master_key=value)


async def create_customers(settings: Settings, count: int, start: int = 0) -> list[uuid.UUID]:
    store = open_event_store(settings)
    commands = CustomerCommands(CommandExecutor(store, index_key=store.index_key))
    try:
        created = []
        for n in range(start, start + count):
            fields = {"firstName": f"Name{n}", "lastName": "X", "email": f"person{n}@example.com"}
            outcome = await commands.create(CommandMeta(ADMIN), ProfileInput(fields, "regular"))
            created.append(uuid.UUID(str(outcome.customer.id)))
        return created
    finally:
        commands.executor.close()
        store.close()


def names(store: CustomersApplication, ids: list[uuid.UUID]) -> list[str]:
    return [store.repository.get(customer_id).profile["firstName"] for customer_id in ids]


async def test_rotate_then_remove_the_old_key_and_everything_reads(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    old_ones = await create_customers(settings, 12)
    store = open_event_store(settings)
    erased = old_ones.pop()
    await PrivacyCommands(CommandExecutor(store, index_key=store.index_key)).erase(
        CommandMeta(ADMIN), erased, "asked"
    )
    store.close()
    ring = with_keys(settings, f"{NEW},old:{OLD}")
    new_ones = await create_customers(ring, 3, start=100)  # wrapped by the new key already
    assert rotate_keys(ring, batch=5) == 0
    said = capsys.readouterr()
    assert "re-wrapping 11 customer keys" in said.err and "rotated 11 customer keys" in said.out
    assert "'old'" in said.out and "can leave CUSTOMERS_MASTER_KEY" in said.out

    assert rotate_keys(ring) == 0  # done: nothing to do, and it says so
    assert "nothing to rotate: all 14 customer keys" in capsys.readouterr().out

    only_new = with_keys(settings, NEW)
    store = open_event_store(only_new)
    try:
        assert names(store, old_ones) == [f"Name{n}" for n in range(11)]
        assert names(store, new_ones) == ["Name100", "Name101", "Name102"]
        gone: Customer = store.repository.get(erased)
        assert gone.state == "erased" and store.keys.get(erased) is None  # not resurrected
        claims = CustomerCommands(CommandExecutor(store, index_key=store.index_key))
        fields = {"firstName": "Again", "lastName": "X", "email": "person3@example.com"}
        with pytest.raises(Conflict):  # the email claims' hash key outlived the old key
            await claims.create(CommandMeta(ADMIN), ProfileInput(fields, "regular"))
        claims.executor.close()
    finally:
        store.close()
    assert rotate_keys(only_new) == 0
    assert "nothing to rotate" in capsys.readouterr().out


async def test_an_interrupted_rotation_resumes_where_it_stopped(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = await create_customers(settings, 23)
    ring = with_keys(settings, f"{NEW},old:{OLD}")
    store = open_event_store(ring)

    def crash_after_two_batches(done: int) -> None:
        if done >= 10:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            rotate(store.keys, progress=crash_after_two_batches, batch=5)
        left = plan(store.keys)
        assert (left.current, left.to_rewrap) == (10, 13)
    finally:
        store.close()
    store = open_event_store(with_keys(settings, NEW))
    try:
        with pytest.raises(MasterKeyMismatch):  # half done: the old key is still needed
            names(store, ids)
    finally:
        store.close()
    assert rotate_keys(ring, batch=5) == 0
    assert "re-wrapping 13 customer keys" in capsys.readouterr().err
    store = open_event_store(with_keys(settings, NEW))
    try:
        assert names(store, ids) == [f"Name{n}" for n in range(23)]
    finally:
        store.close()


async def test_a_key_shredded_during_a_rotation_stays_shredded(settings: Settings) -> None:
    ids = await create_customers(settings, 4)
    store = open_event_store(with_keys(settings, f"{NEW},old:{OLD}"))
    try:
        rows = store.keys.rows_to_rewrap(None, 10)  # read before the erasure...
        store.keys.shred(ids[0])
        fresh = [(cid, b"\0" * 60, kek) for cid, _, kek in rows]
        assert store.keys.rewrap_rows(fresh) == 3  # ...written after: the tombstone wins
        assert plan(store.keys).current == 3
        assert store.keys.get(ids[0]) is None
    finally:
        store.close()


async def test_a_key_missing_from_the_ring_is_named_not_guessed(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await create_customers(settings, 2)
    with pytest.raises(RingLacksKey, match=r"\(new\) holds no key") as refused:
        rotate_keys(with_keys(settings, NEW))  # the identity-hash key is under OLD
    assert OLD not in str(refused.value)
    other = f"other:{'x' * 40}"
    await create_customers(with_keys(settings, f"{other},old:{OLD}"), 3, start=10)
    assert rotate_keys(with_keys(settings, f"{NEW},old:{OLD}")) == 2  # 3 under 'other'
    error = capsys.readouterr().err
    assert "does not hold" in error and "(3 keys)" in error and "x" * 40 not in error
    assert rotate_keys(with_keys(settings, f"{NEW},old:{OLD},{other}")) == 0
    assert "rotated 5 customer keys" in capsys.readouterr().out


def fill_keys(settings: Settings, count: int) -> None:
    """`count` key rows under the settings' current key, in one transaction."""
    store = open_event_store(settings)
    try:
        keys, ids = store.keys, [uuid.uuid4() for _ in range(count)]
        staged = [
            StagedKey(DataKey.of(cid, secret), wrap_key(keys.ring.current.aead, cid, secret))
            for cid, secret in ((cid, new_data_key()) for cid in ids)
        ]
        with store.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            keys.insert_staged(cursor, staged)  # type: ignore[attr-defined]
    finally:
        store.close()


async def test_a_rotation_killed_with_sigkill_resumes(settings: Settings, tmp_path: Path) -> None:
    fill_keys(settings, 6000)
    ring = with_keys(settings, f"{NEW},old:{OLD}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")} | {
        "CUSTOMERS_MASTER_KEY": str(ring.master_key),
        "CUSTOMERS_JWT_SECRET": "j" * 32,
        "CUSTOMERS_AUDIT_KEY": "rotation-audit",
    }
    if settings.event_store_url:
        env["CUSTOMERS_EVENT_STORE_URL"] = settings.event_store_url
    command = [sys.executable, "-m", "entrypoints.cli", "keys", "rotate", "--batch", "20"]
    command += ["--data-dir", str(tmp_path)]
    rotating = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    store = open_event_store(ring)
    try:
        deadline = time.monotonic() + 60
        while plan(store.keys).current < 400 and rotating.poll() is None:
            assert time.monotonic() < deadline, "the rotation did not start"
            time.sleep(0.02)
        os.kill(rotating.pid, signal.SIGKILL)
        rotating.wait()
        left = plan(store.keys)
        assert rotating.returncode == -signal.SIGKILL and 0 < left.to_rewrap < 6000
        assert left.current + left.to_rewrap == 6000
    finally:
        store.close()
    assert rotate_keys(ring) == 0
    store = open_event_store(with_keys(settings, NEW))
    try:
        assert plan(store.keys) == RotationPlan(current=6000, pending={}, unknown={})
    finally:
        store.close()
