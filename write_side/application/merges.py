"""Merge and unmerge use cases: two customers, their claims, phone rows and loyalty ledgers
decided together and saved in one transaction (the decisions: `write_side.domain.merge`).

Claims follow the person: the source's email and external-id claims point at the target while
merged (attendee, payer and import matching then find the target by the source's old email),
and go back with an unmerge. A merged source keeps a phone-book row for its own number, which
matching resolves to its target (`CustomerRepository.current`).
"""

from __future__ import annotations

import uuid

from shared.errors import Conflict
from shared.events.values import HeldTier
from write_side.application.decisions import CommandMeta, CommandOutcome, Decision, Event
from write_side.application.executor import CommandExecutor
from write_side.application.loyalty_earning import LoyaltyEarning
from write_side.domain import merge as rules
from write_side.domain.customer import Customer
from write_side.domain.loyalty import ledger_id
from write_side.domain.loyalty_ledger import LoyaltyLedger
from write_side.domain.profile import CustomerState

Rows = dict[uuid.UUID, uuid.UUID | None]


class MergeCommands:
    """`POST /customers/{id}/merge` and `/unmerge`."""

    def __init__(self, executor: CommandExecutor) -> None:
        self._executor = executor
        self._repository = executor.repository
        self._claims = executor.claims
        self._loyalty = LoyaltyEarning(executor.repository)

    async def merge(
        self, meta: CommandMeta, target_id: uuid.UUID, source_id: uuid.UUID
    ) -> CommandOutcome[None]:
        """Fold the source into the target (the target answers)."""

        def decide(_: bool) -> Decision[None]:
            tenant, actor = meta.principal.tenant_id, meta.principal.subject
            target = self._repository.load(tenant, target_id, meta.expected_version)
            source = self._repository.get(tenant, source_id)
            rules.check_merge(target, source)
            events, claims, keep = self._move_claims(target, source)
            reached = self._reached_tier(target, source)
            rules.merge(target, source, actor=actor, claims=claims, keep=keep, reached=reached)
            events += self._absorb_points(target, source, actor)
            return self._decision(target, source, events)

        return await self._executor.run(meta, decide, lock=("merge", meta.principal.tenant_id))

    async def unmerge(
        self, meta: CommandMeta, target_id: uuid.UUID, source_id: uuid.UUID
    ) -> CommandOutcome[None]:
        """Undo a merge of the last 30 days (the target answers)."""

        def decide(_: bool) -> Decision[None]:
            tenant, actor = meta.principal.tenant_id, meta.principal.subject
            target = self._repository.load(tenant, target_id, meta.expected_version)
            source = self._repository.get(tenant, source_id)
            now = self._executor.now()
            rules.check_unmerge(target, source, now)
            claims = target.merges[str(source.id)].claims
            rules.unmerge(target, source, actor=actor, now=now)
            events = self._return_claims(target, source, claims)
            ledger = self._repository.aggregate(ledger_id(target.id), LoyaltyLedger)
            if ledger is not None:
                ledger.give_back(actor=actor, source_id=str(source.id), at=now)
                events += ledger.collect_events()
            return self._decision(target, source, events)

        return await self._executor.run(meta, decide, lock=("merge", meta.principal.tenant_id))

    def _decision(self, target: Customer, source: Customer, events: list[Event]) -> Decision[None]:
        rows: Rows = {target.id: self._claims.phone_row(target), source.id: None}
        phone = source.profile.get("phone")
        if source.state is CustomerState.MERGED and phone and phone != target.profile.get("phone"):
            rows[source.id] = self._claims.phone_key(source.tenant_id, phone)
        elif source.state is CustomerState.ACTIVE:
            rows[source.id] = self._claims.phone_row(source)
        return Decision(target, events=(*source.collect_events(), *events), phone_rows=rows)

    def _move_claims(
        self, target: Customer, source: Customer
    ) -> tuple[list[Event], list[str], list[str]]:
        """The source's email and external-id claims move to the target (an active source
        holds them; a deleted one freed them: the target claims them if it takes the value).
        A value whose claim someone else holds now stays behind (`keep`)."""
        events: list[Event] = []
        moved: list[str] = []
        keep: list[str] = []
        tenant = source.tenant_id
        held: list[tuple[str, uuid.UUID]] = []
        if source.email:
            held.append(("email", self._claims.email_claim_id(tenant, source.email)))
        if source.external_id:
            held.append(
                ("externalId", self._claims.external_id_claim_id(tenant, source.external_id))
            )
        for field, claim_id in held:
            owner = self._claims.owner_of(claim_id)
            takes = not target.profile.get(field)
            if owner == source.id or (owner is None and takes):
                events += self._claims.transfer(claim_id, field, target.id)
                moved.append(str(claim_id))
            elif owner != target.id:
                keep.append(field)
        return events, moved, keep

    def _return_claims(
        self, target: Customer, source: Customer, claims: tuple[str, ...]
    ) -> list[Event]:
        """After the unmerge: each moved claim the target no longer uses goes back to the
        source (active again) or is freed (the source is deleted again)."""
        tenant = target.tenant_id
        needed = {
            self._claims.email_claim_id(tenant, target.email) if target.email else None,
            self._claims.external_id_claim_id(tenant, target.external_id)
            if target.external_id
            else None,
        }
        events: list[Event] = []
        for text in claims:
            claim_id = uuid.UUID(text)
            owner = self._claims.owner_of(claim_id)
            if claim_id in needed or owner not in (target.id, None):
                if source.state is CustomerState.ACTIVE and owner != source.id:
                    raise Conflict(
                        "The source's email or external id now belongs to another customer; "
                        "change that one first.",
                        extra={"existingId": str(owner)},
                    )
                continue
            new_owner = source.id if source.state is CustomerState.ACTIVE else None
            events += self._claims.transfer(claim_id, "claim", new_owner)
        return events

    def _reached_tier(self, target: Customer, source: Customer) -> HeldTier | None:
        """The tier the lifetime points of both ledgers reach together under the program in
        force (None without a program or below its lowest tier)."""
        program = self._loyalty.program(target.tenant_id)
        if program is None:
            return None
        ledgers = (
            self._repository.aggregate(ledger_id(c.id), LoyaltyLedger) for c in (target, source)
        )
        tier = program.tier_for(sum(ledger.lifetime_points for ledger in ledgers if ledger))
        return None if tier is None else HeldTier(name=tier.name, min_points=tier.min_points)

    def _absorb_points(self, target: Customer, source: Customer, actor: str) -> list[Event]:
        found = self._repository.aggregate(ledger_id(source.id), LoyaltyLedger)
        if found is None or not (found.lots or found.lifetime_points):
            return []
        ledger = self._loyalty.ledger(target)
        ledger.absorb(actor=actor, source=found, at=self._executor.now())
        return list(ledger.collect_events())
