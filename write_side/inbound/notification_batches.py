"""Notifications in batches: the deliveries waiting at one moment are applied together, one
command per customer, all decided on one worker-thread call over customers kept in memory and
brought up to date in one query (`command_batches`, `customer_cache`), stored in one
transaction, and acknowledged with one `multiple` ack.

A sender may publish a thousand statuses a second, mostly of customers who got several; applied
one command per message, each replays the customer's stream and waits for its own commit. The
queue has a channel of its own (so a `multiple` ack settles only this queue's deliveries) with
a large prefetch. Batches run one after another, so a batch always holds the oldest unsettled
deliveries of the channel: a failure is settled first (dead-lettered then acked, or requeued),
then one ack of the highest tag applied settles the rest. Nothing is acked before its effect
is stored; a crash mid-batch returns the unsettled deliveries to the queue, and the aggregate
records each (notificationId, status) once, so a redelivery records nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress

import msgspec
from aio_pika.abc import AbstractIncomingMessage

from shared.errors import CustomerError, ServiceUnavailable
from shared.integration import INBOUND_TYPES, NotificationEvent
from shared.principal import Principal, Role
from write_side.application.decisions import CommandMeta, CommandOutcome
from write_side.application.engagement import EngagementCommands
from write_side.domain.engagement import Communication
from write_side.inbound.delivery_batches import DeadLetter, DeliveryBatches
from write_side.inbound.handlers import Unprocessable, notification
from write_side.inbound.queues import routing_key_of

logger = logging.getLogger(__name__)
Group = list[tuple[AbstractIncomingMessage, Communication]]


class NotificationBatches(DeliveryBatches):
    """Applies the deliveries of the notifications queue in batches until cancelled."""

    carries = "notifications"

    def __init__(
        self,
        engagement: EngagementCommands,
        dead_letter: DeadLetter,
        *,
        max_batch: int = 500,
        retry_delay: float = 1.0,
    ) -> None:
        super().__init__(dead_letter, max_batch=max_batch, retry_delay=retry_delay)
        self._engagement = engagement

    async def apply(self, batch: list[AbstractIncomingMessage]) -> None:
        """Apply one batch and settle every delivery of it."""
        groups: dict[tuple[str, uuid.UUID], Group] = {}
        for message in batch:
            try:
                event = _decode(message)
            except Unprocessable as error:
                await self._refuse([message], error.reason)
                continue
            status = notification(event, routing_key_of(message))
            groups.setdefault((event.tenant_id, event.customer_id), []).append((message, status))
        await self.settle(batch, await self._record(groups))

    async def _record(
        self, groups: dict[tuple[str, uuid.UUID], Group]
    ) -> list[AbstractIncomingMessage]:
        """Record every customer's notifications together; dead-letter the groups refused
        (unknown or erased customer), and answer the deliveries to requeue (a group whose
        store failed)."""
        retry: list[AbstractIncomingMessage] = []
        for keys in _rounds(list(groups)):
            answers = await self._engagement.record_communication_batches(
                [(_meta(tenant_id), customer_id, [c for _, c in groups[(tenant_id, customer_id)]])
                 for tenant_id, customer_id in keys]
            )  # fmt: skip
            retry += await self._settle(groups, keys, answers)
        return retry

    async def _settle(
        self,
        groups: dict[tuple[str, uuid.UUID], Group],
        keys: list[tuple[str, uuid.UUID]],
        answers: list[CommandOutcome[list[bool]] | Exception],
    ) -> list[AbstractIncomingMessage]:
        retry: list[AbstractIncomingMessage] = []
        for key, answer in zip(keys, answers, strict=True):
            messages = [message for message, _ in groups[key]]
            if isinstance(answer, CustomerError) and not isinstance(answer, ServiceUnavailable):
                details = "; ".join(f"{e.field}: {e.message}" for e in answer.errors)
                await self._refuse(messages, f"{answer.detail} {details}".strip()[:500])
            elif isinstance(answer, Exception):  # the store is away or busy: retry later
                logger.error(
                    "notifications failed; they will be redelivered",
                    exc_info=(type(answer), answer, answer.__traceback__),
                )
                retry += messages
            else:
                self.applied += len(messages)
        return retry

    async def _refuse(self, messages: list[AbstractIncomingMessage], reason: str) -> None:
        """Dead-letter (the ack follows with the batch's)."""
        for message in messages:
            await self._dead_letter(message, reason)
            self.dead_lettered += 1
            logger.warning("dead-lettered a notification", extra={"reason": reason})


def _rounds(keys: list[tuple[str, uuid.UUID]]) -> list[list[tuple[str, uuid.UUID]]]:
    """The keys in rounds naming each customer id once (a batch command per customer): an id
    under two tenants, one of them wrong, is decided in a second round."""
    rounds: list[list[tuple[str, uuid.UUID]]] = []
    named: list[set[uuid.UUID]] = []  # the ids of each round (a scan of each round was 1%)
    for key in keys:
        index = next((i for i, ids in enumerate(named) if key[1] not in ids), len(rounds))
        if index == len(rounds):
            rounds.append([])
            named.append(set())
        rounds[index].append(key)
        named[index].add(key[1])
    return rounds


def _meta(tenant_id: str) -> CommandMeta:
    return CommandMeta(Principal("integration:notification", tenant_id, frozenset({Role.STAFF})))


def _decode(message: AbstractIncomingMessage) -> NotificationEvent:
    routing_key = routing_key_of(message)
    if INBOUND_TYPES.get(routing_key) is not NotificationEvent:
        raise Unprocessable(f"unknown routing key {routing_key!r}")
    try:
        return msgspec.json.decode(message.body, type=NotificationEvent)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as error:
        raise Unprocessable(f"invalid {routing_key}: {error}"[:500]) from error


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a batcher's task (its unsettled deliveries return to the queue with the
    connection)."""
    if task is None:
        return
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
