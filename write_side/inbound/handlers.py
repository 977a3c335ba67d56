"""Apply one inbound order or payment message through the write side's use cases.

Every effect is idempotent by its business key (the order's record, the order's status, the
payment's status), so a message delivered twice is applied once.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from shared.clock import iso_utc
from shared.errors import CustomerError
from shared.integration import (
    INBOUND_TYPES,
    NotificationEvent,
    OrderClosed,
    OrderPlaced,
    PaymentEvent,
)
from shared.principal import Principal, Role
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commerce import CommerceCommands
from write_side.application.decisions import CommandMeta
from write_side.application.engagement import EngagementCommands
from write_side.domain.engagement import Communication


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
        message_type = INBOUND_TYPES.get(routing_key)
        if message_type is None:
            raise Unprocessable(f"unknown routing key {routing_key!r}")
        try:
            message = msgspec.json.decode(body, type=message_type)
        except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as error:
            raise Unprocessable(f"invalid {routing_key}: {error}"[:500]) from error
        meta = CommandMeta(
            Principal(f"integration:{routing_key}", message.tenant_id, frozenset({Role.STAFF}))
        )
        try:
            await self._apply(routing_key, message, meta)
        except CustomerError as error:
            details = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
            raise Unprocessable(f"{error.detail} {details}".strip()[:500]) from error

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
