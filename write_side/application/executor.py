"""The unit of work every command goes through: decide → events → group commit → retry.

A use case hands over a `decide` function; the executor runs it on a worker thread (the event
store is synchronous, so nothing blocks the event loop), adds the customer's new events and
the idempotency record, appends everything through the group committer in one transaction,
and decides again on fresh state when another writer came first.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime
from typing import TypeVar

from eventsourcing.persistence import IntegrityError

from shared.clock import Clock, utc_now
from shared.errors import Conflict
from write_side.application.claims import Claims
from write_side.application.command_batches import Answer, BatchCommand, run_batch
from write_side.application.customer_cache import CustomerCache
from write_side.application.decisions import (
    CommandMeta,
    CommandOutcome,
    Decision,
    Event,
    Outcome,
    StaleDecision,
)
from write_side.application.group_commit import GroupCommitter
from write_side.application.keyed_locks import KeyedLocks
from write_side.application.ports import EventStore
from write_side.application.repository import CustomerRepository

MAX_ATTEMPTS = 20
R = TypeVar("R")
Decide = Callable[[bool], Decision[R]]
"""Decides a command on current state; the argument is True on the first attempt only."""


class CommandExecutor:
    """Runs decisions and stores their events; owns the repository and claims they read.

    Like a unit of work (cosmicpython), it is the one thing use cases receive: `repository`
    and `claims` to read, `run` to store what they decided, `now`/`today` for the clock.
    """

    def __init__(
        self,
        app: EventStore,
        *,
        index_key: bytes,
        clock: Clock = utc_now,
        max_batch: int = 256,
        workers: int = 32,
    ) -> None:
        self.app = app
        self.repository = CustomerRepository(app)
        self.customers = CustomerCache(app)
        self.claims = Claims(app, index_key)
        self.committer = GroupCommitter(app, max_batch=max_batch)
        self._clock = clock
        self.threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="command")
        self.locks = KeyedLocks()

    def close(self) -> None:
        """Stop the committer and the worker threads."""
        self.committer.stop()
        self.threads.shutdown(wait=True)

    def now(self) -> datetime:
        """The injected clock's time."""
        return self._clock()

    def today(self) -> date:
        """Today's date by the injected clock."""
        return self._clock().date()

    async def run(
        self, meta: CommandMeta, decide: Decide[R], *, lock: Hashable | None = None
    ) -> CommandOutcome[R]:
        """Decide and store, retrying on conflicts; with `lock`, one command per key at a time
        in this process (fewer conflicts for commands that touch the same aggregates)."""
        if lock is None:
            return await self._run(meta, decide)
        async with self.locks.hold(lock):
            return await self._run(meta, decide)

    async def _run(self, meta: CommandMeta, decide: Decide[R]) -> CommandOutcome[R]:
        loop = asyncio.get_running_loop()
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
            try:
                decision = await loop.run_in_executor(
                    self.threads, self.decide, meta, decide, attempt == 0
                )
            except StaleDecision:
                continue
            if decision.replayed:
                position = await loop.run_in_executor(self.threads, self.repository.position)
            else:
                try:
                    position = await asyncio.wrap_future(
                        self.committer.submit(list(decision.events), dict(decision.phone_rows))
                    )
                except IntegrityError:
                    continue  # someone else wrote first: decide again on fresh state
            return CommandOutcome(
                decision.customer, decision.outcome, position, decision.replayed, decision.result
            )
        raise Conflict("The customer is being changed concurrently; retry the request.")

    async def run_batch(self, commands: Sequence[BatchCommand[R]]) -> list[Answer[R]]:
        """Many customers' commands at once (`command_batches`); each answered on its own."""
        return await run_batch(self, commands)

    async def store(
        self, decide: Callable[[], tuple[list[Event], R]], *, lock: Hashable
    ) -> tuple[R, int]:
        """Decide and store events of aggregates other than a customer (a tenant's loyalty
        program, a ledger's expiry), retrying on conflicts: no customer, so no idempotency
        record. Returns the decision's result and the log position."""
        loop = asyncio.get_running_loop()
        async with self.locks.hold(lock):
            for attempt in range(MAX_ATTEMPTS):
                if attempt:
                    await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                events, result = await loop.run_in_executor(self.threads, decide)
                if not events:
                    position = await loop.run_in_executor(self.threads, self.repository.position)
                    return result, position
                try:
                    position = await asyncio.wrap_future(self.committer.submit(events, {}))
                except IntegrityError:
                    continue
                return result, position
        raise Conflict("The record is being changed concurrently; retry the request.")

    def decide(self, meta: CommandMeta, decide: Decide[R], first_attempt: bool) -> Decision[R]:
        """On a worker thread: an idempotent replay, or the decision with every event to store
        (the customer's, the decision's others and the idempotency record)."""
        now = self._clock()
        replay = self.claims.replay(meta, now)
        if replay is not None:
            return replay
        decision = decide(first_attempt)
        own = decision.customer.collect_events()
        outcome = decision.outcome
        if outcome is Outcome.CHANGED and not own and not decision.events:
            outcome = Outcome.UNCHANGED
        decision = replace(decision, outcome=outcome, events=(*own, *decision.events))
        return replace(
            decision, events=(*decision.events, *self.claims.remember(meta, decision, now))
        )
