"""An import of customers from a file, as an aggregate of its own: its progress is stored in
the event store, so it survives a restart of the service (resumed, or reported failed).

Errors name a line, a field and a rule, never a value from the file (the messages are the
API's, which do not echo values). At most `MAX_ERRORS` are kept; `failed` counts them all.
"""

from __future__ import annotations

import enum
import uuid

from eventsourcing.domain import Aggregate, event

from shared.json_types import JSONObject

MAX_ERRORS = 1000


class ImportStatus(enum.StrEnum):
    """Where an import is."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportJob(Aggregate):
    """One file being imported into a tenant."""

    @event("Started")
    def __init__(
        self, tenant_id: str, actor: str, file_format: str, dry_run: bool, total: int
    ) -> None:
        self.tenant_id = tenant_id
        self.total = total
        self.actor = actor
        self.file_format = file_format
        self.dry_run = dry_run
        self.status = ImportStatus.RUNNING.value
        self.line = 0
        self.counts: dict[str, int] = dict.fromkeys(
            ("processed", "created", "updated", "unchanged", "failed"), 0
        )
        self.errors: list[JSONObject] = []
        self.reason: str | None = None

    def record_progress(self, line: int, counts: dict[str, int], errors: list[JSONObject]) -> None:
        """Rows up to `line` are applied: add their counts and errors."""
        room = MAX_ERRORS - len(self.errors)
        self._progressed(line=line, counts=counts, errors=errors[: max(room, 0)])

    @event("Progressed")
    def _progressed(self, line: int, counts: dict[str, int], errors: list[JSONObject]) -> None:
        self.line = line
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + value
        self.errors.extend(errors)

    @event("Finished")
    def finish(self) -> None:
        """Every row was read."""
        self.status = ImportStatus.DONE.value

    @event("Failed")
    def fail(self, reason: str) -> None:
        """The import stopped before its end (`reason` says why; rows up to `line` applied)."""
        self.status = ImportStatus.FAILED.value
        self.reason = reason

    @property
    def running(self) -> bool:
        """True until finished or failed."""
        return self.status == ImportStatus.RUNNING.value

    def summary(self) -> JSONObject:
        """The progress as `GET /imports/{id}` answers it."""
        return {
            "id": str(self.id),
            "status": self.status,
            "dryRun": self.dry_run,
            "format": self.file_format,
            "total": self.total,
            "line": self.line,
            **self.counts,
            "errors": list(self.errors),
            "reason": self.reason,
        }


def new_import_id() -> uuid.UUID:
    """A fresh import id."""
    return uuid.uuid4()
