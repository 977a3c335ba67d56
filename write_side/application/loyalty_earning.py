"""Points earned and reversed inside the command that records a payment or closes an order.

Called from within a decision (`CommerceCommands`): the ledger's events are returned to be saved
**in the same transaction** as the customer's `PaymentRecorded` / `OrderClosed`, so there is
no moment where one is stored and the other is not, and a message delivered twice finds both
stored (the customer's status no longer moves, and the ledger knows the entry id derived from
the payment or order). A tier reached is the customer's own pending event.
"""

from __future__ import annotations

from datetime import datetime

from shared.events.values import PaymentStatus
from write_side.application.decisions import Event
from write_side.application.repository import CustomerRepository
from write_side.domain.customer import Customer
from write_side.domain.loyalty import Program, ledger_id, next_tier, program_id
from write_side.domain.loyalty_ledger import LoyaltyLedger, LoyaltyProgram
from write_side.domain.profile import CustomerState


class LoyaltyEarning:
    """Reads the tenant's program and the customer's ledger, and decides entries."""

    def __init__(self, repository: CustomerRepository) -> None:
        self._repository = repository

    def program(self, tenant_id: str) -> Program | None:
        """The tenant's program in force now (None: no program, no points)."""
        found = self._repository.aggregate(program_id(tenant_id), LoyaltyProgram)
        return Program.from_document(found.program) if found is not None else None

    def ledger(self, customer: Customer) -> LoyaltyLedger:
        """The customer's ledger, opened (unsaved) when it has none yet."""
        found = self._repository.aggregate(ledger_id(customer.id), LoyaltyLedger)
        if found is None:
            return LoyaltyLedger(customer_id=customer.id, tenant_id=customer.tenant_id)
        return found

    def on_payment(
        self, customer: Customer, payment_id: str, previous_status: str | None, actor: str,
        now: datetime,
    ) -> list[Event]:  # fmt: skip
        """After `customer.record_payment`: earn on a payment that just succeeded, reverse on
        one that was just refunded (by the status it had before this message)."""
        if customer.state == CustomerState.ERASED.value:
            return []  # its key is shredded: nothing personal may be written for it
        record = customer.payments.get(payment_id)
        if record is None or record.status == previous_status:
            return []
        payment = record.latest
        if payment.status is PaymentStatus.REFUNDED:
            ledger = self._repository.aggregate(ledger_id(customer.id), LoyaltyLedger)
            if ledger is None:
                return []
            ledger.reverse(actor=actor, payment_id=payment.payment_id, at=now)
            return list(ledger.collect_events())
        if payment.status is not PaymentStatus.SUCCEEDED:
            return []
        program = self.program(customer.tenant_id)
        if program is None:
            return []
        points = program.points_for_payment(payment.amount, payment.currency)
        cause = ("payment", payment.payment_id)
        return self._earn(customer, program, cause, points, actor, now)

    def on_order_completed(
        self, customer: Customer, order_id: str, actor: str, now: datetime
    ) -> list[Event]:
        """After `customer.close_order` with `completed`: the program's points per visit."""
        if customer.state == CustomerState.ERASED.value:
            return []
        program = self.program(customer.tenant_id)
        if program is None:
            return []
        cause = ("order", order_id)
        return self._earn(customer, program, cause, program.points_per_visit, actor, now)

    def _earn(
        self, customer: Customer, program: Program, cause: tuple[str, str], points: int,
        actor: str, now: datetime,
    ) -> list[Event]:  # fmt: skip
        ledger = self.ledger(customer)
        entry = ledger.earn(
            actor=actor, cause=cause, points=points, at=now, expires_at=program.expires_at(now)
        )
        if entry is None:
            return []
        self.climb(customer, program, ledger.lifetime_points, actor)
        return list(ledger.collect_events())

    @staticmethod
    def climb(customer: Customer, program: Program, lifetime_points: int, actor: str) -> None:
        """Move the customer up to the tier its lifetime points reach now (never down)."""
        tier = next_tier(program, lifetime_points, customer.tier_min_points)
        if tier is not None and tier.name != customer.tier:
            customer.reach_tier(
                actor=actor,
                tier=tier.name,
                min_points=tier.min_points,
                lifetime_points=lifetime_points,
            )
