"""RabbitMQ fixtures of the inbound-consumer tests: the handlers on a fresh event store, a
pair of uniquely named order and payment subscriptions, a confirming channel that removes
them afterwards, and helpers to publish and wait."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from write_side.application.attendees import AttendeeProcessing
from write_side.application.commands import CustomerCommands
from write_side.application.commerce import CommerceCommands
from write_side.application.engagement import EngagementCommands
from write_side.domain.customer import Customer
from write_side.inbound.consumer import Subscription
from write_side.inbound.handlers import InboundHandlers


@pytest.fixture
def handlers(commands: CustomerCommands) -> InboundHandlers:
    attendees = AttendeeProcessing(commands.executor)
    commerce = CommerceCommands(commands.executor, attendees)
    return InboundHandlers(attendees, commerce, EngagementCommands(commands.executor))


@pytest.fixture
def subscriptions(unique_name: str) -> tuple[Subscription, ...]:
    return (
        Subscription(f"orders.{unique_name}", f"customers.orders.{unique_name}", "order.*"),
        Subscription(f"payments.{unique_name}", f"customers.payments.{unique_name}", "payment.*"),
    )


@pytest.fixture
async def broker(amqp_url: str, subscriptions: tuple[Subscription, ...]) -> AsyncIterator[Any]:
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    yield channel
    for subscription in subscriptions:
        for name in (subscription.queue, f"{subscription.queue}.dlq"):
            await channel.queue_delete(name)
        await channel.exchange_delete(subscription.exchange)
    await connection.close()


async def publish(
    channel: Any, exchange: str, key: str, body: dict[str, Any], message_id: str
) -> None:
    target = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    message = aio_pika.Message(
        json.dumps(body).encode(),
        message_id=message_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
    await target.publish(message, routing_key=key)


async def until(condition: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def customers_of(commands: CustomerCommands) -> list[Customer]:
    found = []
    for notification in commands.executor.app.recorder.select_notifications(start=1, limit=10_000):
        if notification.topic.endswith("Customer.Created"):
            found.append(
                commands.executor.repository.get("acme", uuid.UUID(str(notification.originator_id)))
            )
    return found
