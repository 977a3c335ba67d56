"""Consent changes and the right to erasure (crypto-shredding)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.errors import Conflict
from write_side.application.decisions import CommandMeta, CommandOutcome, Decision, Outcome
from write_side.application.executor import CommandExecutor
from write_side.domain.consent import normalize_consent
from write_side.domain.customer import Customer


@dataclass(frozen=True)
class Identity:
    """What identifies a customer in copies kept outside its events (read before erasure)."""

    tenant_id: str
    customer_id: str
    email: str | None
    phone: str | None  # E.164


class PrivacyCommands:
    """Consent per purpose, and erasure: the Erased event, then the customer's key is deleted."""

    def __init__(self, executor: CommandExecutor) -> None:
        self._executor = executor
        self._repository = executor.repository
        self._claims = executor.claims
        #: Run before an erasure, with the customer's identity, to remove copies the key does
        #: not protect (dead-lettered messages); one that raises stops the erasure.
        self.before_erase: list[Callable[[Identity], Awaitable[None]]] = []

    async def change_consent(
        self,
        meta: CommandMeta,
        customer_id: uuid.UUID,
        purpose: str,
        *,
        granted: bool,
        source: str | None,
        legal_basis: str | None,
    ) -> CommandOutcome[None]:
        """Grant or withdraw a purpose; each change is an event with time and actor."""
        consent = normalize_consent(purpose, granted, source, legal_basis)

        def decide(_: bool) -> Decision[None]:
            tenant = meta.principal.tenant_id
            customer = self._repository.load(tenant, customer_id, meta.expected_version)
            customer.change_consent(actor=meta.principal.subject, purpose=purpose, consent=consent)
            return Decision(customer)

        return await self._executor.run(meta, decide, lock=customer_id)

    async def erase_expired(self, meta: CommandMeta, customer_id: uuid.UUID, cutoff: str) -> bool:
        """Retention: erase only if the customer is still deleted since before `cutoff`."""
        tenant = meta.principal.tenant_id
        customer = await asyncio.to_thread(self._repository.find, tenant, customer_id)
        if customer is None or customer.state != "deleted" or not customer.deleted_at:
            return False
        if customer.deleted_at >= cutoff:
            return False
        await self.erase(meta, customer_id, "retention period elapsed", expected_state="deleted")
        return True

    async def erase(
        self,
        meta: CommandMeta,
        customer_id: uuid.UUID,
        reason: str | None,
        *,
        expected_state: str | None = None,
    ) -> CommandOutcome[None]:
        """Erase personal data: record `Erased`, free the email, then shred the data key.

        Idempotent: erasing an erased customer shreds the key again (in case a crash happened
        between the event and the shredding) and records nothing new.
        """

        if self.before_erase:
            identities = await asyncio.to_thread(self._identities, meta, customer_id)
            for identity in identities:
                for hook in self.before_erase:
                    await hook(identity)

        absorbed: list[uuid.UUID] = []

        def decide(_: bool) -> Decision[None]:
            customer = self._repository.get(meta.principal.tenant_id, customer_id)
            if expected_state is not None and customer.state != expected_state:
                raise Conflict(f"The customer is {customer.state}, not {expected_state}.")
            if customer.state == "merged":
                customer.check_not_merged()  # erase its target: that erases it too
            # A deleted customer freed its email and external id already.
            held = customer.state == "active"
            events = self._claims.release_identifiers(customer) if held else []
            sources = self._merged_into(customer)
            customer.erase(actor=meta.principal.subject, reason=reason)
            rows = {customer.id: self._claims.phone_row(customer)}
            for source in sources:  # the people it absorbed: their personal data goes too
                source.erase(actor=meta.principal.subject, reason=reason)
                events += source.collect_events()
                rows[source.id] = None
            absorbed[:] = [source.id for source in sources]
            return Decision(customer, Outcome.CHANGED, tuple(events), rows)

        outcome = await self._executor.run(meta, decide, lock=customer_id)
        for erased in (customer_id, *absorbed):
            await asyncio.to_thread(self._executor.app.keys.shred, erased)
            self._executor.customers.forget(erased)
        return outcome

    def _merged_into(self, customer: Customer) -> list[Customer]:
        """Every customer merged into this one, and into those (a merge of a merge)."""
        found: list[Customer] = []
        pending = [customer]
        while pending:
            for source_id in pending.pop().merges:
                source = self._repository.find(customer.tenant_id, uuid.UUID(source_id))
                if source is not None and source.state == "merged":
                    found.append(source)
                    pending.append(source)
        return found

    def _identities(self, meta: CommandMeta, customer_id: uuid.UUID) -> list[Identity]:
        """Whose copies go: the customer's, and those of every customer merged into it (they
        are erased with it; their dead letters name their own id, email and phone). None
        for a merged customer: its erasure is refused, nothing may go first."""
        customer = self._repository.find(meta.principal.tenant_id, customer_id)
        if customer is None or customer.state == "merged":
            return []
        return [_identity(person) for person in (customer, *self._merged_into(customer))]


def _identity(customer: Customer) -> Identity:
    phone = customer.profile.get("phone")
    return Identity(
        customer.tenant_id,
        str(customer.id),
        customer.email,
        phone if isinstance(phone, str) else None,
    )
