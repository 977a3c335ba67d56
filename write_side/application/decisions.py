"""What a command decided: the events to append and the customer to answer with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from shared.principal import Principal
from write_side.domain.customer import Customer


@dataclass(frozen=True)
class CommandMeta:
    """Who sends the command and under which HTTP preconditions."""

    principal: Principal
    expected_version: int | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""


@dataclass
class Decision:
    """The result of deciding a command, before its events are stored."""

    customer: Customer
    status: int
    events: list[DomainEventProtocol[Any]] = field(default_factory=list)
    replayed: bool = False
    result: Any = None
    phone_rows: dict[UUID, UUID | None] = field(default_factory=dict)
    """Phone-book rows to write with the events (see `write_side.application.phone_book`)."""


@dataclass(frozen=True)
class CommandOutcome:
    """A stored (or replayed) command: the HTTP layer renders it."""

    customer: Customer
    status: int
    position: int
    replayed: bool = False
    result: Any = None


class StaleDecision(Exception):
    """State read by a decision changed before it could be saved; decide again."""
