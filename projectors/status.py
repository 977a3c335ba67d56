"""What the runner knows about each projection: position, lag, errors, dead letters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from projectors.dead_letters import DeadLetter
from projectors.envelopes import LogBatch
from shared.json_types import JSONObject


@dataclass
class ProjectionStatus:
    """Live status of one projection."""

    name: str
    position: int = 0
    head: int = 0
    state: str = "running"
    last_error: str | None = None
    behind_since: float | None = None
    applied_events: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def applied(self, batch: LogBatch, head: int) -> None:
        """A batch was stored."""
        self.position = batch.last_position
        self.head = max(head, self.position)
        self.applied_events += len(batch.envelopes)
        self.last_error = None
        if batch.envelopes and self.position < self.head:
            self.behind_since = batch.envelopes[-1].occurred_at.timestamp()

    def caught_up(self, head: int) -> None:
        """Nothing left to read."""
        self.head = max(head, self.position)
        self.behind_since = None

    def stop(self, letters: list[DeadLetter]) -> None:
        """The projection halted on dead letters."""
        self.state = "stopped"
        self.dead_letters = list(letters)

    def resume(self) -> None:
        """The dead letters were cleared: running again, from the checkpoint."""
        self.state = "running"
        self.dead_letters = []
        self.last_error = None

    @property
    def lag_events(self) -> int:
        """Events stored but not yet applied (claims and records included)."""
        return max(0, self.head - self.position)

    def lag_seconds(self, now: float | None = None) -> float:
        """Age of the oldest event not yet applied (0 when caught up)."""
        if self.behind_since is None or self.lag_events == 0:
            return 0.0
        return max(0.0, (now or time.time()) - self.behind_since)

    def as_dict(self) -> JSONObject:
        """JSON-friendly view for /health and the CLI."""
        return {
            "name": self.name,
            "state": self.state,
            "position": self.position,
            "head": self.head,
            "lagEvents": self.lag_events,
            "lagSeconds": round(self.lag_seconds(), 3),
            "lastError": self.last_error,
            "deadLetters": [letter.__dict__ for letter in self.dead_letters],
        }
