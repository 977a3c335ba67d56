"""Before an erasure, the dead-lettered inbound messages naming the customer (same tenant; an
attendee's or payer's email or phone, or the customer id) are removed; the others stay intact.
A broker that cannot be reached stops the erasure with a transient error (503, retried)."""

from __future__ import annotations

import json
from typing import Any

import aio_pika
import pytest

from shared.principal import Principal, Role
from shared.transient import is_transient
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.privacy import Identity, PrivacyCommands
from write_side.inbound.consumer import InboundConsumer, Subscription
from write_side.inbound.dead_letter_purge import naming, purge
from write_side.inbound.handlers import InboundHandlers
from write_side.inbound.queues import QUORUM

ZEB = Identity("acme", "6f1c1d7e-0000-4000-8000-000000000001", "zeb@example.org", "+14155550199")


def body(**fields: Any) -> bytes:
    return json.dumps({"tenantId": "acme", **fields}).encode()


def test_what_names_the_customer() -> None:
    about = naming(ZEB)
    assert about(body(attendees=[{"email": "ZEB@Example.org"}]))
    assert about(body(attendees=[{"firstName": "x"}, {"phone": "(415) 555-0199"}]))
    assert about(body(payer={"name": "Z", "phone": "+1 415 555 0199"}))
    assert about(body(customerId=ZEB.customer_id))
    assert about(b"not json, but it names zeb@example.org")
    assert not about(body(attendees=[{"email": "other@example.org", "phone": "+14155550100"}]))
    assert not about(body(attendees=[{"phone": "0199"}]))  # too short a tail to tell
    assert not about(json.dumps({"tenantId": "other", "payer": {"email": ZEB.email}}).encode())
    assert not about(b"[1, 2]")


async def test_the_purge_removes_only_the_customers_dead_letters(
    amqp_url: str, unique_name: str
) -> None:
    name = f"{unique_name}.dlq"
    kept = body(attendees=[{"email": "otto@example.org"}], orderId="o-otto")
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
        for content in (body(payer={"email": ZEB.email}), kept, body(customerId=ZEB.customer_id)):
            message = aio_pika.Message(content, headers={"x-dead-letter-reason": "bad"})
            await channel.default_exchange.publish(message, routing_key=name)
        try:
            assert await purge(amqp_url, [name], naming(ZEB)) == 2
            left = await queue.get(no_ack=True, fail=False)
            assert left is not None
            assert left.body == kept
            assert (left.headers or {})["x-dead-letter-reason"] == "bad"
            assert await queue.get(no_ack=True, fail=False) is None
        finally:
            await channel.queue_delete(name)


async def test_an_unreachable_broker_stops_the_erasure_with_a_transient_error() -> None:
    handlers: Any = InboundHandlers.__new__(InboundHandlers)
    subscriptions = (Subscription("x.events", "x.queue", "x.*"),)
    consumer = InboundConsumer(
        "amqp://guest:guest@127.0.0.1:1/", handlers, subscriptions=subscriptions
    )
    assert consumer.dead_letter_queues == ["x.queue.dlq"]
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whichever connection error
        await consumer.forget_customer(ZEB)
    assert is_transient(raised.value)


async def test_nothing_is_erased_when_the_copies_cannot_be_removed(
    commands: CustomerCommands,
) -> None:
    meta = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))
    created = await commands.create(meta, ProfileInput({"email": "zeb@example.org"}))
    privacy = PrivacyCommands(commands.executor)
    seen: list[Identity] = []

    async def broker_down(identity: Identity) -> None:
        seen.append(identity)
        raise ConnectionError("broker down")

    privacy.before_erase.append(broker_down)
    with pytest.raises(ConnectionError):
        await privacy.erase(meta, created.customer.id, None)
    assert seen[0].email == "zeb@example.org"
    assert seen[0].customer_id == str(created.customer.id)
    customer = commands.executor.repository.get("acme", created.customer.id)
    assert customer.state == "active"
