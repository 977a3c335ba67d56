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

import logging

from aio_pika.abc import AbstractIncomingMessage

from write_side.inbound.delivery_batches import DeadLetter, DeliveryBatches
from write_side.inbound.handlers import InboundHandlers, Unprocessable
from write_side.inbound.queues import routing_key_of

logger = logging.getLogger(__name__)


class OrderBatches(DeliveryBatches):
    """Applies the deliveries of the orders queue in batches until cancelled."""

    carries = "orders"

    def __init__(
        self,
        handlers: InboundHandlers,
        dead_letter: DeadLetter,
        *,
        max_batch: int = 128,
        retry_delay: float = 1.0,
    ) -> None:
        super().__init__(dead_letter, max_batch=max_batch, retry_delay=retry_delay)
        self._handlers = handlers

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
        await self.settle(batch, retry)
