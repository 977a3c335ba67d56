"""Dead letters: events a projection could not apply after retries, kept in the event store.

They are stored as events of a `ParkedEvents` aggregate per projection (id derived from the
projection name), so they survive restarts in both profiles and any process can read them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from shared.json_types import JSONObject
from write_side.application.ports import EventStore

_NAMESPACE = uuid.UUID("5b0c55c5-05a4-4a31-8f0e-2ae1dc6f3a10")


class ParkedEvents(Aggregate):
    """The dead letters of one projection."""

    @staticmethod
    def create_id(projection: str) -> uuid.UUID:
        """One aggregate per projection name."""
        return uuid.uuid5(_NAMESPACE, projection)

    @event("Opened")
    def __init__(self, projection: str) -> None:
        self.projection = projection
        self.letters: list[JSONObject] = []

    @event("Parked")
    def park(self, letter: JSONObject) -> None:
        """Record an event that could not be applied."""
        self.letters.append(letter)

    @event("Cleared")
    def clear(self, actor: str) -> None:
        """The operator fixed the cause; the projection may resume."""
        self.letters = []


@dataclass(frozen=True)
class DeadLetter:
    """What failed, where, and why."""

    projection: str
    position: int
    event_id: str
    event_type: str
    customer_id: str
    error: str
    at: str


class DeadLetterBook:
    """Reads and writes dead letters (synchronous: call it off the event loop)."""

    def __init__(self, app: EventStore) -> None:
        self._app = app

    def _load(self, projection: str) -> ParkedEvents | None:
        try:
            parked: Any = self._app.repository.get(ParkedEvents.create_id(projection))
        except AggregateNotFoundError:
            return None
        return parked if isinstance(parked, ParkedEvents) else None

    def park(self, letter: DeadLetter) -> None:
        """Persist a dead letter."""
        parked = self._load(letter.projection) or ParkedEvents(projection=letter.projection)
        parked.park(letter.__dict__.copy())
        self._app.save(parked)

    def parked(self, projection: str) -> list[DeadLetter]:
        """The dead letters of a projection (empty when it is healthy)."""
        parked = self._load(projection)
        return [DeadLetter(**letter) for letter in parked.letters] if parked else []

    def clear(self, projection: str, actor: str) -> int:
        """Forget the dead letters so the projection retries from its checkpoint."""
        parked = self._load(projection)
        if parked is None or not parked.letters:
            return 0
        count = len(parked.letters)
        parked.clear(actor)
        self._app.save(parked)
        return count
