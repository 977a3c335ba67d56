"""Orders decided in batches: one read of what they name, one transaction, per-order answers.

The `order.placed` consumer used to run each order through `CommandExecutor.run`: a worker
thread hop, an order-record read, a claim read per attendee, a replay of every matched
customer's stream and a commit request of its own (py-spy: the reads were most of the
decision). Here the orders waiting at one moment are normalised together, read once
(`attendee_lookup.BatchLookup`), decided one after the other on one worker-thread call with
the use case's own decision (`AttendeeProcessing.decide_order`), and handed to the group
committer at once. Orders that touch a common customer, claim, phone or record form one
commit request (a later one was decided on the earlier one's unsaved state); unrelated
orders are requests of their own in the same transaction, so a conflict with another writer
(another process took the email meanwhile) refuses only its group, decided again in the next
round on fresh state. Each order is answered on its own: its results or its error.

Exactly once holds as for one order: the order's record is saved in the same transaction as
its customers' events, a later delivery replays it, and the caller acknowledges only after.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Hashable, Sequence
from concurrent.futures import wait
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from shared.errors import CustomerError, ServiceUnavailable
from shared.json_types import JSONObject
from write_side.application.attendee_lookup import BatchLookup, Deferred
from write_side.application.attendees import AttendeeInput, AttendeeProcessing, OrderInput, Results
from write_side.application.decisions import CommandMeta, Event, StaleDecision
from write_side.application.phone_book import merge_rows

MAX_ATTEMPTS = 20
Answer = Results | Exception


@dataclass(frozen=True)
class OrderRequest:
    """One `order.placed`: who sends it, the order and its attendees as sent."""

    meta: CommandMeta
    order_id: str
    placed_at: datetime
    attendees: list[AttendeeInput]


@dataclass(frozen=True)
class _Prepared:
    meta: CommandMeta
    order: OrderInput
    profiles: list[JSONObject]


@dataclass
class _Group:
    """Decided orders stored together (they share an aggregate, a claim or a phone)."""

    members: list[int] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    rows: list[dict[UUID, UUID | None]] = field(default_factory=list)
    touched: set[Hashable] = field(default_factory=set)


async def process_orders(
    processing: AttendeeProcessing, orders: Sequence[OrderRequest]
) -> list[Answer]:
    """Every order's results (or its error), in order; conflicting ones decided again."""
    executor = processing.executor
    loop = asyncio.get_running_loop()
    prepared = await loop.run_in_executor(executor.threads, _prepare, processing, orders)
    answers: dict[int, Answer] = {
        i: item for i, item in enumerate(prepared) if isinstance(item, Exception)
    }
    pending = [i for i in range(len(orders)) if i not in answers]
    keys = {("order", o.meta.principal.tenant_id, o.order_id) for o in orders}
    async with AsyncExitStack() as locks:  # as `process`: one command per order at a time
        for key in sorted(keys):
            await locks.enter_async_context(executor.locks.hold(key))
        for attempt in range(MAX_ATTEMPTS):
            if not pending:
                break
            if attempt:
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
            todo = [item for i in pending if isinstance(item := prepared[i], _Prepared)]
            settled = await loop.run_in_executor(executor.threads, _round, processing, todo)
            for i, answer in zip(list(pending), settled, strict=True):
                if answer is not None:
                    answers[i] = answer
            pending = [i for i, answer in zip(pending, settled, strict=True) if answer is None]
    for i in pending:
        answers[i] = ServiceUnavailable("The order's customers are being changed concurrently.")
    return [answers[i] for i in range(len(orders))]


def _prepare(
    processing: AttendeeProcessing, orders: Sequence[OrderRequest]
) -> list[_Prepared | Exception]:
    prepared: list[_Prepared | Exception] = []
    for request in orders:
        try:
            order, profiles = processing.prepare(
                request.order_id, request.placed_at, request.attendees
            )
        except CustomerError as error:
            prepared.append(error)
            continue
        prepared.append(_Prepared(request.meta, order, profiles))
    return prepared


Decided = tuple[int, list[Event], dict[UUID, UUID | None], set[Hashable]]
"""An order decided in a round: its index, events, phone rows and what it touched."""


def _round(processing: AttendeeProcessing, items: list[_Prepared]) -> list[Answer | None]:
    """On a worker thread: read, decide every order, store the groups in one transaction
    (waiting here: futures awaited on a busy loop settle late). None: decide again."""
    lookup = BatchLookup(
        processing.executor,
        [(item.meta.principal.tenant_id, item.order.order_id, item.profiles) for item in items],
    )
    answers: list[Answer | None] = [None] * len(items)
    decided: list[Decided] = []
    for index, item in enumerate(items):
        lookup.begin()
        try:
            decision = processing.decide_order(item.meta, item.order, item.profiles, lookup)
        except (Deferred, StaleDecision):
            lookup.fail()
            continue
        except Exception as error:  # answered to its order (a 409, a store error)
            lookup.fail()
            answers[index] = error
            continue
        answers[index] = decision.result or []
        if decision.replayed:
            lookup.finish([])
            continue
        events = [*decision.customer.collect_events(), *decision.events]
        decided.append((index, events, dict(decision.phone_rows), lookup.finish(events)))
    _store(processing, lookup, decided, answers)
    return answers


def _store(
    processing: AttendeeProcessing,
    lookup: BatchLookup,
    decided: list[Decided],
    answers: list[Answer | None],
) -> None:
    """Commit the decided orders' groups together; a group refused by a conflict is decided
    again (None), one refused otherwise answers the error. Keeps the customers stored."""
    executor = processing.executor
    groups = _groups(decided)
    futures = executor.committer.submit_many(
        [(group.events, merge_rows(group.rows)) for group in groups]
    )
    wait(futures)
    refused: set[Hashable] = set(lookup.tainted)
    for group, future in zip(groups, futures, strict=True):
        failure = future.exception()
        if failure is None:
            continue
        refused |= group.touched  # changed in memory, not stored: read again next time
        for index in group.members:
            answers[index] = None if isinstance(failure, IntegrityError) else _exception(failure)
    executor.customers.keep(c for oid, c in lookup.customers.items() if oid not in refused)


def _groups(decided: list[Decided]) -> list[_Group]:
    """Decided orders grouped by what they touch in common (an aggregate's events stay in
    version order: the orders touching it are in one group, in decision order)."""
    groups: list[_Group] = []
    owner: dict[Hashable, _Group] = {}
    for index, events, rows, touched in decided:
        joined = _Group()
        for group in {id(g): g for oid in touched if (g := owner.get(oid))}.values():
            joined.members += group.members
            joined.events += group.events
            joined.rows += group.rows
            joined.touched |= group.touched
            groups.remove(group)
        joined.members.append(index)
        joined.events += events
        joined.rows.append(rows)
        joined.touched |= touched
        for oid in joined.touched:
            owner[oid] = joined
        groups.append(joined)
    return groups


def _exception(error: BaseException) -> Exception:
    return error if isinstance(error, Exception) else RuntimeError(error)
