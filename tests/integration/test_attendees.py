"""Attendee processing on both event stores: concurrent orders, idempotency, matching rules."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.principal import Principal, Role
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.executor import CommandExecutor

STAFF = CommandMeta(Principal("orders", "acme", frozenset({Role.STAFF})))
PLACED = datetime(2026, 11, 20, 10, tzinfo=UTC)


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


async def test_concurrent_orders_with_the_same_new_email_create_one_customer(
    commands: CustomerCommands,
) -> None:
    processing = AttendeeProcessing(commands.executor)
    orders = [
        processing.process(
            STAFF,
            f"order-{i}",
            PLACED,
            [AttendeeInput(first_name=f"N{i}", email="New.Person@Example.com")],
        )
        for i in range(12)
    ]
    results = await asyncio.gather(*orders)
    customer_ids = {result[0]["customerId"] for result in results}
    assert len(customer_ids) == 1
    assert sum(result[0]["created"] for result in results) == 1
    assert sum(result[0]["firstTime"] for result in results) == 1
    customer = commands.executor.repository.get("acme", uuid.UUID(customer_ids.pop()))
    assert customer.visit_count == 12


async def test_same_order_twice_concurrently_is_processed_once(commands: CustomerCommands) -> None:
    processing = AttendeeProcessing(commands.executor)
    attendees = [
        AttendeeInput(first_name="A", email="a@example.com"),
        AttendeeInput(first_name="B", phone="+14155552671"),
    ]
    first, second = await asyncio.gather(
        processing.process(STAFF, "order-x", PLACED, attendees),
        processing.process(STAFF, "order-x", PLACED, attendees),
    )
    assert first == second
    assert [r["created"] for r in first] == [True, True]


async def test_phone_matches_only_when_exactly_one_active_customer_has_it(
    commands: CustomerCommands,
) -> None:
    processing = AttendeeProcessing(commands.executor)
    one = await commands.create(STAFF, ProfileInput({"firstName": "One", "phone": "+14155552671"}))
    matched = await processing.process(
        STAFF, "o-1", PLACED, [AttendeeInput(phone="(415) 555-2671")]
    )
    assert matched[0] == {
        "customerId": str(one.customer.id),
        "created": False,
        "firstTime": True,
        "matchedBy": "phone",
    }
    await commands.create(STAFF, ProfileInput({"firstName": "Two", "phone": "+14155552671"}))
    ambiguous = await processing.process(
        STAFF, "o-2", PLACED, [AttendeeInput(phone="+14155552671")]
    )
    assert ambiguous[0]["created"] is True
    assert ambiguous[0]["matchedBy"] is None


async def test_deleted_customers_are_not_matched(commands: CustomerCommands) -> None:
    processing = AttendeeProcessing(commands.executor)
    gone = await commands.create(
        STAFF, ProfileInput({"firstName": "Gone", "email": "gone@example.com"})
    )
    await commands.delete(
        CommandMeta(Principal("m", "acme", frozenset({Role.MANAGER}))), gone.customer.id, None
    )
    result = await processing.process(
        STAFF, "o-3", PLACED, [AttendeeInput(email="gone@example.com")]
    )
    assert result[0]["created"] is True
    assert result[0]["customerId"] != str(gone.customer.id)
