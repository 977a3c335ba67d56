"""Orders closing, payments, billing details and invoices (write side)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.clock import iso_utc
from shared.currencies import is_invoice_currency
from shared.errors import FieldError, NotFound, ValidationFailed
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.commands import CustomerCommands
from write_side.application.decisions import CommandMeta, CommandOutcome, Decision
from write_side.domain.billing import normalize_billing
from write_side.domain.claims import InvoiceSequence, keyed_id
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType


class CommerceCommands:
    """Use cases fed by the order and payment systems, and billing/invoicing by staff."""

    def __init__(self, commands: CustomerCommands, attendees: AttendeeProcessing) -> None:
        self._commands = commands
        self._attendees = attendees
        self._claims = commands.claims

    async def close_order(self, meta: CommandMeta, order_id: str, status: str) -> int:
        """`order.completed` / `order.cancelled`: close the order on every customer it touched."""
        tenant = meta.principal.tenant_id

        def decide(_: bool) -> Decision:
            record = self._claims.order_record(tenant, order_id)
            if record is None:
                raise NotFound(f"Order {order_id} was never placed here.")
            ids = list(dict.fromkeys(result["customerId"] for result in record.results))
            customers = [self._commands.get(tenant, uuid.UUID(i)) for i in ids]
            for customer in customers:
                customer.close_order(actor=meta.principal.subject, order_id=order_id, status=status)
            decision = Decision(customers[0], status=200, result=len(customers))
            for customer in customers[1:]:
                decision.events.extend(customer.collect_events())
            return decision

        outcome = await self._commands.execute(meta, decide, lock=("order", tenant, order_id))
        return int(outcome.result)

    async def record_payment(
        self,
        meta: CommandMeta,
        payment: dict[str, Any],
        *,
        customer_id: str | None,
        payer: AttendeeInput | None,
    ) -> str:
        """Link a payment status to its customer (by id, by payer match, or by its order)."""
        tenant = meta.principal.tenant_id
        payer_profile = self._attendees.normalize([payer])[0] if payer else None

        def decide(_: bool) -> Decision:
            customer = self._payment_owner(meta, payment, customer_id, payer_profile)
            customer.record_payment(actor=meta.principal.subject, payment=payment)
            decision = Decision(customer, status=200, result=str(customer.id))
            if customer.version == 0 or not self._commands.find(tenant, customer.id):
                if customer.email:
                    self._claims.claim_email(decision, customer.email)
                if customer.profile.get("phone"):
                    self._claims.index_phone(decision, customer)
            return decision

        outcome = await self._commands.execute(
            meta, decide, lock=("payment", tenant, payment["paymentId"])
        )
        return str(outcome.result)

    def _payment_owner(
        self,
        meta: CommandMeta,
        payment: dict[str, Any],
        customer_id: str | None,
        payer: dict[str, Any] | None,
    ) -> Customer:
        tenant = meta.principal.tenant_id
        if customer_id:
            try:
                return self._commands.get(tenant, uuid.UUID(customer_id))
            except ValueError:
                raise NotFound("The payment names an unknown customer.") from None
        if payer:
            matched, _, _ = self._attendees.match(tenant, payer, {})
            if matched is not None:
                return matched
            return Customer.register(
                tenant_id=tenant,
                actor=meta.principal.subject,
                customer_type=CustomerType.NEW,
                profile=payer,
            )
        record = self._claims.order_record(tenant, payment.get("orderId") or "")
        if record is None:
            raise ValidationFailed("The payment names no customer, payer or known order.")
        return self._commands.get(tenant, uuid.UUID(record.results[0]["customerId"]))

    async def set_billing(
        self, meta: CommandMeta, customer_id: uuid.UUID, raw: dict[str, Any]
    ) -> CommandOutcome:
        """Replace the billing details (validated; 422 names every bad field)."""
        billing = normalize_billing(raw)

        def decide(_: bool) -> Decision:
            customer = self._commands.get(meta.principal.tenant_id, customer_id)
            customer.check_version(meta.expected_version)
            customer.set_billing(actor=meta.principal.subject, billing=billing)
            return Decision(customer, status=200)

        return await self._commands.execute(meta, decide, lock=customer_id)

    async def issue_invoice(
        self, meta: CommandMeta, customer_id: uuid.UUID, currency: str | None = None
    ) -> CommandOutcome:
        """Invoice the settled payments not invoiced yet in one currency (`currency`, or the
        only one waiting), with the tenant's next number; 422 for a code outside ISO 4217."""
        if currency is not None and not is_invoice_currency(currency):
            raise ValidationFailed(
                "Unknown currency.",
                errors=[FieldError("currency", "an ISO 4217 code in capitals, e.g. EUR")],
            )
        tenant = meta.principal.tenant_id
        sequence_id = keyed_id(b"invoices", tenant, "invoice-sequence")

        def decide(_: bool) -> Decision:
            customer = self._commands.get(tenant, customer_id)
            sequence: Any = self._claims.get(sequence_id) or InvoiceSequence(
                sequence_id=sequence_id
            )
            number = sequence.last + 1
            invoice = customer.issue_invoice(
                actor=meta.principal.subject,
                number=number,
                issued_at=iso_utc(self._commands.now()),
                currency=currency,
            )
            sequence.issue(number=number, customer_id=str(customer_id))
            decision = Decision(customer, status=201, result=invoice)
            decision.events.extend(sequence.collect_events())
            return decision

        return await self._commands.execute(meta, decide, lock=("invoices", tenant))
