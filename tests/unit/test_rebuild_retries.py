"""A rebuild applies a batch again after a transient failure instead of failing whole: a
backfill on a loaded machine met SQLite's "database is locked" and started again from 0."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import cast

import pytest

from projectors import rebuild
from projectors.rebuild import RebuildTarget, apply_retrying
from read_side.events import EventEnvelope


class FlakyTarget:
    """Fails its first `failures` applies with `error`, then records what it is given."""

    name = "flaky"

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.applied: list[int] = []

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.applied.append(position)


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild, "APPLY_RETRY_PAUSES", (0.0, 0.0, 0.0))


async def test_a_locked_database_is_waited_out() -> None:
    target = FlakyTarget(2, sqlite3.OperationalError("database is locked"))
    await apply_retrying(cast(RebuildTarget, target), [], 2000)
    assert target.applied == [2000]


async def test_a_lock_that_never_frees_fails_the_rebuild_in_the_end() -> None:
    target = FlakyTarget(10, sqlite3.OperationalError("database is locked"))
    with pytest.raises(sqlite3.OperationalError):
        await apply_retrying(cast(RebuildTarget, target), [], 2000)
    assert target.failures == 6  # three pauses, four attempts


async def test_a_broken_batch_is_not_retried() -> None:
    target = FlakyTarget(1, ValueError("cannot fold"))
    with pytest.raises(ValueError, match="cannot fold"):
        await apply_retrying(cast(RebuildTarget, target), [], 2000)
    assert target.failures == 0 and not target.applied
