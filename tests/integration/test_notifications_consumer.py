"""Notification events from a real RabbitMQ: recorded once as communications, a hard bounce
marks the email undeliverable, unknown customers and tenants go to the dead-letter queue."""

from __future__ import annotations

import uuid
from typing import Any

import aio_pika
import pytest

from shared.principal import Principal, Role
from tests.integration.broker_fixtures import publish, until
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.inbound.consumer import REASON_HEADER, InboundConsumer, Subscription
from write_side.inbound.handlers import InboundHandlers
from write_side.inbound.queues import QUORUM

ADMIN = Principal("alice", "acme", frozenset({Role.ADMIN}))


@pytest.fixture
def subscriptions(unique_name: str) -> tuple[Subscription, ...]:
    return (
        Subscription(
            f"notifications.{unique_name}",
            f"customers.notifications.{unique_name}",
            "notification.*",
        ),
    )


@pytest.fixture
async def broker(amqp_url: str, subscriptions: tuple[Subscription, ...]) -> Any:
    import aio_pika

    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    yield channel
    for name in (subscriptions[0].queue, f"{subscriptions[0].queue}.dlq"):
        await channel.queue_delete(name)
    await channel.exchange_delete(subscriptions[0].exchange)
    await connection.close()


def notice(customer_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "notificationId": "n-1", "tenantId": "acme", "customerId": customer_id, "channel": "email",
        "purpose": "order_confirmation", "template": "receipt", "at": "2026-11-20T10:00:00Z",
        "bounceType": None,
    } | fields  # fmt: skip


async def test_notifications_are_recorded_once_and_a_hard_bounce_holds_until_the_email_changes(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    meta = CommandMeta(ADMIN)
    created = await commands.create(
        meta, ProfileInput({"firstName": "Ann", "email": "ann@example.com"})
    )
    cid = str(created.customer.id)
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    exchange = subscriptions[0].exchange
    try:
        for _ in range(2):  # a duplicate delivery
            await publish(broker, exchange, "notification.sent", notice(cid), "m-sent")
        await publish(broker, exchange, "notification.delivered", notice(cid), "m-delivered")
        bounced = notice(cid, bounceType="hard")
        await publish(broker, exchange, "notification.bounced", bounced, "m-bounced")
        await until(lambda: consumer.applied == 4)
    finally:
        await consumer.stop()
    customer = commands.executor.repository.get("acme", created.customer.id)
    assert customer.communications == {"n-1:sent", "n-1:delivered", "n-1:bounced"}
    assert customer.version == 4  # created + three statuses: the duplicate changed nothing
    assert customer.email_deliverable is False
    changed = await commands.update(
        meta, created.customer.id, ProfileInput({"email": "ann@new.example"})
    )
    assert changed.customer.email_deliverable is True


async def test_unknown_customers_and_tenants_go_to_the_dead_letter_queue_with_the_reason(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    created = await commands.create(CommandMeta(ADMIN), ProfileInput({"firstName": "Ann"}))
    cid = str(created.customer.id)
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    exchange = subscriptions[0].exchange
    try:
        await publish(broker, exchange, "notification.sent", notice(str(uuid.uuid4())), "unknown")
        await publish(
            broker, exchange, "notification.sent", notice(cid, tenantId="other"), "tenant"
        )
        await publish(broker, exchange, "notification.sent", notice("not-a-uuid"), "invalid")
        await until(lambda: consumer.dead_lettered == 3)
    finally:
        await consumer.stop()
    queue = await broker.declare_queue(
        f"{subscriptions[0].queue}.dlq", durable=True, arguments=QUORUM
    )
    reasons = {}
    for _ in range(3):
        message = await queue.get(timeout=5)
        reasons[message.message_id] = message.headers[REASON_HEADER]
        await message.ack()
    assert "no customer" in reasons["unknown"].lower()
    assert "no customer" in reasons["tenant"].lower()
    assert "invalid notification.sent" in reasons["invalid"]


async def test_a_burst_is_applied_in_batches_one_command_per_customer_and_all_settled(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    meta = CommandMeta(ADMIN)
    ids = [str((await commands.create(meta, ProfileInput({"firstName": f"N{i}"}))).customer.id)
           for i in range(3)]  # fmt: skip
    exchange = await broker.declare_exchange(
        subscriptions[0].exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    backlog = await broker.declare_queue(subscriptions[0].queue, durable=True, arguments=QUORUM)
    await backlog.bind(exchange, routing_key="notification.*")
    for index in range(300):  # published before the consumer starts: it finds a backlog
        body = notice(ids[index % 3], notificationId=f"n-{index}")
        await publish(broker, subscriptions[0].exchange, "notification.sent", body, f"m-{index}")
    calls: list[int] = []
    original = handlers.engagement.record_communication_batches

    async def counted(batches: Any) -> Any:
        calls.append(sum(len(items) for _, _, items in batches))
        return await original(batches)

    object.__setattr__(handlers.engagement, "record_communication_batches", counted)
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    try:
        await until(lambda: consumer.applied == 300)
    finally:
        await consumer.stop()
    assert sum(calls) == 300 and len(calls) < 30  # customers' notifications applied together
    for cid in ids:
        customer = commands.executor.repository.get("acme", uuid.UUID(cid))
        assert len(customer.communications) == 100
    queue = await broker.declare_queue(subscriptions[0].queue, durable=True, arguments=QUORUM)
    assert queue.declaration_result.message_count == 0  # every delivery acknowledged
