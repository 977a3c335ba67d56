"""An erasure also reaches the inbound dead-letter queues.

A message that could not be applied is kept intact in `<queue>.dlq` for the operator, and it
may carry an attendee's or payer's email and phone in clear. It belongs to no customer, so
crypto-shredding cannot reach it: before a customer is erased, every dead-lettered message of
the same tenant that names the customer's email, phone or id is removed (the others are put
back, at the end of their queue). RabbitMQ cannot delete one message in place, so the purge
takes each message once (as many as the queue held when it started) and acknowledges it only
after its copy, if kept, was confirmed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import aio_pika

from write_side.application.privacy import Identity

_NOT_DIGITS = re.compile(r"\D")
_MIN_PHONE_DIGITS = 8  # a shorter tail of digits could name someone else


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


async def purge(url: str, queues: Sequence[str], matches: Callable[[bytes], bool]) -> int:
    """Remove the messages `matches` accepts from these queues; how many were removed."""
    removed = 0
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for name in queues:
            queue = await channel.declare_queue(name, durable=True)
            for _ in range(queue.declaration_result.message_count or 0):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                if matches(message.body):
                    removed += 1
                else:
                    await channel.default_exchange.publish(_copy(message), routing_key=name)
                await message.ack()
    return removed


def _copy(message: Any) -> aio_pika.Message:
    return aio_pika.Message(
        body=message.body,
        headers=dict(message.headers or {}),
        message_id=message.message_id,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def purge_with_timeout(
    url: str, queues: Sequence[str], identity: Identity, seconds: float = 30.0
) -> int:
    """`purge` of the messages naming `identity`, failing after `seconds`."""
    async with asyncio.timeout(seconds):
        return await purge(url, queues, naming(identity))
