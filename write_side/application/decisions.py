"""What a command decided, and what the executor answers once it is stored.

No HTTP here: a use case says what happened (`Outcome`); the HTTP layer picks the status.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from shared.principal import Principal
from write_side.domain.customer import Customer

Event = DomainEventProtocol[Any]


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
class Decision:
    """The result of deciding a command, before its events are stored.

    `events` are the events of other aggregates (claims, records, other customers) saved in
    the same transaction; the customer's own pending events are collected by the executor.
    """

    customer: Customer
    outcome: Outcome = Outcome.CHANGED
    events: tuple[Event, ...] = ()
    phone_rows: Mapping[UUID, UUID | None] = field(default_factory=dict)
    """Phone-book rows to write with the events (see `write_side.application.phone_book`)."""
    result: Any = None
    replayed: bool = False


@dataclass(frozen=True)
class CommandOutcome:
    """A stored (or replayed) command: the customer as it now is and the log position.

    `replayed` is a flag, not a fourth outcome: a replay answers as the first request did
    (a replayed create is still `CREATED`), and says that it is a replay.
    """

    customer: Customer
    outcome: Outcome
    position: int
    replayed: bool = False
    result: Any = None


class StaleDecision(Exception):
    """State read by a decision changed before it could be saved; decide again."""
