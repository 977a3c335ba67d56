"""What a command decided, and what the executor answers once it is stored.

No HTTP here: a use case says what happened (`Outcome`); the HTTP layer picks the status.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from shared.principal import Principal
from write_side.domain.customer import Customer

Event = DomainEventProtocol[Any]
R = TypeVar("R", covariant=True)
"""What a use case answers besides the customer (an invoice, per-attendee results...)."""


@dataclass(frozen=True)
class CommandMeta:
    """Who sends the command, the version they saw and the idempotency key they chose."""

    principal: Principal
    expected_version: int | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""


class Outcome(enum.Enum):
    """What a command did to its resource (the HTTP layer maps each to a status)."""

    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    """Decided to change nothing (the same values again, an erasure of an erased customer)."""


@dataclass(frozen=True)
class Decision(Generic[R]):
    """The result of deciding a command, before its events are stored.

    `events` are the events of other aggregates (claims, records, other customers) saved in
    the same transaction; the customer's own pending events are collected by the executor.
    """

    customer: Customer
    outcome: Outcome = Outcome.CHANGED
    events: tuple[Event, ...] = ()
    phone_rows: Mapping[UUID, UUID | None] = field(default_factory=dict)
    """Phone-book rows to write with the events (see `write_side.application.phone_book`)."""
    result: R | None = None
    replayed: bool = False


@dataclass(frozen=True)
class CommandOutcome(Generic[R]):
    """A stored (or replayed) command: the customer as it now is and the log position.

    `replayed` is a flag, not a fourth outcome: a replay answers as the first request did
    (a replayed create is still `CREATED`), and says that it is a replay.
    """

    customer: Customer
    outcome: Outcome
    position: int
    replayed: bool = False
    result: R | None = None

    def answer(self) -> R:
        """The use case's result. Decisions that promise one always carry it, and replays of
        them rebuild it; its absence is a bug, not a client's error."""
        if self.result is None:
            raise RuntimeError("the command's decision carried no result")
        return self.result


class StaleDecision(Exception):
    """State read by a decision changed before it could be saved; decide again."""
