"""The outbound relay: a projection that publishes every stored Customer event to RabbitMQ.

Each envelope becomes a `CustomerIntegrationEvent` (JSON, `shared.integration`) published to a
durable topic exchange (default `customers.events`) with routing key = the public event name,
`message_id` = eventId, persistent delivery and publisher confirms. A batch is published in
log order in windows: a window's messages are all written (in order, over one channel, so the
broker keeps their order) and then every confirmation is awaited. Only when the whole batch is
confirmed does the checkpoint move.

Failures: every step runs under a timeout, so a dead or unreachable broker makes `apply` raise
`BrokerUnavailable` within `timeout` seconds instead of hanging. The connection is then thrown
away and the next `apply` connects afresh; the runner re-reads the batch from the unchanged
checkpoint, so everything not confirmed is published again (aio-pika's robust connection only
restores the connection, it never replays a failed publish). Delivery is at least once:
messages written before a failure may arrive twice, and consumers dedupe by `message_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import aio_pika
import aiormq
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection
from yarl import URL

from projectors.checkpoints import CheckpointStore
from read_side.events import EventEnvelope
from shared.integration import encode, is_published, to_integration_event

logger = logging.getLogger(__name__)

EXCHANGE = "customers.events"


class BrokerUnavailable(ConnectionError):
    """The broker did not confirm the batch (down, unreachable, too slow or refusing)."""


class BrokerRelay:
    """`ProjectionSink` that publishes integration events; nothing connects before `apply`.

    `timeout` bounds connecting, and confirming each window of `window` messages.
    `close()` closes the connection (the checkpoint store belongs to the caller).
    """

    def __init__(
        self,
        amqp_url: str,
        checkpoints: CheckpointStore,
        *,
        exchange: str = EXCHANGE,
        name: str = "broker_relay",
        timeout: float = 5.0,
        window: int = 500,
        reconnect_interval: float = 1.0,
    ) -> None:
        self.name = name
        self.amqp_url = amqp_url
        self.exchange_name = exchange
        self.checkpoints = checkpoints
        self.timeout = timeout
        self.window = max(1, window)
        self.reconnect_interval = reconnect_interval
        self.published = 0  # messages confirmed by the broker since start
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def checkpoint(self) -> int:
        """The position of the last event whose batch was confirmed (0 when none)."""
        return await self.checkpoints.get(self.name)

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Publish the batch in order, await every confirmation, then store `position`.

        Raises BrokerUnavailable (checkpoint unchanged) when the broker does not confirm, and
        TypeError/ValueError before publishing anything when an event cannot be encoded."""
        messages = [self._message(e) for e in events if is_published(e.type)]
        async with self._lock:
            await self._publish(messages)
            await self.checkpoints.set(self.name, position)

    async def publish(self, messages: Sequence[tuple[str, aio_pika.Message]]) -> None:
        """Publish (routing key, message) pairs in order and await every confirmation, for
        messages that are not stored events (the segment-membership outbox); raises
        BrokerUnavailable like `apply`."""
        async with self._lock:
            await self._publish(messages)

    async def _publish(self, messages: Sequence[tuple[str, aio_pika.Message]]) -> None:
        if not messages:
            return
        try:
            exchange = await self._ready()
            for start in range(0, len(messages), self.window):
                async with asyncio.timeout(self.timeout):
                    await _publish_window(exchange, messages[start : start + self.window])
                self.published += len(messages[start : start + self.window])
        except Exception as error:
            await self._discard()
            reason = _describe(error)
            logger.warning("broker relay %s: publish failed: %s", self.name, reason)
            raise BrokerUnavailable(reason) from error
        except BaseException:  # cancelled: leave no half-made connection behind
            await self._discard()
            raise

    async def close(self) -> None:
        """Close the broker connection (a later `apply` reconnects)."""
        async with self._lock:
            await self._discard()

    def _message(self, envelope: EventEnvelope) -> tuple[str, aio_pika.Message]:
        event = to_integration_event(envelope)
        message = aio_pika.Message(
            encode(event),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=event.event_id,
            type=event.type,
            timestamp=envelope.occurred_at,
            app_id="customer-management",
        )
        return event.type, message

    async def _ready(self) -> AbstractExchange:
        """The exchange on a confirming channel, connecting and declaring when needed."""
        async with asyncio.timeout(self.timeout):
            if self._connection is None or self._connection.is_closed:
                await self._discard()
                # What `aio_pika.connect_robust` does, but holding the connection first: a
                # connect cut short by the timeout must be closed, or its background
                # reconnect loop would live on.
                self._connection = aio_pika.RobustConnection(
                    URL(self.amqp_url).update_query(reconnect_interval=self.reconnect_interval),
                    client_properties={"connection_name": f"customers {self.name}"},
                )
                await self._connection.connect(timeout=self.timeout)
            if self._channel is None or self._exchange is None:
                self._channel = await self._connection.channel(publisher_confirms=True)
                self._exchange = await self._channel.declare_exchange(
                    self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                )
            # A robust connection that dropped between batches is restored in the
            # background: wait (within the timeout) until the channel is usable again.
            await self._channel.ready()
            return self._exchange

    async def _discard(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout):
                    await connection.close()


async def _publish_window(
    exchange: AbstractExchange, messages: Sequence[tuple[str, aio_pika.Message]]
) -> None:
    """Write every message in order, then wait until each one is acked by the broker.

    Tasks start in list order and each takes the channel's FIFO write lock before its first
    real suspension, so delivery tags, and the order on the wire, follow the list. Results
    are checked one by one: a publish whose confirmation future was cancelled or failed when
    the connection dropped must fail the batch, never pass silently."""
    tasks = [
        asyncio.create_task(exchange.publish(message, routing_key, mandatory=False))
        for routing_key, message in messages
    ]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [result for result in results if not isinstance(result, aiormq.spec.Basic.Ack)]
    if failed:
        first = failed[0]
        reason = _describe(first) if isinstance(first, BaseException) else repr(first)
        raise NotConfirmed(f"{len(failed)} of {len(results)} messages not acked ({reason})")


class NotConfirmed(Exception):
    """The broker nacked some messages, or their confirmations were lost."""


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out (connecting, or waiting for confirmations)"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
