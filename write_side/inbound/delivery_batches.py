"""What the batched consumers of one queue share (`order_batches`, `notification_batches`):
deliveries waiting at one moment are taken together, applied, and settled with at most one
`multiple` ack.

Batches run one after another, so a batch always holds the channel's oldest unsettled
deliveries: the failures are settled first (dead-lettered then acked, or requeued after a
pause), then one ack of the highest tag applied settles the rest. Nothing is acknowledged
before its effect is stored; a crash mid-batch returns the unsettled deliveries to the queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from aio_pika.abc import AbstractIncomingMessage

logger = logging.getLogger(__name__)
DeadLetter = Callable[[AbstractIncomingMessage, str], Awaitable[None]]


class DeliveryBatches:
    """Takes the deliveries of one queue in batches until cancelled; subclasses `apply`."""

    #: what the queue carries, for the log line of a failed batch
    carries = "messages"

    def __init__(self, dead_letter: DeadLetter, *, max_batch: int, retry_delay: float) -> None:
        self._dead_letter = dead_letter
        self._max_batch = max_batch
        self._retry_delay = retry_delay
        self._waiting: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self.applied = 0
        self.dead_lettered = 0

    async def deliver(self, message: AbstractIncomingMessage) -> None:
        """The consumer's callback: queue the delivery for the next batch."""
        self._waiting.put_nowait(message)

    async def run(self) -> None:
        """Take what is waiting (at least one delivery), apply it, repeat."""
        while True:
            batch = [await self._waiting.get()]
            while len(batch) < self._max_batch and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            try:
                await self.apply(batch)
            except Exception:  # the dead-letter queue or the broker is down: try again later
                logger.exception("a batch of %s failed; it will be redelivered", self.carries)
                await asyncio.sleep(self._retry_delay)
                for message in batch:
                    with suppress(Exception):
                        await message.reject(requeue=True)

    async def apply(self, batch: list[AbstractIncomingMessage]) -> None:
        """Apply one batch and settle every delivery of it (`settle`)."""
        raise NotImplementedError

    async def settle(
        self, batch: list[AbstractIncomingMessage], retry: list[AbstractIncomingMessage]
    ) -> None:
        """Requeue `retry` after the pause, then ack the rest of `batch` with one ack."""
        if retry:
            await asyncio.sleep(self._retry_delay)
            for message in retry:
                await message.reject(requeue=True)
        settled = [message for message in batch if message not in retry]
        if settled:
            await max(settled, key=lambda m: m.delivery_tag or 0).ack(multiple=True)
