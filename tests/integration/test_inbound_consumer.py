"""Order and payment events from a real RabbitMQ: applied once, dead-lettered with a reason."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import pytest

from shared.principal import Principal, Role
from tests.integration.broker_fixtures import customers_of, publish, until
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.inbound.consumer import REASON_HEADER, InboundConsumer
from write_side.inbound.handlers import InboundHandlers
from write_side.inbound.queues import QUORUM

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


ORDER = {
    "orderId": "o-1",
    "tenantId": "acme",
    "placedAt": "2026-11-20T10:00:00Z",
    "attendees": [
        {"firstName": "Ann", "email": "ann@example.com"},
        {"firstName": "Bo", "phone": "+14155552671"},
    ],
}


async def test_a_message_delivered_twice_is_applied_once(
    commands: CustomerCommands,
    handlers: InboundHandlers,
    broker: Any,
    amqp_url: str,
    subscriptions: Any,
) -> None:
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    try:
        for _ in range(2):
            await publish(broker, subscriptions[0].exchange, "order.placed", ORDER, "m-1")
        await until(lambda: consumer.applied == 2)
    finally:
        await consumer.stop()
    people = customers_of(commands)
    assert sorted(p.profile["firstName"] for p in people) == ["Ann", "Bo"]
    assert all(p.visit_count == 1 for p in people)


async def test_invalid_and_unmatchable_messages_go_to_the_dead_letter_queue(
    handlers: InboundHandlers, broker: Any, amqp_url: str, subscriptions: Any
) -> None:
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    try:
        await publish(broker, subscriptions[0].exchange, "order.placed", {"orderId": "x"}, "bad-1")
        unknown = str(uuid.uuid4())
        payment = {
            "paymentId": "p-1",
            "tenantId": "acme",
            "customerId": unknown,
            "amount": 100,
            "currency": "EUR",
            "at": "2026-11-20T10:00:00Z",
        }
        await publish(broker, subscriptions[1].exchange, "payment.succeeded", payment, "bad-2")
        await until(lambda: consumer.dead_lettered == 2)
    finally:
        await consumer.stop()
    reasons = {}
    for subscription in subscriptions:
        queue = await broker.declare_queue(
            f"{subscription.queue}.dlq", durable=True, arguments=QUORUM
        )
        message = await queue.get(timeout=5)
        assert message is not None
        reasons[message.message_id] = message.headers[REASON_HEADER]
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        await message.ack()
    assert "invalid order.placed" in reasons["bad-1"]
    assert (
        "unknown customer" in reasons["bad-2"].lower() or "no customer" in reasons["bad-2"].lower()
    )


@pytest.mark.parametrize("batched", [True, False], ids=["order-batches", "one-by-one"])
async def test_a_crash_between_store_and_ack_loses_and_duplicates_nothing(
    commands: CustomerCommands,
    handlers: InboundHandlers,
    broker: Any,
    amqp_url: str,
    subscriptions: Any,
    batched: bool,
) -> None:
    stored = asyncio.Event()

    class CrashAfterStore:
        async def handle(self, routing_key: str, body: bytes) -> None:
            await handlers.handle(routing_key, body)
            stored.set()
            await asyncio.sleep(3600)  # the process "dies" before acknowledging

        async def handle_many(self, messages: list[tuple[str, bytes]]) -> list[Any]:
            answers = await handlers.handle_many(messages)
            stored.set()
            await asyncio.sleep(3600)
            return answers

    crashing = InboundConsumer(
        amqp_url,
        CrashAfterStore(),  # type: ignore[arg-type]
        subscriptions=subscriptions,
        batch_orders=batched,
    )
    await crashing.start()
    await publish(broker, subscriptions[0].exchange, "order.placed", ORDER, "m-crash")
    await asyncio.wait_for(stored.wait(), 10)
    await crashing.stop()
    survivor = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await survivor.start()
    try:
        await until(lambda: survivor.applied == 1)
    finally:
        await survivor.stop()
    people = customers_of(commands)
    assert len(people) == 2
    assert all(p.visit_count == 1 for p in people)


async def test_payments_link_to_customers_and_block_deletion(
    commands: CustomerCommands,
    handlers: InboundHandlers,
    broker: Any,
    amqp_url: str,
    subscriptions: Any,
) -> None:
    ann = await commands.create(
        CommandMeta(ADMIN), ProfileInput({"firstName": "Ann", "email": "ann@example.com"})
    )
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    try:
        pending = {
            "paymentId": "p-9",
            "tenantId": "acme",
            "payer": {"name": "Ann Lee", "email": "ANN@example.com"},
            "amount": 2500,
            "currency": "EUR",
            "at": "2026-11-20T10:00:00Z",
            "method": "card",
        }
        await publish(broker, subscriptions[1].exchange, "payment.pending", pending, "p-9-pending")
        await until(lambda: consumer.applied == 1)
        customer = commands.executor.repository.get("acme", ann.customer.id)
        assert customer.payments["p-9"].status == "pending"
        with pytest.raises(Exception, match="open orders or pending payments"):
            await commands.delete(CommandMeta(ADMIN), ann.customer.id, None)
        await publish(broker, subscriptions[1].exchange, "payment.succeeded", pending, "p-9-ok")
        await until(lambda: consumer.applied == 2)
    finally:
        await consumer.stop()
    assert (
        commands.executor.repository.get("acme", ann.customer.id).payments["p-9"].status
        == "succeeded"
    )
    await commands.delete(CommandMeta(ADMIN), ann.customer.id, None)
