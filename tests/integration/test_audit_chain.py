# ruff: noqa: S608 - the tests edit the store by hand, with table names they chose
"""The tamper-evident log on both event stores: verification passes on an untouched store and
after crypto-shredding, and names the first event modified, deleted, reordered or inserted by
hand in the database (issue 15.1 and 15.2)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import psycopg
import pytest

from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))
META = CommandMeta(ADMIN)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = request.getfixturevalue("postgres_schema_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path, event_store_url=url, audit_key="audit-test-key")


@pytest.fixture
async def commands(settings: Settings) -> AsyncIterator[CustomerCommands]:
    handlers = CustomerCommands(CommandExecutor(open_event_store(settings), index_key=b"test-key"))
    yield handlers
    handlers.executor.close()
    handlers.executor.app.close()


@contextmanager
def database(settings: Settings) -> Iterator[tuple[Any, str, str]]:
    """A raw connection to the store, its events table and its position column."""
    if settings.event_store_url is None:
        db = sqlite3.connect(settings.data_dir / "events.db")
        try:
            yield db, "stored_events", "rowid"
            db.commit()
        finally:
            db.close()
        return
    conninfo, _, query = settings.event_store_url.partition("?")
    schema = parse_qs(query)["schema"][0]
    with psycopg.connect(conninfo) as pg:
        yield pg, f'"{schema}".customers_events', "notification_id"


def mark(settings: Settings) -> str:
    return "?" if settings.event_store_url is None else "%s"


async def customer_with_three_events(commands: CustomerCommands, name: str) -> uuid.UUID:
    created = await commands.create(META, ProfileInput({"firstName": name}, "unregistered"))
    customer_id = uuid.UUID(str(created.customer.id))
    for last in ("One", "Two"):
        await commands.update(META, customer_id, ProfileInput({"lastName": last}, None))
    return customer_id


async def test_an_untouched_log_verifies_with_its_count(commands: CustomerCommands) -> None:
    ids = [await customer_with_three_events(commands, n) for n in ("Ada", "Bo", "Cy")]
    report = commands.executor.app.audit.verify()
    assert report.ok, report.finding
    assert report.events >= 9 and report.checkpoints >= 0
    one = commands.executor.app.audit.verify(ids[1])
    assert one.ok and one.events == 3


async def test_crypto_shredding_leaves_the_chain_intact(commands: CustomerCommands) -> None:
    customer_id = await customer_with_three_events(commands, "Zed")
    commands.executor.app.keys.shred(customer_id)
    assert commands.executor.app.audit.verify().ok
    assert commands.executor.app.audit.verify(customer_id).ok


def tamper(settings: Settings, kind: str, victim: uuid.UUID) -> None:
    """Change the store behind the service's back, one of four ways, at the victim's v2."""
    p = mark(settings)
    oid: Any = victim.hex if settings.event_store_url is None else victim
    with database(settings) as (db, table, position):
        where = f"originator_id = {p} AND originator_version = {p}"
        if kind == "modified":
            state = db.execute(f"SELECT state FROM {table} WHERE {where}", (oid, 2)).fetchone()[0]
            changed = bytes(state)[:-1] + bytes([bytes(state)[-1] ^ 1])
            db.execute(f"UPDATE {table} SET state = {p} WHERE {where}", (changed, oid, 2))
        elif kind == "deleted":
            db.execute(f"DELETE FROM {table} WHERE {where}", (oid, 2))
        elif kind == "reordered":
            for old, new in ((2, -2), (3, 2), (-2, 3)):
                db.execute(
                    f"UPDATE {table} SET originator_version = {p} WHERE {where}", (new, oid, old)
                )
        else:
            columns = "originator_id, originator_version, topic, state"
            db.execute(
                f"INSERT INTO {table} ({columns}) SELECT originator_id, 4, topic, state"
                f" FROM {table} WHERE {where}",
                (oid, 2),
            )
        assert position


@pytest.mark.parametrize("kind", ["modified", "deleted", "reordered", "inserted"])
async def test_a_hand_edit_is_named(
    commands: CustomerCommands, settings: Settings, kind: str
) -> None:
    await customer_with_three_events(commands, "Before")
    victim = await customer_with_three_events(commands, "Victim")
    await customer_with_three_events(commands, "After")
    tamper(settings, kind, victim)

    for report in (
        commands.executor.app.audit.verify(),
        commands.executor.app.audit.verify(victim),
    ):
        finding = report.finding
        assert finding is not None, kind
        assert (finding.kind, finding.customer_id) == (kind, str(victim)), finding
        assert finding.version == (4 if kind == "inserted" else 2 if kind != "reordered" else 3)


async def test_events_stored_before_the_feature_are_sealed_once(
    commands: CustomerCommands, settings: Settings
) -> None:
    await customer_with_three_events(commands, "Old")
    with database(settings) as (db, _table, _position):
        schema = ""
        if settings.event_store_url is not None:
            schema = f'"{parse_qs(settings.event_store_url.partition("?")[2])["schema"][0]}".'
        for table in ("event_chain", "log_checkpoints", "audit_marks"):
            db.execute(f"DELETE FROM {schema}{table}")
    assert commands.executor.app.audit.verify().finding is not None
    reopened = open_event_store(settings)
    try:
        report = reopened.audit.verify()
        assert report.ok and report.events >= 3 and report.checkpoints == 1
        assert reopened.audit.backfill() == 0  # recorded: never again
    finally:
        reopened.close()
