"""The membership outbox reaches RabbitMQ: every change is published as `segment.member_added`
or `segment.member_removed` in the AsyncAPI document's shape, confirmed before the outbox
forgets it, with a `message_id` stable per change."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aio_pika

from projectors.broker_relay import BrokerRelay
from projectors.checkpoints import SQLiteCheckpointStore
from projectors.segment_jobs import relay_once
from read_side.segments.projection import SegmentMembershipProjection
from read_side.segments.store import MembershipStore
from tests.e2e.test_integration_events_contract import document, payload_validator
from tests.unit.test_segment_membership_property import START, World


async def test_membership_changes_are_published_in_the_contract_shape(
    tmp_path: Path, amqp_url: str, unique_name: str
) -> None:
    store = MembershipStore(tmp_path / "s.db", SegmentMembershipProjection(), clock=lambda: START)
    world = World(store)
    await store.activate()
    await store.apply(world.envelopes([e for c in world.customers for e in c.collect_events()]),
                      world.position)  # fmt: skip
    await store.apply([world.segment_event("defined", "4c3f5a8e-0000-4000-8000-000000000001",
                                           {"q": "ann"})], world.position)  # fmt: skip
    ann = world.customers[0]
    ann.update(actor="bob", changes={"firstName": "Zed", "email": "zed@x.org"}, customer_type=None)
    await store.apply(world.envelopes(list(ann.collect_events())), world.position)
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        unique_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(unique_name, exclusive=True)
    await queue.bind(exchange, "segment.#")
    relay = BrokerRelay(amqp_url, SQLiteCheckpointStore(tmp_path / "c.db"), exchange=unique_name)
    try:
        assert await relay_once(store, relay) == 2
        assert await relay_once(store, relay) == 0  # confirmed, then forgotten
        received: list[tuple[str | None, dict[str, Any]]] = []
        for _ in range(200):
            message = await queue.get(fail=False)
            if message is None:
                if len(received) == 2:
                    break
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            received.append((message.message_id, json.loads(message.body)))
    finally:
        await relay.close()
        await channel.exchange_delete(unique_name)
        await connection.close()
        await store.close()
    assert [body["type"] for _, body in received] == [
        "segment.member_added", "segment.member_removed"
    ]  # fmt: skip
    doc = document()
    for message_id, body in received:
        assert message_id == body["eventId"]
        assert body["customerId"] == str(ann.id)
        assert body["data"] == {"segmentId": "4c3f5a8e-0000-4000-8000-000000000001"}
        assert list(payload_validator(doc, body["type"]).iter_errors(body)) == []
