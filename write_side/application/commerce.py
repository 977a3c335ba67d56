"""Orders closing, payments, billing details and invoices (write side)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import msgspec

from shared.clock import iso_utc
from shared.currencies import is_invoice_currency
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.events.values import Invoice
from shared.json_types import JSONObject
from write_side.application.attendees import AttendeeInput, AttendeeProcessing
from write_side.application.decisions import (
    CommandMeta,
    CommandOutcome,
    Decision,
    Event,
    Outcome,
)
from write_side.application.executor import CommandExecutor
from write_side.application.loyalty_earning import LoyaltyEarning
from write_side.domain.billing import normalize_billing
from write_side.domain.claims import InvoiceSequence, keyed_id
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType


class CommerceCommands:
    """Use cases fed by the order and payment systems, and billing/invoicing by staff."""

    def __init__(self, executor: CommandExecutor, attendees: AttendeeProcessing) -> None:
        self._executor = executor
        self._repository = executor.repository
        self._claims = executor.claims
        self._attendees = attendees
        self._loyalty = LoyaltyEarning(executor.repository)

    async def close_order(self, meta: CommandMeta, order_id: str, status: str) -> int:
        """`order.completed` / `order.cancelled`: close the order on every customer it touched."""
        tenant = meta.principal.tenant_id

        def decide(_: bool) -> Decision[int]:
            record = self._claims.order_record(tenant, order_id)
            if record is None:
                raise NotFound(f"Order {order_id} was never placed here.")
            ids = list(dict.fromkeys(result["customerId"] for result in record.results))
            found = [self._repository.current(tenant, uuid.UUID(i)) for i in ids]
            customers = list({c.id: c for c in found}.values())  # merged ones: their target
            ledgers: list[Event] = []
            for customer in customers:
                order = customer.orders.get(order_id)
                was_open = order is not None and order.is_open
                customer.close_order(actor=meta.principal.subject, order_id=order_id, status=status)
                if was_open and status == "completed":
                    ledgers += self._loyalty.on_order_completed(
                        customer, order_id, meta.principal.subject, self._executor.now()
                    )
            others = [event for other in customers[1:] for event in other.collect_events()]
            events = (*others, *ledgers)
            return Decision(customers[0], Outcome.CHANGED, events, result=len(customers))

        outcome = await self._executor.run(meta, decide, lock=("order", tenant, order_id))
        return outcome.answer()

    async def record_payment(
        self,
        meta: CommandMeta,
        payment: JSONObject,
        *,
        customer_id: str | None,
        payer: AttendeeInput | None,
    ) -> str:
        """Link a payment status to its customer (by id, by payer match, or by its order).
        A payer nobody matches becomes a new customer, who takes its email and phone."""
        tenant = meta.principal.tenant_id
        payer_profile = self._attendees.normalize([payer])[0] if payer else None

        def decide(_: bool) -> Decision[str]:
            customer, created = self._payment_owner(meta, payment, customer_id, payer_profile)
            payment_id = str(payment["paymentId"])
            known = customer.payments.get(payment_id)
            previous = known.status if known else None
            customer.record_payment(actor=meta.principal.subject, payment=payment)
            ledger = self._loyalty.on_payment(
                customer, payment_id, previous, meta.principal.subject, self._executor.now()
            )
            events: list[Event] = []
            rows: dict[uuid.UUID, uuid.UUID | None] = {}
            if created:
                if customer.email:
                    events = self._claims.claim_email(customer, customer.email)
                if customer.profile.get("phone"):
                    rows[customer.id] = self._claims.phone_row(customer)
            outcome = Outcome.CREATED if created else Outcome.CHANGED
            events += ledger
            return Decision(customer, outcome, tuple(events), rows, result=str(customer.id))

        outcome = await self._executor.run(
            meta, decide, lock=("payment", tenant, payment["paymentId"])
        )
        return outcome.answer()

    def _payment_owner(
        self,
        meta: CommandMeta,
        payment: JSONObject,
        customer_id: str | None,
        payer: JSONObject | None,
    ) -> tuple[Customer, bool]:
        """The customer the payment belongs to, and whether it was registered just now."""
        tenant = meta.principal.tenant_id
        if customer_id:
            try:
                return self._repository.current(tenant, uuid.UUID(customer_id)), False
            except ValueError:
                raise NotFound("The payment names an unknown customer.") from None
        if payer:
            matched, _, _ = self._attendees.match(tenant, payer, {})
            if matched is not None:
                return matched, False
            registered = Customer.register(
                tenant_id=tenant,
                actor=meta.principal.subject,
                customer_type=CustomerType.NEW,
                profile=payer,
            )
            return registered, True
        record = self._claims.order_record(tenant, payment.get("orderId") or "")
        if record is None:
            raise ValidationFailed("The payment names no customer, payer or known order.")
        first = uuid.UUID(record.results[0]["customerId"])
        return self._repository.current(tenant, first), False

    async def set_billing(
        self, meta: CommandMeta, customer_id: uuid.UUID, raw: JSONObject
    ) -> CommandOutcome[None]:
        """Replace the billing details (validated; every bad field is named)."""
        billing = normalize_billing(raw)

        def decide(_: bool) -> Decision[None]:
            tenant = meta.principal.tenant_id
            customer = self._repository.load(tenant, customer_id, meta.expected_version)
            customer.set_billing(actor=meta.principal.subject, billing=billing)
            return Decision(customer)

        return await self._executor.run(meta, decide, lock=customer_id)

    async def issue_invoice(
        self, meta: CommandMeta, customer_id: uuid.UUID, currency: str | None = None
    ) -> CommandOutcome[JSONObject]:
        """Invoice the settled payments not invoiced yet in one currency (`currency`, or the
        only one waiting), with the tenant's next number; refused outside ISO 4217."""
        if currency is not None and not is_invoice_currency(currency):
            raise ValidationFailed(
                "Unknown currency.",
                errors=[FieldError("currency", "an ISO 4217 code in capitals, e.g. EUR")],
            )
        tenant = meta.principal.tenant_id
        sequence_id = keyed_id(b"invoices", tenant, "invoice-sequence")

        def decide(_: bool) -> Decision[JSONObject]:
            customer = self._repository.get(tenant, customer_id)
            sequence = self._repository.aggregate(sequence_id, InvoiceSequence)
            sequence = sequence or InvoiceSequence(sequence_id=sequence_id)
            number = sequence.last + 1
            invoice = customer.issue_invoice(
                actor=meta.principal.subject,
                number=number,
                issued_at=iso_utc(self._executor.now()),
                currency=currency,
            )
            sequence.issue(number=number, customer_id=str(customer_id))
            events = tuple(sequence.collect_events())
            return Decision(customer, Outcome.CREATED, events, result=_as_json(invoice))

        outcome = await self._executor.run(meta, decide, lock=("invoices", tenant))
        if outcome.replayed:
            return replace(outcome, result=_issued_invoice(outcome.customer))
        return outcome


def _issued_invoice(customer: Customer) -> JSONObject:
    """The invoice a replayed command issued. The idempotency record names the customer's
    version after it, and at that version the newest invoice is the one it issued."""
    if not customer.invoices:
        raise Conflict("The invoice issued under this Idempotency-Key is no longer available.")
    return _as_json(customer.invoices[max(customer.invoices)])


def _as_json(invoice: Invoice) -> JSONObject:
    """The invoice as the HTTP layer answers it (its stored JSON form)."""
    body: JSONObject = msgspec.to_builtins(invoice)
    return body
