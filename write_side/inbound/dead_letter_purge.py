"""An erasure also reaches the inbound dead-letter queues.

A message that could not be applied is kept intact in `<queue>.dlq` for the operator, and it
may carry an attendee's or payer's email and phone in clear. It belongs to no customer, so
crypto-shredding cannot reach it: before a customer is erased, every dead-lettered message of
the same tenant that names the customer's email, phone or id is removed (the others are put
back, at the end of their queue). RabbitMQ cannot delete one message in place, so the purge
takes each message once (as many as the queue held when it started) and acknowledges it only
after its copy, if kept, was confirmed (a crash in between leaves a duplicate, never a loss).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from write_side.application.privacy import Identity
from write_side.inbound.queues import QUORUM, copied_headers, ensure_quorum

_NOT_DIGITS = re.compile(r"\D")
_MIN_PHONE_DIGITS = 8  # a shorter tail of digits could name someone else
_WINDOW = 200  # messages in flight per confirmation round


def naming(identity: Identity) -> Callable[[bytes], bool]:
    """A test of a message body: True when it is about this customer (same tenant, and one of
    its attendees or its payer has the email or phone, or it names the customer's id)."""
    email = (identity.email or "").casefold()
    phone = _NOT_DIGITS.sub("", identity.phone or "")

    def same_phone(value: str) -> bool:
        digits = _NOT_DIGITS.sub("", value)
        shorter = min(len(digits), len(phone))
        return shorter >= _MIN_PHONE_DIGITS and (digits.endswith(phone) or phone.endswith(digits))

    def about(body: bytes) -> bool:
        try:
            message = json.loads(body)
        except ValueError:  # not JSON: compare the raw text
            text = body.decode("utf-8", "replace").casefold()
            return bool(email and email in text) or identity.customer_id in text
        if not isinstance(message, dict) or message.get("tenantId") != identity.tenant_id:
            return False
        if message.get("customerId") == identity.customer_id:
            return True
        people = [*(message.get("attendees") or []), message.get("payer") or {}]
        return any(
            (email and str(person.get("email") or "").casefold() == email)
            or (phone and same_phone(str(person.get("phone") or "")))
            for person in people
            if isinstance(person, dict)
        )

    return about


async def purge(
    url: str, queues: Sequence[str], matches: Callable[[bytes], bool], step_seconds: float = 10.0
) -> int:
    """Remove the messages `matches` accepts from these queues; how many were removed. Each
    broker step fails after `step_seconds`."""
    removed = 0
    async with asyncio.timeout(step_seconds):
        connection = await aio_pika.connect(url, timeout=step_seconds)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=_WINDOW)
        for name in queues:
            async with asyncio.timeout(step_seconds):
                await ensure_quorum(connection, name)
                queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
            count = queue.declaration_result.message_count or 0
            if count:
                removed += await _sift(channel, queue, count, matches, step_seconds)
    return removed


async def _sift(
    channel: AbstractChannel,
    queue: AbstractQueue,
    count: int,
    matches: Callable[[bytes], bool],
    step_seconds: float,
) -> int:
    """Take the `count` messages the queue held, in windows: put back (confirmed) those that do
    not match, then acknowledge the whole window. Copies land behind the originals, so the
    first `count` deliveries are the originals."""
    removed, seen, window, copies = 0, 0, [], []
    async with queue.iterator() as deliveries:
        while seen < count:
            async with asyncio.timeout(step_seconds):
                message = await deliveries.__anext__()
            seen += 1
            window.append(message)
            if matches(message.body):
                removed += 1
            else:
                copies.append(channel.default_exchange.publish(_copy(message), queue.name))
            if len(window) >= _WINDOW or seen == count:
                async with asyncio.timeout(step_seconds):
                    await asyncio.gather(*copies)
                    for taken in window:
                        await taken.ack()
                window, copies = [], []
    return removed


def _copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    return aio_pika.Message(
        body=message.body,
        headers=copied_headers(message),
        message_id=message.message_id,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
