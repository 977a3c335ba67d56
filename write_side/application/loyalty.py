"""Loyalty use cases: the tenant's program, redemptions, managers' adjustments, expiry.

Earning and reversing happen inside the payment and order commands (`loyalty_earning`).
A redemption is a command on the customer's ledger through the executor, so it is decided on
fresh state, retried on a conflict, and recorded under its `Idempotency-Key` in the same
transaction: concurrent redemptions can never take the balance below zero.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.errors import Conflict
from shared.json_types import JSONObject
from write_side.application.decisions import CommandMeta, Decision, Event, Outcome
from write_side.application.executor import CommandExecutor, Decide
from write_side.application.loyalty_earning import LoyaltyEarning
from write_side.domain.customer import Customer
from write_side.domain.loyalty import Program, check_program, ledger_id, program_id
from write_side.domain.loyalty_ledger import LoyaltyLedger, LoyaltyProgram

SWEEP_ACTOR = "system:loyalty-expiry"


@dataclass(frozen=True)
class EntryRecorded:
    """A redemption or adjustment as stored: the entry, the balance after it, the position."""

    entry: JSONObject
    balance: int
    position: int
    replayed: bool = False


class LoyaltyCommands:
    """Program, redemptions, adjustments and the expiry of one ledger."""

    def __init__(self, executor: CommandExecutor) -> None:
        self._executor = executor
        self._repository = executor.repository
        self._earning = LoyaltyEarning(executor.repository)

    async def program(self, tenant_id: str) -> JSONObject | None:
        """The tenant's program document (None: no program, no points)."""

        def read() -> JSONObject | None:
            found = self._repository.aggregate(program_id(tenant_id), LoyaltyProgram)
            return found.program if found is not None else None

        result, _ = await self._executor.store(lambda: ([], read()), lock=("program", tenant_id))
        return result

    async def set_program(self, meta: CommandMeta, document: JSONObject) -> tuple[JSONObject, int]:
        """Replace the program; it applies from now on (nothing recorded is revalued)."""
        program = check_program(document)
        tenant, actor = meta.principal.tenant_id, meta.principal.subject

        def decide() -> tuple[list[Event], JSONObject]:
            found = self._repository.aggregate(program_id(tenant), LoyaltyProgram)
            if found is None:
                found = LoyaltyProgram(tenant_id=tenant, actor=actor, program=program)
            else:
                found.change(actor=actor, program=program)
            return list(found.collect_events()), program

        return await self._executor.store(decide, lock=("program", tenant))

    async def redeem(
        self, meta: CommandMeta, customer_id: uuid.UUID, points: int, reason: str
    ) -> EntryRecorded:
        """Spend points; `Conflict` (409) when they are more than the balance. Under an
        `Idempotency-Key`, a repeat answers the first redemption's entry."""
        request = self._executor.claims.request_id(meta)

        def decide(_: bool) -> Decision[JSONObject]:
            customer = self._active_customer(meta, customer_id)
            ledger = self._earning.ledger(customer)
            entry = ledger.redeem(
                actor=meta.principal.subject, points=points, reason=reason,
                at=self._executor.now(), request=request,
            )  # fmt: skip
            answer = {**entry, "balance": ledger.balance}
            events = tuple(ledger.collect_events())
            return Decision(customer, Outcome.CREATED, events, result=answer)

        return await self._answer(meta, customer_id, decide, request)

    async def adjust(
        self, meta: CommandMeta, customer_id: uuid.UUID, points: int, reason: str
    ) -> EntryRecorded:
        """A manager's correction (±points); a negative one beyond the balance is 409. Positive
        points count toward lifetime points, so they may lift the tier."""
        request = self._executor.claims.request_id(meta)

        def decide(_: bool) -> Decision[JSONObject]:
            customer = self._active_customer(meta, customer_id)
            program = self._earning.program(customer.tenant_id)
            ledger = self._earning.ledger(customer)
            now = self._executor.now()
            expires = program.expires_at(now) if program is not None else None
            entry = ledger.adjust(
                actor=meta.principal.subject, points=points, reason=reason, at=now,
                expires_at=expires, request=request,
            )  # fmt: skip
            if program is not None and points > 0:
                self._earning.climb(
                    customer, program, ledger.lifetime_points, meta.principal.subject
                )
            answer = {**entry, "balance": ledger.balance}
            events = tuple(ledger.collect_events())
            return Decision(customer, Outcome.CREATED, events, result=answer)

        return await self._answer(meta, customer_id, decide, request)

    async def _answer(
        self, meta: CommandMeta, customer_id: uuid.UUID, decide: Decide[JSONObject],
        request: str | None,
    ) -> EntryRecorded:  # fmt: skip
        """Run the ledger command; a replay answers the entry first recorded under the key."""
        outcome = await self._executor.run(meta, decide, lock=("ledger", customer_id))
        answer = self._replayed(customer_id, request) if outcome.replayed else outcome.answer()
        entry = {k: v for k, v in answer.items() if k != "balance"}
        return EntryRecorded(entry, int(answer["balance"]), outcome.position, outcome.replayed)

    async def expire(self, customer_id: uuid.UUID, now: datetime) -> int:
        """Expire the ledger's lots whose time has come by `now` (the sweep's clock), oldest
        first; returns the points expired. Expiring twice expires nothing more."""

        def decide() -> tuple[list[Event], int]:
            ledger = self._repository.aggregate(ledger_id(customer_id), LoyaltyLedger)
            if ledger is None:
                return [], 0
            entries = ledger.expire(actor=SWEEP_ACTOR, now=now)
            return list(ledger.collect_events()), -sum(int(e["points"]) for e in entries)

        result, _ = await self._executor.store(decide, lock=("ledger", customer_id))
        return result

    def current_program(self, tenant_id: str) -> Program | None:
        """The program in force (synchronous: for code already on a worker thread)."""
        return self._earning.program(tenant_id)

    def _active_customer(self, meta: CommandMeta, customer_id: uuid.UUID) -> Customer:
        customer = self._repository.load(meta.principal.tenant_id, customer_id, None)
        customer.check_mutable()
        return customer

    def _replayed(self, customer_id: uuid.UUID, request: str | None) -> JSONObject:
        ledger = self._repository.aggregate(ledger_id(customer_id), LoyaltyLedger)
        answer = ledger.answer_for(request) if ledger is not None and request else None
        if answer is None:
            raise Conflict("The entry recorded under this Idempotency-Key is no longer available.")
        return answer
