"""`security.alert` on RabbitMQ (issue 15.4): an alert raised by the monitor is published once,
in the shape docs/asyncapi.yaml gives it; the alert store is the outbox, so a broker that is
down delays the message and loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from projectors.alert_relay import AlertRelay
from read_side.alert_store import SQLiteAlertStore
from shared.security.counters import InMemoryAlertCounters
from shared.security.monitor import AlertRules, Outcome, SecurityMonitor
from tests.e2e.test_integration_events_contract import document, payload_validator


@pytest.fixture
async def inbox(amqp_url: str, unique_name: str) -> AsyncIterator[tuple[str, list[Any]]]:
    """An exchange of this test's own and what arrives on it with `security.alert`."""
    received: list[Any] = []
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(unique_name, "topic", durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "security.alert")

    async def record(message: Any) -> None:
        received.append(message)

    await queue.consume(record, no_ack=True)
    yield unique_name, received
    await exchange.delete()
    await connection.close()


async def burst(monitor: SecurityMonitor, address: str) -> None:
    for _ in range(monitor.rules.burst):
        await monitor.observe(Outcome(401, None, address, None))


async def wait_for(received: list[Any], count: int) -> None:
    async with asyncio.timeout(10):
        while len(received) < count:
            await asyncio.sleep(0.05)


async def test_an_alert_is_published_once_in_the_documented_shape(
    amqp_url: str, inbox: tuple[str, list[Any]], tmp_path: Path
) -> None:
    exchange, received = inbox
    store = SQLiteAlertStore(tmp_path / "read_models.db")
    monitor = SecurityMonitor(AlertRules(burst=3), InMemoryAlertCounters())
    monitor.store = store
    relay = AlertRelay(amqp_url, store, exchange=exchange, poll_seconds=60)
    monitor.on_alert.append(relay.wake)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)  # the relay waits for a wake-up, not the 60 s poll
        await burst(monitor, "10.3.0.1")
        await wait_for(received, 1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    [message] = received
    body = json.loads(message.body)
    validator = payload_validator(document(), "security.alert")
    assert [str(e) for e in validator.iter_errors(body)] == []
    [stored] = await store.recent("acme", True, 10)
    assert body == {"schemaVersion": 2, "type": "security.alert", **stored}
    assert message.message_id == stored["id"] and message.delivery_mode == 2
    assert await store.unpublished(10) == []
    assert await relay.publish_pending() == 0
    await relay.close()
    await store.close()


async def test_a_broker_outage_delays_alerts_and_loses_none(
    amqp_url: str, inbox: tuple[str, list[Any]], tmp_path: Path
) -> None:
    exchange, received = inbox
    store = SQLiteAlertStore(tmp_path / "read_models.db")
    monitor = SecurityMonitor(AlertRules(burst=2), InMemoryAlertCounters())
    monitor.store = store
    await burst(monitor, "10.4.0.1")
    await burst(monitor, "10.4.0.2")
    down = AlertRelay("amqp://guest:guest@127.0.0.1:1/", store, exchange=exchange, timeout=1)
    with pytest.raises(ConnectionError, match="Connect call failed"):
        await down.publish_pending()
    assert len(await store.unpublished(10)) == 2
    up = AlertRelay(amqp_url, store, exchange=exchange)
    assert await up.publish_pending() == 2
    await up.close()
    await wait_for(received, 2)
    assert {json.loads(m.body)["clientAddress"] for m in received} == {"10.4.0.1", "10.4.0.2"}
    await store.close()
