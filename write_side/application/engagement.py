"""Preferences, notes and communications (write side use cases)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec

from shared.clock import iso_utc
from shared.errors import FieldError, ValidationFailed
from shared.json_types import JSONObject
from shared.principal import Permission
from write_side.application.command_batches import BatchCommand
from write_side.application.decisions import CommandMeta, CommandOutcome, Decision, Outcome
from write_side.application.executor import CommandExecutor
from write_side.domain import engagement
from write_side.domain.customer import Customer
from write_side.domain.engagement import Communication
from write_side.domain.preferences import patched_preferences
from write_side.domain.values import InvalidValue, normalize_text

MAX_NOTE = 5000
MAX_SUBJECT = 500


class EngagementCommands:
    """Use cases over a customer's preferences, notes and communications."""

    def __init__(self, executor: CommandExecutor) -> None:
        self._executor = executor
        self._repository = executor.repository

    async def change_preferences(
        self, meta: CommandMeta, customer_id: uuid.UUID, patch: JSONObject
    ) -> CommandOutcome[None]:
        """Merge `patch` (RFC 7396) into the current preferences; the result is checked whole."""

        def decide(_: bool) -> Decision[None]:
            tenant = meta.principal.tenant_id
            customer = self._repository.load(tenant, customer_id, meta.expected_version)
            merged = patched_preferences(customer.preferences, patch)
            engagement.change_preferences(
                customer, actor=meta.principal.subject, preferences=merged
            )
            return Decision(customer)

        return await self._executor.run(meta, decide, lock=customer_id)

    async def add_note(
        self, meta: CommandMeta, customer_id: uuid.UUID, text: str
    ) -> CommandOutcome[JSONObject]:
        """A note by the caller; answers the note as stored."""
        clean = _text("text", text, MAX_NOTE, allow_newlines=True)
        note_id = str(uuid.uuid4())

        def decide(_: bool) -> Decision[JSONObject]:
            tenant = meta.principal.tenant_id
            customer = self._repository.load(tenant, customer_id, meta.expected_version)
            engagement.add_note(customer, actor=meta.principal.subject, note_id=note_id, text=clean)
            return Decision(customer, Outcome.CREATED, result=customer.note_items[note_id])

        return await self._executor.run(meta, decide, lock=customer_id)

    async def delete_note(
        self, meta: CommandMeta, customer_id: uuid.UUID, note_id: str
    ) -> CommandOutcome[JSONObject]:
        """Take a note out of lists (its author, or whoever may delete customers); answers
        the note as it was."""
        may_delete_any = meta.principal.can(Permission.DELETE)

        def decide(_: bool) -> Decision[JSONObject]:
            tenant = meta.principal.tenant_id
            customer = self._repository.load(tenant, customer_id, meta.expected_version)
            note = dict(customer.note_items.get(note_id) or {})
            engagement.delete_note(
                customer,
                actor=meta.principal.subject,
                note_id=note_id,
                may_delete_any=may_delete_any,
            )
            return Decision(customer, result=note)

        return await self._executor.run(meta, decide, lock=customer_id)

    async def record_communication(
        self, meta: CommandMeta, customer_id: uuid.UUID, communication: Communication,
        *, follow_merges: bool = False,
    ) -> CommandOutcome[bool]:  # fmt: skip
        """Record a communication once per id and status; the result says whether it was new.
        `follow_merges` (a sender's status message, not a person's command): a merged
        customer's goes to the customer it was merged into, as payments do."""
        if communication.subject is not None:
            subject = _text("subject", communication.subject, MAX_SUBJECT)
            communication = msgspec.structs.replace(communication, subject=subject)

        def decide(_: bool) -> Decision[bool]:
            named, customer = self._customer(meta, customer_id, follow_merges=follow_merges)
            new = engagement.record_communication(
                customer,
                actor=meta.principal.subject,
                communication=engagement.addressed_to(named, customer, communication),
            )
            outcome = Outcome.CREATED if new else Outcome.UNCHANGED
            return Decision(customer, outcome, result=new)

        return await self._executor.run(meta, decide, lock=customer_id)

    async def record_communications(
        self, meta: CommandMeta, customer_id: uuid.UUID, communications: list[Communication]
    ) -> CommandOutcome[list[bool]]:
        """Several notifications of one customer in one command (one replay, one save: the
        inbound consumer's batches); each recorded once per id and status, in order. A merged
        customer's go to the customer it was merged into (the sender knows the old id)."""

        def decide(_: bool) -> Decision[list[bool]]:
            named, customer = self._customer(meta, customer_id, follow_merges=True)
            actor = meta.principal.subject
            new = [
                engagement.record_communication(
                    customer,
                    actor=actor,
                    communication=engagement.addressed_to(named, customer, item),
                )
                for item in communications
            ]
            outcome = Outcome.CREATED if any(new) else Outcome.UNCHANGED
            return Decision(customer, outcome, result=new)

        return await self._executor.run(meta, decide, lock=customer_id)

    def _customer(
        self, meta: CommandMeta, customer_id: uuid.UUID, *, follow_merges: bool
    ) -> tuple[Customer, Customer]:
        """The customer named, and the one to record on: itself, or where a merge put it
        (docs/decisions.md "Merge and unmerge": integration messages follow `mergedInto`,
        commands do not)."""
        tenant = meta.principal.tenant_id
        named = self._repository.get(tenant, customer_id)
        if follow_merges and named.state == "merged" and named.merged_into is not None:
            return named, self._repository.current(tenant, customer_id)
        return named, named

    async def record_communication_batches(
        self, batches: Sequence[tuple[CommandMeta, uuid.UUID, list[Communication]]]
    ) -> list[CommandOutcome[list[bool]] | Exception]:
        """Several customers' notifications (one entry per customer), decided together and
        stored in one transaction (`command_batches`); each entry is answered on its own, as
        `record_communications` would (its outcome, or the error it met). A merged customer's
        go through `record_communications` afterwards, to the customer it was merged into
        (rare; two entries of a batch must not decide on one aggregate)."""

        def command(
            meta: CommandMeta, customer_id: uuid.UUID, items: list[Communication]
        ) -> BatchCommand[list[bool]]:
            def decide(customer: Customer) -> Decision[list[bool]]:
                if customer.state == "merged" and customer.merged_into is not None:
                    raise _Merged
                actor = meta.principal.subject
                new = [
                    engagement.record_communication(customer, actor=actor, communication=item)
                    for item in items
                ]
                outcome = Outcome.CREATED if any(new) else Outcome.UNCHANGED
                return Decision(customer, outcome, result=new)

            return BatchCommand(meta, customer_id, decide)

        answers = await self._executor.run_batch([command(*batch) for batch in batches])
        for index, (answer, batch) in enumerate(zip(answers, batches, strict=True)):
            if isinstance(answer, _Merged):
                try:
                    answers[index] = await self.record_communications(*batch)
                except Exception as error:  # answered to its entry, like the batch's
                    answers[index] = error
        return answers

    def now(self) -> str:
        """The executor's clock, as the API writes times."""
        return iso_utc(self._executor.now())


class _Merged(Exception):
    """A batch entry names a merged customer: recorded on its target afterwards."""


def _text(field: str, value: str, max_length: int, *, allow_newlines: bool = False) -> str:
    """Trimmed, bounded plain text, or `ValidationFailed` naming the field."""
    try:
        return normalize_text(value, max_length=max_length, allow_newlines=allow_newlines)
    except InvalidValue as error:
        raise ValidationFailed("Invalid text.", errors=[FieldError(field, str(error))]) from None
