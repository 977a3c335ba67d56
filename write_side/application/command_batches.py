"""Commands on many customers decided together: one read, one transaction, per-command answers.

The inbound notifications arrive a thousand a second, a few per customer per batch. Through
`CommandExecutor.run` each customer's command cost a worker-thread hop, a full replay of its
stream (a round trip each, on a pool of 8 connections shared with everything else) and a
commit request that reached the group committer at its own moment, so one batch of 130
customers became a dozen transactions (py-spy and timings: docs/benchmarks.md). Here one
worker-thread call takes the batch's customers from the `CustomerCache` (one query brings
them up to date), decides every command with the executor's own `decide` (claims and
idempotency included), and hands every decision to the committer at once: one transaction,
in which each customer's events stay a request of their own, so a conflict on one customer
refuses only that one (the committer attributes it) and only that one is decided again, on
fresh state. Each command is answered on its own: its outcome, or the exception it raised.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from shared.errors import NotFound, ServiceUnavailable
from write_side.application.decisions import CommandMeta, CommandOutcome, Decision
from write_side.domain.customer import Customer

if TYPE_CHECKING:
    from write_side.application.executor import CommandExecutor

R = TypeVar("R")
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class BatchCommand(Generic[R]):
    """One customer's command of a batch: `decide` receives the customer, current."""

    meta: CommandMeta
    customer_id: UUID
    decide: Callable[[Customer], Decision[R]]


Answer = CommandOutcome[R] | Exception


async def run_batch(
    executor: CommandExecutor, commands: Sequence[BatchCommand[R]]
) -> list[Answer[R]]:
    """Decide and store every command (one per customer), retrying the conflicting ones;
    answers in the commands' order. The customers' in-process locks are held throughout
    (in id order: two batches cannot deadlock), so the API's commands on them wait."""
    if len({command.customer_id for command in commands}) != len(commands):
        raise ValueError("a batch holds one command per customer")
    answers: dict[int, Answer[R]] = {}
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as locks:
        for customer_id in sorted(command.customer_id for command in commands):
            await locks.enter_async_context(executor.locks.hold(customer_id))
        pending = list(range(len(commands)))
        for attempt in range(MAX_ATTEMPTS):
            if not pending:
                break
            if attempt:
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
            todo = [commands[index] for index in pending]
            settled_all = await loop.run_in_executor(
                executor.threads, _attempt, executor, todo, attempt == 0
            )
            retry = []
            for index, settled in zip(pending, settled_all, strict=True):
                if isinstance(settled, IntegrityError):
                    retry.append(index)  # another writer came first: decide again
                else:
                    answers[index] = settled
            pending = retry
    for index in pending:
        # Transient, unlike the decisions' conflicts (an erased customer): retry later.
        answers[index] = ServiceUnavailable("The customer is being changed concurrently.")
    return [answers[index] for index in range(len(commands))]


@dataclass
class _Decided(Generic[R]):
    """A command's decision on the worker thread, and its commit request if it stores any."""

    decision: Decision[R] | Exception
    saved: Future[int] | None = None
    position: int = 0


def _decide_and_submit(
    executor: CommandExecutor, commands: list[BatchCommand[R]], first: bool
) -> list[_Decided[R]]:
    """On a worker thread: take the customers, decide each command, and submit every
    decision to the committer at once (one transaction)."""
    customers = executor.customers.take([command.customer_id for command in commands])
    decided: list[_Decided[R]] = []
    for command in commands:
        customer = customers.get(command.customer_id)
        try:
            if customer is None or customer.tenant_id != command.meta.principal.tenant_id:
                raise NotFound("No customer with this id.")
            decision = executor.decide(command.meta, _bound(command, customer), first)
        except Exception as error:  # answered to its command; the others go on
            decided.append(_Decided(error))
            continue
        decided.append(_Decided(decision))
    stored = [
        (item, item.decision)
        for item in decided
        if isinstance(item.decision, Decision) and not item.decision.replayed
    ]
    requests = [(decision.events, decision.phone_rows) for _, decision in stored]
    for (item, _), future in zip(stored, executor.committer.submit_many(requests), strict=True):
        item.saved = future
    if len(stored) < len(decided):  # a replay answers with the log's position
        position = executor.repository.position()
        for item in decided:
            item.position = position
    return decided


def _attempt(
    executor: CommandExecutor, commands: list[BatchCommand[R]], first: bool
) -> list[Answer[R]]:
    """On a worker thread: decide and submit, then wait for the commits there (awaited one
    by one on the event loop, each future cost a turn of a loop busy with deliveries and
    projections: a 300 ms commit took 0.3-2.2 s to settle). Keeps the customers stored."""
    decided = _decide_and_submit(executor, commands, first)
    wait([item.saved for item in decided if item.saved is not None])
    answers: list[Answer[R]] = []
    for item in decided:
        decision = item.decision
        if isinstance(decision, Exception):
            answers.append(decision)
            continue
        position = item.position
        if item.saved is not None:
            error = item.saved.exception()
            if error is not None:  # IntegrityError: decided again by the caller
                answers.append(error if isinstance(error, Exception) else RuntimeError(error))
                continue
            position = item.saved.result()
            executor.customers.keep([decision.customer])
        answers.append(
            CommandOutcome(
                decision.customer, decision.outcome, position, decision.replayed, decision.result
            )
        )
    return answers


def _bound(command: BatchCommand[R], customer: Customer) -> Callable[[bool], Decision[R]]:
    return lambda _first: command.decide(customer)
