"""Publishes stored security alerts as `security.alert` on `customers.events`.

The alert store is the outbox: an alert is stored first, then published with publisher
confirms (persistent, `message_id` = alert id) and marked published only once confirmed, so
a broker outage delays alerts and loses none (at-least-once, like the event relay: consumers
dedupe by message id). It runs in the process that runs the projections, woken at once by an
alert raised there and every `poll_seconds` for those raised by other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aio_pika
import msgspec
from aio_pika.abc import AbstractConnection, AbstractExchange

from read_side.alert_store import AlertStore

logger = logging.getLogger(__name__)
EXCHANGE = "customers.events"
ROUTING_KEY = "security.alert"


class AlertRelay:
    """See the module docstring."""

    def __init__(
        self,
        amqp_url: str,
        store: AlertStore,
        *,
        exchange: str = EXCHANGE,
        poll_seconds: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        self.amqp_url = amqp_url
        self.exchange_name = exchange
        self.store = store
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.published = 0
        self._wake = asyncio.Event()
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None

    def wake(self, _alert: object = None) -> None:
        """Publish soon (an alert was just raised in this process)."""
        self._wake.set()

    async def run(self) -> None:
        """Publish pending alerts until cancelled; a failure waits for the next round."""
        try:
            while True:
                try:
                    await self.publish_pending()
                except Exception as error:
                    logger.warning("security alerts not published yet: %s", error)
                    await self._discard()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                self._wake.clear()
        finally:
            await self._discard()

    async def publish_pending(self) -> int:
        """Publish every unpublished alert (oldest first); the number published."""
        done = 0
        while pending := await self.store.unpublished(100):
            exchange = await self._ready()
            for alert in pending:
                message = aio_pika.Message(
                    msgspec.json.encode({"schemaVersion": 2, "type": ROUTING_KEY, **alert}),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=alert["id"],
                    type=ROUTING_KEY,
                    app_id="customer-management",
                )
                async with asyncio.timeout(self.timeout):
                    await exchange.publish(message, ROUTING_KEY)
            await self.store.mark_published([alert["id"] for alert in pending])
            done += len(pending)
        self.published += done
        return done

    async def _ready(self) -> AbstractExchange:
        if self._exchange is None:
            async with asyncio.timeout(self.timeout):
                self._connection = await aio_pika.connect(self.amqp_url)
                channel = await self._connection.channel(publisher_confirms=True)
                self._exchange = await channel.declare_exchange(
                    self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                )
        return self._exchange

    async def close(self) -> None:
        """Close the broker connection (a later publish reconnects)."""
        await self._discard()

    async def _discard(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
