"""Orders decided in batches (`attendee_batches`) on both event stores: the same answers and
the same stored facts as one order at a time, orders of one batch seeing each other, replays,
refusals, and conflicts with another writer decided again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from shared.errors import Conflict, ValidationFailed
from tests.integration import test_attendees
from write_side.application.attendee_batches import Answer, OrderRequest, process_orders
from write_side.application.attendees import AttendeeInput, AttendeeProcessing, Results
from write_side.application.commands import CustomerCommands, ProfileInput

PLACED = datetime(2026, 11, 20, 10, tzinfo=UTC)
STAFF = test_attendees.STAFF
commands = test_attendees.commands  # the fixture: both event stores


def ok(answers: list[Answer]) -> list[Results]:
    """The answers, none of them an error."""
    assert not [answer for answer in answers if isinstance(answer, Exception)]
    return [answer for answer in answers if not isinstance(answer, Exception)]


def order(order_id: str, *attendees: AttendeeInput, days: int = 0) -> OrderRequest:
    return OrderRequest(STAFF, order_id, PLACED + timedelta(days=days), list(attendees))


async def test_orders_of_one_batch_see_each_others_customers(commands: CustomerCommands) -> None:
    processing = AttendeeProcessing(commands.executor)
    ann = AttendeeInput(first_name="Ann", email="Ann@Example.com", phone="+14155552671")
    answers = ok(
        await process_orders(
            processing,
            [
                order("o-1", ann),
                order("o-2", AttendeeInput(email="ann@example.com"), days=-1),  # earlier: first
                order("o-3", AttendeeInput(first_name="Bo", phone="(415) 555-2671")),
                order("o-4", AttendeeInput(first_name="Cy", email="cy@example.com")),
            ],
        )
    )
    first, by_email, by_phone, other = (answer[0] for answer in answers)
    assert (first["created"], first["firstTime"], first["matchedBy"]) == (True, True, None)
    assert by_email["customerId"] == first["customerId"] and by_email["matchedBy"] == "email"
    assert by_email["firstTime"] is True  # placed before o-1
    assert by_phone["customerId"] == first["customerId"] and by_phone["matchedBy"] == "phone"
    assert other["created"] is True and other["customerId"] != first["customerId"]
    customer = commands.executor.repository.get("acme", uuid.UUID(first["customerId"]))
    assert customer.visit_count == 3
    again = await processing.process(STAFF, "o-5", PLACED, [AttendeeInput(email="cy@example.com")])
    assert again[0]["customerId"] == other["customerId"]  # the batch claimed the email


async def test_an_order_delivered_twice_in_a_batch_is_applied_once(
    commands: CustomerCommands,
) -> None:
    processing = AttendeeProcessing(commands.executor)
    same = order("o-1", AttendeeInput(first_name="A", email="a@example.com"))
    first, second = ok(await process_orders(processing, [same, same]))
    assert first == second
    third = ok(await process_orders(processing, [same]))[0]
    assert third == first
    assert first[0]["created"] is True
    customer = commands.executor.repository.get("acme", uuid.UUID(first[0]["customerId"]))
    assert customer.visit_count == 1


async def test_refusals_are_answered_per_order(commands: CustomerCommands) -> None:
    processing = AttendeeProcessing(commands.executor)
    await process_orders(processing, [order("o-1", AttendeeInput(email="a@example.com"))])
    answers = await process_orders(
        processing,
        [
            order("o-1", AttendeeInput(email="other@example.com")),  # another content: 409
            order("o-2", AttendeeInput(email="not an email")),
            order("o-3", AttendeeInput(first_name="Fine")),
        ],
    )
    assert isinstance(answers[0], Conflict)
    assert isinstance(answers[1], ValidationFailed)
    assert not isinstance(answers[2], Exception) and answers[2][0]["created"] is True


async def test_a_batch_racing_single_orders_creates_each_customer_once(
    commands: CustomerCommands,
) -> None:
    """Another writer claims the batch's new emails meanwhile: the conflicting groups are
    decided again and match what the other writer created."""
    processing = AttendeeProcessing(commands.executor)
    batch = [order(f"b-{i}", AttendeeInput(email=f"p{i % 6}@example.com")) for i in range(24)]
    singles = [
        processing.process(STAFF, f"s-{i}", PLACED, [AttendeeInput(email=f"p{i}@example.com")])
        for i in range(6)
    ]
    batched, single = await asyncio.gather(
        process_orders(processing, batch), asyncio.gather(*singles)
    )
    answers = [*ok(batched), *single]
    ids = {answer[0]["customerId"] for answer in answers}
    assert len(ids) == 6
    assert sum(answer[0]["created"] for answer in answers) == 6
    for customer_id in ids:
        customer = commands.executor.repository.get("acme", uuid.UUID(customer_id))
        assert customer.visit_count == 5


async def test_phone_matches_in_a_batch_only_when_exactly_one_customer_has_it(
    commands: CustomerCommands,
) -> None:
    processing = AttendeeProcessing(commands.executor)
    for name in ("One", "Two"):
        await commands.create(STAFF, ProfileInput({"firstName": name, "phone": "+14155550100"}))
    answers = ok(await process_orders(
        processing,
        [
            order("o-1", AttendeeInput(first_name="X", email="x@example.com",
                                       phone="+14155552671")),
            order("o-2", AttendeeInput(phone="+14155552671")),  # only X, created just before
            order("o-3", AttendeeInput(phone="+14155550100")),  # One and Two: nobody
            order("o-4", AttendeeInput(phone="+14155550100")),  # and o-3's new customer
        ],
    ))  # fmt: skip
    results = [answer[0] for answer in answers]
    assert results[0]["created"] is True
    assert results[1]["matchedBy"] == "phone"
    assert results[1]["customerId"] == results[0]["customerId"]
    assert [results[2]["created"], results[3]["created"]] == [True, True]
    assert results[2]["customerId"] != results[3]["customerId"]


async def test_the_phone_book_answers_a_batch_of_phones_as_one_phone_each(
    commands: CustomerCommands,
) -> None:
    for name, phone in (("A", "+14155550100"), ("B", "+14155550100"), ("C", "+14155550101")):
        await commands.create(STAFF, ProfileInput({"firstName": name, "phone": phone}))
    for phone in ("+14155550100", "+14155550100"):  # a third holder of the first: limit 2
        await commands.create(STAFF, ProfileInput({"firstName": "D", "phone": phone}))
    claims, phones = commands.executor.claims, commands.executor.app.phones
    keys = [claims.phone_key("acme", p) for p in ("+14155550100", "+14155550101", "+14155550199")]
    batch = phones.holders_of(keys)
    assert [len(batch[key]) for key in keys] == [2, 1, 0]
    assert all(set(batch[key]) <= set(phones.holders(key, limit=10)) for key in keys)
