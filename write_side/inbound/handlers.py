"""Apply one inbound order or payment message through the write side's use cases.

Every effect is idempotent by its business key (the order's record, the order's status, the
payment's status), so a message delivered twice is applied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from shared.clock import iso_utc
from shared.errors import CustomerError, ServiceUnavailable
from shared.integration import (
    INBOUND_TYPES,
    InboundMessage,
    NotificationEvent,
    OrderClosed,
    OrderPlaced,
    PaymentEvent,
)
from shared.principal import Principal, Role
from write_side.application.attendee_batches import OrderRequest, process_orders
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commerce import CommerceCommands
from write_side.application.decisions import CommandMeta
from write_side.application.engagement import EngagementCommands
from write_side.domain.engagement import Communication

PLACED = "order.placed"


class Unprocessable(Exception):
    """A message that can never be applied; it goes to the dead-letter queue with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InboundHandlers:
    """Routes a message by its routing key to the matching use case."""

    attendees: AttendeeProcessing
    commerce: CommerceCommands
    engagement: EngagementCommands

    async def handle(self, routing_key: str, body: bytes) -> None:
        """Apply the message, or raise `Unprocessable` (invalid or unmatchable)."""
        message = _decode(routing_key, body)
        try:
            await self._apply(routing_key, message, _meta(routing_key, message.tenant_id))
        except CustomerError as error:
            raise unprocessable(error) from error

    async def handle_many(self, messages: Sequence[tuple[str, bytes]]) -> list[Exception | None]:
        """Apply messages in order, the `order.placed` ones in batches (`attendee_batches`):
        per message None (applied), `Unprocessable`, or the error that should requeue it."""
        answers: list[Exception | None] = [None] * len(messages)
        placed: list[tuple[int, OrderRequest]] = []
        for index, (routing_key, body) in enumerate(messages):
            try:
                if routing_key == PLACED:
                    placed.append((index, _order_request(body)))
                    continue
                await self._placed(placed, answers)
                placed = []
                await self.handle(routing_key, body)
            except Exception as error:
                answers[index] = error
        await self._placed(placed, answers)
        return answers

    async def _placed(
        self, placed: list[tuple[int, OrderRequest]], answers: list[Exception | None]
    ) -> None:
        if not placed:
            return
        results = await process_orders(self.attendees, [order for _, order in placed])
        for (index, _), result in zip(placed, results, strict=True):
            if isinstance(result, CustomerError) and not isinstance(result, ServiceUnavailable):
                answers[index] = unprocessable(result)
            elif isinstance(result, Exception):
                answers[index] = result

    async def _apply(self, routing_key: str, message: object, meta: CommandMeta) -> None:
        if isinstance(message, OrderPlaced):
            attendees = [
                AttendeeInput(a.first_name, a.last_name, a.email, a.phone, a.phone_region)
                for a in message.attendees
            ]
            if not attendees:
                raise Unprocessable("order.placed without attendees")
            await self.attendees.process(meta, message.order_id, message.placed_at, attendees)
        elif isinstance(message, OrderClosed):
            status = routing_key.removeprefix("order.")
            await self.commerce.close_order(meta, message.order_id, status)
        elif isinstance(message, NotificationEvent):
            await self.engagement.record_communication(
                meta, message.customer_id, notification(message, routing_key), follow_merges=True
            )
        elif isinstance(message, PaymentEvent):
            payment = {
                "paymentId": message.payment_id,
                "orderId": message.order_id,
                "amount": message.amount,
                "currency": message.currency,
                "status": routing_key.removeprefix("payment."),
                "at": iso_utc(message.at),
                "method": message.method,
            }
            payer = None
            if message.payer is not None:
                first, _, last = (message.payer.name or "").strip().partition(" ")
                payer = AttendeeInput(
                    first or None, last or None, message.payer.email, message.payer.phone
                )
            await self.commerce.record_payment(
                meta, payment, customer_id=message.customer_id, payer=payer
            )


def unprocessable(error: CustomerError) -> Unprocessable:
    """A use case's refusal as the reason a message is dead-lettered with."""
    details = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
    return Unprocessable(f"{error.detail} {details}".strip()[:500])


def _decode(routing_key: str, body: bytes) -> InboundMessage:
    message_type = INBOUND_TYPES.get(routing_key)
    if message_type is None:
        raise Unprocessable(f"unknown routing key {routing_key!r}")
    try:
        return msgspec.json.decode(body, type=message_type)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as error:
        raise Unprocessable(f"invalid {routing_key}: {error}"[:500]) from error


def _meta(routing_key: str, tenant_id: str) -> CommandMeta:
    return CommandMeta(Principal(f"integration:{routing_key}", tenant_id, frozenset({Role.STAFF})))


def _order_request(body: bytes) -> OrderRequest:
    """An `order.placed` body as the batch's request, or `Unprocessable`."""
    message = _decode(PLACED, body)
    assert isinstance(message, OrderPlaced)
    if not message.attendees:
        raise Unprocessable("order.placed without attendees")
    return OrderRequest(
        _meta(PLACED, message.tenant_id), message.order_id, message.placed_at,
        [AttendeeInput(a.first_name, a.last_name, a.email, a.phone, a.phone_region)
         for a in message.attendees],
    )  # fmt: skip


def notification(message: NotificationEvent, routing_key: str) -> Communication:
    """A notification status as the communication it records (its id is the notification's)."""
    status = routing_key.removeprefix("notification.")
    return Communication(
        communication_id=message.notification_id,
        source="notification",
        channel=message.channel,
        direction="outbound",
        purpose=message.purpose,
        subject=None,
        template=message.template,
        status=status,
        bounce_type=message.bounce_type if status == "bounced" else None,
        at=iso_utc(message.at),
    )
