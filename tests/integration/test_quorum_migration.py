"""The inbound queues are quorum queues; a broker still holding a classic queue of that name
has it migrated on start, messages, routing keys and binding included (issue 16 A.3)."""

from __future__ import annotations

import aio_pika
import pytest
from aiormq.exceptions import ChannelNotFoundEntity

from write_side.inbound.queues import MIGRATING, QUORUM, ensure_quorum, routing_key_of


async def test_a_classic_queue_becomes_a_quorum_queue_without_losing_a_message(
    amqp_url: str, unique_name: str
) -> None:
    exchange_name, name = f"orders.{unique_name}", f"customers.orders.{unique_name}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC)
        classic = await channel.declare_queue(name, durable=True)  # as the old version made it
        await classic.bind(exchange, routing_key="order.*")
        for number in range(3):
            message = aio_pika.Message(f"{number}".encode(), message_id=f"m{number}")
            await exchange.publish(message, routing_key="order.placed")
        try:
            await ensure_quorum(connection, name, exchange_name, "order.*")
            await ensure_quorum(connection, name, exchange_name, "order.*")  # idempotent
            channel = await connection.channel(publisher_confirms=True)
            queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
            exchange = await channel.get_exchange(exchange_name)
            await exchange.publish(aio_pika.Message(b"3", message_id="m3"), "order.cancelled")
            seen: list[tuple[str | None, str]] = []
            while (got := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
                seen.append((got.message_id, routing_key_of(got)))
            assert sorted(seen) == [("m0", "order.placed"), ("m1", "order.placed"),
                                    ("m2", "order.placed"), ("m3", "order.cancelled")]  # fmt: skip
            probe = await connection.channel()
            with pytest.raises(ChannelNotFoundEntity):
                await probe.declare_queue(name + MIGRATING, passive=True)
        finally:
            cleanup = await connection.channel()
            await cleanup.queue_delete(name)
            await cleanup.exchange_delete(exchange_name)


async def test_a_migration_cut_short_is_finished_on_the_next_start(
    amqp_url: str, unique_name: str
) -> None:
    name = f"customers.payments.{unique_name}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(name, durable=True, arguments=QUORUM)
        await channel.declare_queue(name + MIGRATING, durable=True, arguments=QUORUM)
        left = aio_pika.Message(b"x", message_id="left", headers={"x-original-routing-key": "k"})
        await channel.default_exchange.publish(left, routing_key=name + MIGRATING)
        try:
            await ensure_quorum(connection, name)
            channel = await connection.channel()
            queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
            got = await queue.get(no_ack=True, fail=False, timeout=5)
            assert got is not None and got.message_id == "left" and routing_key_of(got) == "k"
            probe = await connection.channel()
            with pytest.raises(ChannelNotFoundEntity):
                await probe.declare_queue(name + MIGRATING, passive=True)
        finally:
            cleanup = await connection.channel()
            await cleanup.queue_delete(name)
