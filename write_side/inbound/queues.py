"""The inbound queues are RabbitMQ quorum queues (issue 16 A.3): replicated over the cluster's
nodes by Raft, so a node lost with its disk loses no acknowledged message, and a consumer on
any node keeps consuming. Their dead-letter queues are quorum queues too.

A queue's type is fixed when it is created: a broker that still holds a classic
`customers.orders` refuses the quorum declaration (PRECONDITION_FAILED). `declare_inbound`
then migrates it once, without losing a message: a quorum queue `<name>.migrating` is bound
like the old one, the old one is unbound and emptied into it, deleted and declared again as a
quorum queue, and the migrating queue is emptied back into it. Messages are copied (confirmed)
before the originals are acknowledged, so a crash mid-way can only duplicate, and the
handlers are idempotent by message id. Concurrent migrations by several processes are safe
for the same reason (a delete of a queue that is not empty is refused and retried).
"""

from __future__ import annotations

import logging

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
    HeadersType,
)
from aiormq.exceptions import ChannelNotFoundEntity, ChannelPreconditionFailed
from pamqp.common import FieldTable

logger = logging.getLogger(__name__)
QUORUM: FieldTable = {"x-queue-type": "quorum"}
MIGRATING = ".migrating"
ROUTING_KEY_HEADER = "x-original-routing-key"


def copied_headers(message: AbstractIncomingMessage) -> HeadersType:
    """A delivery's headers for a copy of it, without those the broker sets on delivery: a
    quorum queue's `x-delivery-count` (RabbitMQ 3.10 closes the channel on a publish that
    carries it back)."""
    return {k: v for k, v in (message.headers or {}).items() if k != "x-delivery-count"}


def routing_key_of(message: AbstractIncomingMessage) -> str:
    """The routing key the message was published with (a message carried over by a migration
    arrives through the default exchange, its routing key in a header)."""
    if not message.exchange and ROUTING_KEY_HEADER in (message.headers or {}):
        return str(message.headers[ROUTING_KEY_HEADER])
    return str(message.routing_key or "")


async def ensure_quorum(
    connection: AbstractConnection,
    name: str,
    exchange: str | None = None,
    binding: str | None = None,
) -> None:
    """Make sure `name` is a quorum queue (migrating a classic one), on a channel of its own
    (a refused declaration closes its channel). Declare it again with `QUORUM` to use it."""
    try:
        async with connection.channel() as channel:
            await channel.declare_queue(name, durable=True, arguments=QUORUM)
    except ChannelPreconditionFailed:
        logger.warning("queue %s is a classic queue: migrating it to a quorum queue", name)
        await _migrate(connection, name, exchange, binding)
        return
    try:  # a migration cut short after step 3 left messages in `<name>.migrating`
        async with connection.channel() as channel:
            await channel.declare_queue(name + MIGRATING, passive=True)
    except ChannelNotFoundEntity:
        return
    await _move_back(connection, name, exchange, binding)


async def _migrate(
    connection: AbstractConnection, name: str, exchange: str | None, binding: str | None
) -> None:
    async with connection.channel(publisher_confirms=True) as channel:
        holding = await channel.declare_queue(name + MIGRATING, durable=True, arguments=QUORUM)
        old = await channel.declare_queue(name, passive=True)
        if exchange is not None:
            await holding.bind(exchange, routing_key=binding)
            await old.unbind(exchange, routing_key=binding)
        moved = await _move(channel, old, holding.name)
        await old.delete(if_unused=False, if_empty=True)
    # A fresh channel: RabbitMQ 3.10 crashes a channel that published to the classic queue
    # when it publishes to the quorum queue of the same name.
    await _move_back(connection, name, exchange, binding)
    logger.warning("queue %s is a quorum queue now (%d message(s) carried over)", name, moved)


async def _move_back(
    connection: AbstractConnection, name: str, exchange: str | None, binding: str | None
) -> None:
    async with connection.channel(publisher_confirms=True) as channel:
        fresh = await channel.declare_queue(name, durable=True, arguments=QUORUM)
        holding = await channel.declare_queue(name + MIGRATING, durable=True, arguments=QUORUM)
        if exchange is not None:
            await fresh.bind(exchange, routing_key=binding)
            await holding.unbind(exchange, routing_key=binding)
        await _move(channel, holding, name)
        # quorum queues refuse `if_empty`: delete once a fresh count says it is empty
        while await _count(channel, holding.name):
            await _move(channel, holding, name)
        await holding.delete(if_unused=False, if_empty=False)


async def _count(channel: AbstractChannel, name: str) -> int:
    declared = await channel.declare_queue(name, passive=True)
    return int(declared.declaration_result.message_count or 0)


async def _move(channel: AbstractChannel, source: AbstractQueue, target: str) -> int:
    """Copy every message of `source` to queue `target` (confirmed), then acknowledge it. The
    copy goes through the default exchange: its routing key travels in a header."""
    moved = 0
    while (message := await source.get(no_ack=False, fail=False)) is not None:
        headers = copied_headers(message)
        headers.setdefault(ROUTING_KEY_HEADER, message.routing_key or "")
        copy = aio_pika.Message(
            body=message.body,
            headers=headers,
            message_id=message.message_id,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await channel.default_exchange.publish(copy, routing_key=target)
        await message.ack()
        moved += 1
    return moved
