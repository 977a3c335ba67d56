"""Command handlers: decide on a worker thread, append through the group committer, retry on
concurrent modification. The event store is synchronous, so nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from shared.clock import Clock, utc_now
from shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from shared.principal import Principal
from write_side.application.claims import Claims
from write_side.application.decisions import (
    CommandMeta,
    CommandOutcome,
    Decision,
    StaleDecision,
)
from write_side.application.event_store import CustomersApplication
from write_side.application.group_commit import GroupCommitter
from write_side.application.keyed_locks import KeyedLocks
from write_side.domain.customer import Customer
from write_side.domain.profile import (
    CustomerType,
    Profile,
    assert_valid_type,
    merge_attributes,
    normalize_fields,
)
from write_side.domain.values import InvalidValue, email_identity, normalize_region

MAX_ATTEMPTS = 20
Decide = Callable[[bool], Decision]


@dataclass(frozen=True)
class ProfileInput:
    """Fields present in a request (`None` clears), the requested type and phone region."""

    fields: Mapping[str, Any]
    customer_type: str | None = None
    phone_region: str | None = None


class CustomerCommands:
    """The write side's use cases: create, update, delete, restore."""

    def __init__(
        self,
        app: CustomersApplication,
        *,
        index_key: bytes,
        default_region: str = "US",
        clock: Clock = utc_now,
        max_batch: int = 256,
        workers: int = 32,
    ) -> None:
        self.app = app
        self.committer = GroupCommitter(app, max_batch=max_batch)
        self.claims = Claims(app, index_key)
        self._default_region = default_region
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="command")
        self._locks = KeyedLocks()

    def close(self) -> None:
        """Stop the committer and the worker threads."""
        self.committer.stop()
        self._executor.shutdown(wait=True)

    async def create(self, meta: CommandMeta, data: ProfileInput) -> CommandOutcome:
        """Register a new customer (201)."""
        return await self._execute(
            meta, lambda first: self._decide_create(meta.principal, data, optimistic=first)
        )

    async def update(
        self, meta: CommandMeta, customer_id: uuid.UUID, data: ProfileInput
    ) -> CommandOutcome:
        """Change the fields present in `data`; `None` clears a field."""
        async with self._locks.hold(customer_id):
            return await self._execute(meta, lambda _: self._decide_update(meta, customer_id, data))

    async def delete(
        self, meta: CommandMeta, customer_id: uuid.UUID, reason: str | None
    ) -> CommandOutcome:
        """Soft-delete and free the email."""

        def decide(_: bool) -> Decision:
            decision = Decision(self._load(meta, customer_id), status=200)
            decision.customer.delete(actor=meta.principal.subject, reason=reason)
            if decision.customer.email:
                self.claims.release_email(decision, decision.customer.email)
            if decision.customer.profile.get("phone"):
                self.claims.index_phone(decision, decision.customer)
            return decision

        async with self._locks.hold(customer_id):
            return await self._execute(meta, decide)

    async def restore(
        self, meta: CommandMeta, customer_id: uuid.UUID, reason: str | None
    ) -> CommandOutcome:
        """Undo a soft delete; 409 when the email now belongs to someone else."""

        def decide(_: bool) -> Decision:
            decision = Decision(self._load(meta, customer_id), status=200)
            decision.customer.restore(actor=meta.principal.subject, reason=reason)
            if decision.customer.email:
                self.claims.claim_email(decision, decision.customer.email)
            if decision.customer.profile.get("phone"):
                self.claims.index_phone(decision, decision.customer)
            return decision

        async with self._locks.hold(customer_id):
            return await self._execute(meta, decide)

    @property
    def default_region(self) -> str:
        """Region for phone numbers without a leading `+`."""
        return self._default_region

    def today(self) -> date:
        """Today's date by the injected clock."""
        return self._clock().date()

    def now(self) -> datetime:
        """The injected clock's time."""
        return self._clock()

    def find(self, tenant_id: str, customer_id: uuid.UUID) -> Customer | None:
        """The current aggregate, or None (also for another tenant's customer)."""
        try:
            return self.get(tenant_id, customer_id)
        except NotFound:
            return None

    def get(self, tenant_id: str, customer_id: uuid.UUID) -> Customer:
        """The current aggregate, or 404 (also for another tenant's customer)."""
        try:
            customer: Any = self.app.repository.get(customer_id)
        except AggregateNotFoundError:
            raise NotFound("No customer with this id.") from None
        if not isinstance(customer, Customer) or customer.tenant_id != tenant_id:
            raise NotFound("No customer with this id.")
        return customer

    async def execute(
        self, meta: CommandMeta, decide: Decide, *, lock: Hashable | None = None
    ) -> CommandOutcome:
        """Run a decision (on a worker thread) and store its events, retrying on conflicts."""
        if lock is None:
            return await self._execute(meta, decide)
        async with self._locks.hold(lock):
            return await self._execute(meta, decide)

    # -- internals ---------------------------------------------------------------------------

    async def _execute(self, meta: CommandMeta, decide: Decide) -> CommandOutcome:
        loop = asyncio.get_running_loop()
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
            try:
                decision = await loop.run_in_executor(
                    self._executor, self._decide, meta, decide, attempt == 0
                )
            except StaleDecision:
                continue
            if decision.replayed:
                position = await loop.run_in_executor(self._executor, self._current_position)
                return CommandOutcome(
                    decision.customer, decision.status, position, True, decision.result
                )
            try:
                position = await asyncio.wrap_future(
                    self.committer.submit(decision.events, decision.phone_rows)
                )
            except IntegrityError:
                continue  # someone else wrote first: decide again on fresh state
            return CommandOutcome(
                decision.customer, decision.status, position, False, decision.result
            )
        raise Conflict("The customer is being changed concurrently; retry the request.")

    def _decide(self, meta: CommandMeta, decide: Decide, first_attempt: bool) -> Decision:
        now = self._clock()
        replay = self.claims.replay(meta, now)
        if replay is not None:
            return replay
        decision = decide(first_attempt)
        decision.events[:0] = decision.customer.collect_events()
        self.claims.remember(meta, decision, now)
        return decision

    def _current_position(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def _load(self, meta: CommandMeta, customer_id: uuid.UUID) -> Customer:
        customer = self.get(meta.principal.tenant_id, customer_id)
        customer.check_version(meta.expected_version)
        return customer

    def _normalize(
        self, data: ProfileInput, current: Profile | None = None
    ) -> tuple[Profile, CustomerType | None]:
        """The normalised fields; an `attributes` object is merged into `current`'s."""
        errors = FieldErrors()
        region = self._default_region
        if data.phone_region is not None:
            try:
                region = normalize_region(data.phone_region)
            except InvalidValue as error:
                errors.add("phoneRegion", str(error))
        customer_type = None
        if data.customer_type is not None:
            try:
                customer_type = assert_valid_type(data.customer_type)
            except ValidationFailed as error:
                errors.items.extend(error.errors)
        fields = data.fields
        if isinstance(fields.get("attributes"), dict):
            existing = (current or {}).get("attributes") or {}
            fields = {**fields, "attributes": merge_attributes(existing, fields["attributes"])}
        if errors.items and errors.items[0].field == "phoneRegion":
            # The phone cannot be read without its region: naming it too would mislead.
            fields = {name: value for name, value in fields.items() if name != "phone"}
        profile = normalize_fields(fields, region=region, today=self._clock().date(), errors=errors)
        errors.raise_if_any()
        return profile, customer_type

    def _decide_create(
        self, principal: Principal, data: ProfileInput, *, optimistic: bool
    ) -> Decision:
        """On a first attempt the email claim is assumed new (no read); a conflict makes the
        retry read it, so a taken email still ends in 409 with `existingId`."""
        profile, customer_type = self._normalize(data)
        customer = Customer.register(
            tenant_id=principal.tenant_id,
            actor=principal.subject,
            customer_type=customer_type or CustomerType.UNREGISTERED,
            profile=profile,
        )
        decision = Decision(customer, status=201)
        if customer.email:
            self.claims.claim_email(decision, customer.email, assume_unclaimed=optimistic)
        if customer.profile.get("phone"):
            self.claims.index_phone(decision, customer)
        return decision

    def _decide_update(
        self, meta: CommandMeta, customer_id: uuid.UUID, data: ProfileInput
    ) -> Decision:
        customer = self._load(meta, customer_id)
        customer.check_mutable()
        profile, customer_type = self._normalize(data, customer.profile)
        previous_email = customer.email
        previous_phone = customer.profile.get("phone")
        customer.update(actor=meta.principal.subject, changes=profile, customer_type=customer_type)
        decision = Decision(customer, status=200)
        if customer.profile.get("phone") != previous_phone:
            self.claims.index_phone(decision, customer)
        if _identity(previous_email) != _identity(customer.email):
            if previous_email:
                self.claims.release_email(decision, previous_email)
            if customer.email:
                self.claims.claim_email(decision, customer.email)
        return decision


def _identity(email: str | None) -> str | None:
    return email_identity(email) if email else None
