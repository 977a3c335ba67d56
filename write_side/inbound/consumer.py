"""RabbitMQ consumers for `orders.events`, `payments.events` and `notifications.events`
(aio-pika, manual acks). The queues are quorum queues (`write_side.inbound.queues`).

A message is acknowledged only after its effect is stored. A message that can never be
applied is published to `<queue>.dlq` (persistent, with the reason in the
`x-dead-letter-reason` header) and only then acknowledged, so nothing is lost. Every other
failure (a store or broker outage) rejects the message back to the queue to be retried.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustChannel, AbstractRobustConnection

from shared.json_types import JSONObject
from write_side.application.privacy import Identity
from write_side.inbound.dead_letter_purge import naming, purge
from write_side.inbound.handlers import InboundHandlers, Unprocessable
from write_side.inbound.notification_batches import NotificationBatches
from write_side.inbound.notification_batches import stop as stop_batches
from write_side.inbound.order_batches import OrderBatches
from write_side.inbound.queues import (
    QUORUM,
    ROUTING_KEY_HEADER,
    copied_headers,
    ensure_quorum,
    routing_key_of,
)

logger = logging.getLogger(__name__)
REASON_HEADER = "x-dead-letter-reason"


@dataclass(frozen=True)
class Subscription:
    """One inbound queue and the exchange it is bound to."""

    exchange: str
    queue: str
    binding: str

    @property
    def batched(self) -> bool:
        """Notifications are applied in batches (`notification_batches`)."""
        return self.binding.startswith("notification.")

    @property
    def orders(self) -> bool:
        """Orders are applied in batches too (`order_batches`)."""
        return self.binding.startswith("order.")


DEFAULT_SUBSCRIPTIONS = (
    Subscription("orders.events", "customers.orders", "order.*"),
    Subscription("payments.events", "customers.payments", "payment.*"),
    Subscription("notifications.events", "customers.notifications", "notification.*"),
)


class InboundConsumer:
    """Consumes every subscription until `stop()`."""

    def __init__(
        self,
        url: str,
        handlers: InboundHandlers,
        *,
        subscriptions: tuple[Subscription, ...] = DEFAULT_SUBSCRIPTIONS,
        prefetch: int = 32,
        batch_prefetch: int = 1000,
        batch_notifications: bool = True,
        batch_orders: bool = True,
        order_prefetch: int = 256,
        retry_delay: float = 1.0,
    ) -> None:
        self._url = url
        self._handlers = handlers
        self._subscriptions = subscriptions
        self._prefetch = prefetch
        self._retry_delay = retry_delay
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._batch_prefetch = batch_prefetch
        self._batch_notifications = batch_notifications
        self._batches: NotificationBatches | None = None  # made when a batched queue starts
        self._batcher: asyncio.Task[None] | None = None
        self._batched_queue = ""
        self._batch_orders = batch_orders
        self._order_prefetch = order_prefetch  # below notifications': competing processes share
        self._orders: dict[str, OrderBatches] = {}  # per orders queue, with its task
        self._order_tasks: list[asyncio.Task[None]] = []
        self._applied = 0
        self._dead_lettered = 0

    @property
    def applied(self) -> int:
        """Messages applied since the process started."""
        orders = sum(batches.applied for batches in self._orders.values())
        return self._applied + orders + (self._batches.applied if self._batches else 0)

    @property
    def dead_lettered(self) -> int:
        """Messages dead-lettered since the process started."""
        orders = sum(batches.dead_lettered for batches in self._orders.values())
        return self._dead_lettered + orders + (self._batches.dead_lettered if self._batches else 0)

    async def start(self) -> None:
        """Connect, declare exchanges, queues and dead-letter queues, and start consuming."""
        self._connection = await aio_pika.connect_robust(self._url, timeout=10)
        channel = await self._connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self._prefetch)
        self._channel = channel
        for subscription in self._subscriptions:
            exchange = await channel.declare_exchange(
                subscription.exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            dead_letters, name = f"{subscription.queue}.dlq", subscription.queue
            await ensure_quorum(self._connection, dead_letters)
            await ensure_quorum(self._connection, name, subscription.exchange, subscription.binding)
            await channel.declare_queue(dead_letters, durable=True, arguments=QUORUM)
            queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
            await queue.bind(exchange, routing_key=subscription.binding)
            if subscription.batched and self._batch_notifications:  # own channel: `multiple` acks
                await self._consume_batched(subscription)
            elif subscription.orders and self._batch_orders:
                await self._consume_orders(subscription)
            else:
                await queue.consume(self._consumer(subscription.queue), no_ack=False)

    async def _consume_batched(self, subscription: Subscription) -> None:
        assert self._connection is not None
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._batch_prefetch)
        queue = await channel.declare_queue(subscription.queue, durable=True, arguments=QUORUM)
        self._batched_queue = subscription.queue
        if self._batches is None:
            self._batches = NotificationBatches(
                self._handlers.engagement, self._dead_letter_batched, retry_delay=self._retry_delay
            )
        if self._batcher is None:
            self._batcher = asyncio.create_task(self._batches.run())
        await queue.consume(self._batches.deliver, no_ack=False)

    async def _consume_orders(self, subscription: Subscription) -> None:
        """Orders on a channel of their own (`multiple` acks), in batches (`order_batches`)."""
        assert self._connection is not None
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._order_prefetch)
        name = subscription.queue
        queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)

        async def dead_letter(message: AbstractIncomingMessage, reason: str) -> None:
            await self._dead_letter(name, message, reason)

        batches = OrderBatches(self._handlers, dead_letter, retry_delay=self._retry_delay)
        self._orders[name] = batches
        self._order_tasks.append(asyncio.create_task(batches.run()))
        await queue.consume(batches.deliver, no_ack=False)

    async def _dead_letter_batched(self, message: AbstractIncomingMessage, reason: str) -> None:
        await self._dead_letter(self._batched_queue, message, reason)

    def status(self) -> JSONObject:
        """For `/health`: the queues consumed, whether the connection is up, and the counts
        of messages applied and dead-lettered since the process started."""
        connection = self._connection
        return {
            "connected": connection is not None and not connection.is_closed,
            "queues": [subscription.queue for subscription in self._subscriptions],
            "applied": self.applied,
            "deadLettered": self.dead_lettered,
        }

    @property
    def dead_letter_queues(self) -> list[str]:
        """The dead-letter queue of every subscription."""
        return [f"{subscription.queue}.dlq" for subscription in self._subscriptions]

    async def forget_customer(self, identity: Identity) -> None:
        """Before an erasure: remove the dead-lettered messages naming the customer (the
        erasure fails, to be retried, when the broker cannot be reached)."""
        removed = await purge(self._url, self.dead_letter_queues, naming(identity))
        if removed:
            logger.info("removed %d dead-lettered message(s) of an erased customer", removed)

    async def stop(self) -> None:
        """Close the connection (unacknowledged messages return to their queues)."""
        await stop_batches(self._batcher)
        self._batcher = None
        for task in self._order_tasks:
            await stop_batches(task)
        self._order_tasks = []
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def _consumer(self, queue: str):  # type: ignore[no-untyped-def]
        async def consume(message: AbstractIncomingMessage) -> None:
            await self.process(queue, message)

        return consume

    async def process(self, queue: str, message: AbstractIncomingMessage) -> None:
        """Apply, dead-letter or requeue one delivery."""
        try:
            await self._handlers.handle(routing_key_of(message), message.body)
        except Unprocessable as error:
            await self._dead_letter(queue, message, error.reason)
            await message.ack()
            self._dead_lettered += 1
            logger.warning(
                "dead-lettered a message", extra={"queue": queue, "reason": error.reason}
            )
            return
        except Exception:
            logger.exception(
                "inbound message failed; it will be redelivered", extra={"queue": queue}
            )
            await asyncio.sleep(self._retry_delay)
            await message.reject(requeue=True)
            return
        await message.ack()
        self._applied += 1

    async def _dead_letter(self, queue: str, message: AbstractIncomingMessage, reason: str) -> None:
        assert self._channel is not None
        headers = copied_headers(message)
        headers[REASON_HEADER] = reason
        headers[ROUTING_KEY_HEADER] = routing_key_of(message)
        copy = aio_pika.Message(
            body=message.body,
            headers=headers,
            message_id=message.message_id,
            content_type=message.content_type or "application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._channel.default_exchange.publish(copy, routing_key=f"{queue}.dlq")
