"""The bulk path of an import: a chunk of rows decided at once and stored in one transaction.

Through the executor every row cost a thread hop, a future, a keyed lock and a commit request;
at thousands of rows a second that overhead was most of the work (profiled with py-spy, see
docs/benchmarks.md). Here one worker-thread call decides every row of a chunk with the API's
own decisions (`decide_create` / `decide_update`, the claims included), and the chunk's events
go to the group committer as ONE request: every row's customer and claim events are stored in
one transaction, or none of them. What the chunk cannot decide alone goes through the per-row
path afterwards:

- a row touching a customer or claim an earlier row of the chunk touches (two rows with one
  email) is *deferred*: decided again once the chunk is stored, on fresh state, in file order;
- when the chunk's save conflicts (another writer took a claim meanwhile, a key was shredded),
  nothing of it was stored, and its rows go through the per-row path, which reads and retries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial

from shared.errors import Conflict, NotFound, ValidationFailed
from write_side.application.decisions import Decision, Event, Outcome
from write_side.application.import_create import Planned
from write_side.application.import_keys import Tally, row_error
from write_side.imports.rows import Row, RowError

Decide = Callable[[Row], Decision[None] | Planned]


@dataclass
class ChunkDecision:
    """What a chunk's rows decided: the events to store together, and the rows left over."""

    events: list[Event] = field(default_factory=list)
    phone_rows: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally.empty)
    deferred: list[Row] = field(default_factory=list)
    touched: set[uuid.UUID] = field(default_factory=set)


def decide_chunk(
    decide: Decide,
    rows: list[Row],
    threads: Executor | None = None,
    reads: Callable[[Row], bool] | None = None,
    busy: frozenset[uuid.UUID] = frozenset(),
) -> ChunkDecision:
    """Decide `rows` (on worker threads: decisions read the event store), then take their
    decisions in file order. Rows that `reads` (all when None) are decided concurrently on
    `threads`: a row matching a stored customer reads its claim and its events, and on
    PostgreSQL those round trips, one row after the other, made importing a file again 4x
    slower than the first time. The other rows (new customers: nothing to read) are decided
    here: a future and a thread hop each were a fifth of their decision's cost. Rows
    touching `busy` (what the previous chunk, still being stored, touches) are deferred."""
    chunk = ChunkDecision()
    touched = chunk.touched
    attempt = partial(_attempt, decide)
    pending = {}
    if threads is not None:
        pending = {i: threads.submit(attempt, row) for i, row in enumerate(rows)
                   if reads is None or reads(row)}  # fmt: skip
    for i, row in enumerate(rows):
        decision = pending[i].result() if i in pending else attempt(row)
        if isinstance(decision, RowError):
            chunk.tally.fail(decision)
            continue
        events = decision.events
        ids = {decision.customer_id, *(event.originator_id for event in events)}
        if ids & touched or ids & busy:
            touched |= ids
            chunk.deferred.append(row)
            continue
        touched |= ids
        chunk.events += events
        chunk.phone_rows.update(decision.phone_rows)
        chunk.tally.count(outcome_name(decision.outcome, changed=bool(events)))
    return chunk


def _attempt(decide: Decide, row: Row) -> Planned | RowError:
    try:
        decision = decide(row)
    except (ValidationFailed, Conflict, NotFound) as error:
        return row_error(row, error)
    return Planned.of(decision) if isinstance(decision, Decision) else decision


def outcome_name(outcome: Outcome, *, changed: bool) -> str:
    """The count a row's outcome adds to (a change that stores nothing is `unchanged`)."""
    if not changed:
        return "unchanged"
    return {Outcome.CREATED: "created", Outcome.CHANGED: "updated"}.get(outcome, "unchanged")
