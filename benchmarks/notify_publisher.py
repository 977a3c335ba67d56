"""The notifications benchmark's publisher: a process of its own with its own connection, so
publishing competes with the service for the CPU only, not for its event loop.

`run(url, customers, rate, total, prefix)` publishes `total` `notification.sent` messages to
`notifications.events` at `rate` per second (spread over `customers`) and returns when each was
published (wall clock, `time.time()`) by notification id, and the rate reached.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from typing import Any

import aio_pika


async def _publish(
    url: str, customers: list[str], rate: int, total: int, prefix: str
) -> tuple[dict[str, float], float]:
    published: dict[str, float] = {}
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=False)
        exchange = await channel.declare_exchange(
            "notifications.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        started = time.perf_counter()
        for index in range(total):
            due = started + index / rate
            if (wait := due - time.perf_counter()) > 0.001:
                await asyncio.sleep(wait)
            nid = f"{prefix}-{index}"
            body = {"notificationId": nid, "tenantId": "acme", "channel": "email",
                    "customerId": customers[index % len(customers)], "purpose": "invoice",
                    "template": "t", "at": "2026-12-01T10:00:00Z"}  # fmt: skip
            message = aio_pika.Message(
                json.dumps(body).encode(), message_id=nid,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )  # fmt: skip
            published[nid] = time.time()
            await exchange.publish(message, routing_key="notification.sent")
        sent = total / (time.perf_counter() - started)
    return published, sent


def _main(url: str, customers: list[str], rate: int, total: int, prefix: str, out: Any) -> None:
    out.put(asyncio.run(_publish(url, customers, rate, total, prefix)))


async def run(
    url: str, customers: list[str], rate: int, total: int, prefix: str
) -> tuple[dict[str, float], float]:
    """Publish from a fresh process; (published at, by notification id) and messages/s."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_main, args=(url, customers, rate, total, prefix, out))
    process.start()
    result: tuple[dict[str, float], float] = await asyncio.to_thread(out.get)
    await asyncio.to_thread(process.join)
    return result
