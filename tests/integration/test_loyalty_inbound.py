"""Points from a real RabbitMQ: a payment earns, a refund reverses, a completed order earns per
visit, and a message delivered twice (or re-delivered after a crash before its ack) earns
once — the ledger's entry is saved in the customer's transaction, under an id derived from
the payment."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from shared.principal import Principal, Role
from tests.integration.broker_fixtures import customers_of, publish, until
from tests.integration.test_inbound_consumer import ORDER
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.loyalty import LoyaltyCommands
from write_side.domain.loyalty import ledger_id
from write_side.domain.loyalty_ledger import LoyaltyLedger
from write_side.inbound.consumer import InboundConsumer
from write_side.inbound.handlers import InboundHandlers

ADMIN = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))
PROGRAM = {"pointsPerUnit": {"EUR": 2}, "pointsPerVisit": 7, "expiryDays": 30, "tiers": []}


async def customer_with_program(commands: CustomerCommands) -> uuid.UUID:
    await LoyaltyCommands(commands.executor).set_program(ADMIN, PROGRAM)
    created = await commands.create(ADMIN, ProfileInput({"firstName": "Ann"}))
    return created.customer.id


def ledger(commands: CustomerCommands, customer_id: uuid.UUID) -> LoyaltyLedger:
    found = commands.executor.repository.aggregate(ledger_id(customer_id), LoyaltyLedger)
    assert found is not None
    return found


def payment(customer_id: uuid.UUID, amount: int = 1050) -> dict[str, Any]:
    return {"paymentId": "p-1", "tenantId": "acme", "customerId": str(customer_id),
            "amount": amount, "currency": "EUR", "at": "2026-11-20T10:00:00Z"}  # fmt: skip


async def test_a_payment_delivered_twice_earns_once_and_its_refund_reverses_it(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    ann = await customer_with_program(commands)
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    try:
        exchange = subscriptions[1].exchange
        await publish(broker, exchange, "payment.succeeded", payment(ann), "m-1")
        await publish(broker, exchange, "payment.succeeded", payment(ann), "m-1")  # again
        await publish(broker, exchange, "payment.succeeded", payment(ann), "m-1b")  # resent
        await until(lambda: consumer.applied == 3)
        assert (ledger(commands, ann).balance, ledger(commands, ann).lifetime_points) == (21, 21)
        await publish(broker, exchange, "payment.refunded", payment(ann), "m-2")
        await publish(broker, exchange, "payment.refunded", payment(ann), "m-2")
        await until(lambda: consumer.applied == 5)
    finally:
        await consumer.stop()
    final = ledger(commands, ann)
    assert (final.balance, final.lifetime_points, final.lots) == (0, 0, [])
    kinds = [
        type(e).__name__ for e in commands.executor.app.repository.event_store.get(ledger_id(ann))
    ]
    assert kinds == ["Opened", "PointsEarned", "PointsReversed"]


async def test_a_crash_between_store_and_ack_earns_once(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    ann = await customer_with_program(commands)
    stored = asyncio.Event()

    class CrashAfterStore:
        async def handle(self, routing_key: str, body: bytes) -> None:
            await handlers.handle(routing_key, body)
            stored.set()
            await asyncio.sleep(3600)  # the process "dies" before acknowledging

    crashing = InboundConsumer(amqp_url, CrashAfterStore(), subscriptions=subscriptions)  # type: ignore[arg-type]
    await crashing.start()
    await publish(broker, subscriptions[1].exchange, "payment.succeeded", payment(ann), "m-c")
    await asyncio.wait_for(stored.wait(), 10)
    await crashing.stop()
    survivor = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await survivor.start()
    try:
        await until(lambda: survivor.applied == 1)
    finally:
        await survivor.stop()
    assert ledger(commands, ann).balance == 21


async def test_a_completed_order_earns_points_per_visit_for_each_attendee_once(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    await LoyaltyCommands(commands.executor).set_program(ADMIN, PROGRAM)
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    try:
        exchange = subscriptions[0].exchange
        await publish(broker, exchange, "order.placed", ORDER, "o-placed")
        closed = {"orderId": "o-1", "tenantId": "acme"}
        for _ in range(2):
            await publish(broker, exchange, "order.completed", closed, "o-done")
        await until(lambda: consumer.applied == 3)
    finally:
        await consumer.stop()
    people = customers_of(commands)
    assert len(people) == 2
    assert [ledger(commands, p.id).balance for p in people] == [7, 7]
