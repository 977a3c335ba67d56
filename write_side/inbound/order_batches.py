"""Order messages in batches: the deliveries waiting at one moment are applied together
(`InboundHandlers.handle_many`: the `order.placed` ones decided on one read and stored in one
transaction, `attendee_batches`) and acknowledged with one `multiple` ack.

One order at a time, each delivery cost a task, a thread hop, its reads, a commit request
and an ack frame; a few hundred attendees a second made that most of the consumer's CPU. As
for notifications (`notification_batches`), the queue has a channel of its own (a `multiple`
ack settles only its deliveries) with a large prefetch, and batches run one after another,
so a batch always holds the channel's oldest unsettled deliveries: failures are settled first
(dead-lettered then acked, or requeued), then one ack of the highest tag applied settles the
rest. Nothing is acknowledged before its effect is stored; a crash mid-batch returns the
unsettled deliveries to the queue, and an order's record makes a redelivery a replay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from aio_pika.abc import AbstractIncomingMessage

from write_side.inbound.handlers import InboundHandlers, Unprocessable
from write_side.inbound.queues import routing_key_of

logger = logging.getLogger(__name__)
DeadLetter = Callable[[AbstractIncomingMessage, str], Awaitable[None]]


class OrderBatches:
    """Applies the deliveries of one queue in batches until cancelled."""

    def __init__(
        self,
        handlers: InboundHandlers,
        dead_letter: DeadLetter,
        *,
        max_batch: int = 128,
        retry_delay: float = 1.0,
    ) -> None:
        self._handlers = handlers
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
                logger.exception("a batch of orders failed; it will be redelivered")
                await asyncio.sleep(self._retry_delay)
                for message in batch:
                    with suppress(Exception):
                        await message.reject(requeue=True)

    async def apply(self, batch: list[AbstractIncomingMessage]) -> None:
        """Apply one batch and settle every delivery of it."""
        answers = await self._handlers.handle_many(
            [(routing_key_of(message), message.body) for message in batch]
        )
        retry: list[AbstractIncomingMessage] = []
        for message, answer in zip(batch, answers, strict=True):
            if isinstance(answer, Unprocessable):
                await self._dead_letter(message, answer.reason)
                self.dead_lettered += 1
                logger.warning("dead-lettered an order message", extra={"reason": answer.reason})
            elif answer is not None:
                logger.error(
                    "an order message failed; it will be redelivered",
                    exc_info=(type(answer), answer, answer.__traceback__),
                )
                retry.append(message)
            else:
                self.applied += 1
        if retry:
            await asyncio.sleep(self._retry_delay)
            for message in retry:
                await message.reject(requeue=True)
        settled = [message for message in batch if message not in retry]
        if settled:
            await max(settled, key=lambda m: m.delivery_tag or 0).ack(multiple=True)
