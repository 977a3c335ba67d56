"""The event store's circuit breaker: which failures open it (an outage, not load), fail-fast
while open, a single prober at a time, and a group commit that never hangs its batch when the
store disappears in the middle of resolving a conflict."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from psycopg import errors
from psycopg_pool import PoolTimeout

from shared.transient import is_transient
from write_side.adapters.event_store_breaker import (
    EventStoreBreaker,
    EventStoreUnavailable,
    Watchdog,
)
from write_side.application.group_commit import GroupCommitter, PendingSave


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _wrapped(error: Exception) -> OperationalError:
    """As the library raises it: its own error, caused by psycopg's."""
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as wrapped:
        return wrapped


def test_connection_failures_open_the_breaker_and_load_does_not() -> None:
    clock = Clock()
    breaker = EventStoreBreaker(lambda: None, pool_wait_seconds=5, clock=clock)
    assert breaker.is_outage(_wrapped(psycopg.OperationalError("server closed the connection")))
    assert breaker.is_outage(_wrapped(psycopg.InterfaceError("the connection is closed")))
    assert breaker.is_outage(_wrapped(errors.AdminShutdown("terminating connection")))
    assert breaker.is_outage(ConnectionRefusedError())
    # The server answered: a lock or serialization timeout is load, not an outage.
    assert not breaker.is_outage(_wrapped(errors.LockNotAvailable("lock timeout")))
    assert not breaker.is_outage(_wrapped(errors.SerializationFailure("retry")))
    assert not breaker.is_outage(IntegrityError("duplicate version"))
    assert not breaker.is_outage(_wrapped(errors.PipelineAborted("pipeline aborted")))
    # A pool timeout while other requests keep getting connections is a busy pool...
    clock.now += 4
    breaker.succeeded()
    clock.now += 1
    assert not breaker.is_outage(_wrapped(PoolTimeout("couldn't get a connection")))
    # ...and one during which no connection was used is an outage.
    clock.now += 5
    assert breaker.is_outage(_wrapped(PoolTimeout("couldn't get a connection")))


def test_while_open_requests_fail_fast_as_a_transient_error_until_the_probe_answers() -> None:
    answers = threading.Event()

    def probe() -> None:
        if not answers.is_set():
            raise ConnectionRefusedError

    breaker = EventStoreBreaker(probe, pool_wait_seconds=5, probe_interval=0.01)
    breaker.check()
    breaker.trip()
    with pytest.raises(EventStoreUnavailable) as refused:
        breaker.check()
    assert is_transient(refused.value)
    time.sleep(0.05)
    assert breaker.is_open
    answers.set()
    deadline = time.monotonic() + 5
    while breaker.is_open and time.monotonic() < deadline:
        time.sleep(0.01)
    breaker.check()
    assert breaker.trips == 1


def test_one_probe_at_a_time_however_many_requests_fail() -> None:
    running, most, release = 0, 0, threading.Event()
    lock = threading.Lock()

    def probe() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1

    breaker = EventStoreBreaker(probe, pool_wait_seconds=5, probe_interval=0.01)
    tripping = [threading.Thread(target=breaker.trip) for _ in range(20)]
    for thread in tripping:
        thread.start()
    for thread in tripping:
        thread.join()
    time.sleep(0.05)
    release.set()
    deadline = time.monotonic() + 5
    while breaker.is_open and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not breaker.is_open
    assert most == 1
    breaker.stop()


class _StoreGoneWhileProbing:
    """A store whose save conflicts and whose conflict query finds the store gone."""

    class recorder:  # noqa: N801 - stands for the application's recorder attribute
        @staticmethod
        def latest_versions(_: Any) -> dict[uuid.UUID, int]:
            raise EventStoreUnavailable("the event store is unreachable")

    def save(self, *_: Any, **__: Any) -> Any:
        raise IntegrityError("version conflict")


class _Event:
    def __init__(self) -> None:
        self.originator_id, self.originator_version = uuid.uuid4(), 1


def test_the_group_commit_fails_its_batch_instead_of_hanging_when_the_store_goes_away() -> None:
    committer = GroupCommitter(_StoreGoneWhileProbing())  # type: ignore[arg-type]
    batch = [PendingSave([_Event()]) for _ in range(3)]
    committer.commit(batch)
    for request in batch:
        assert isinstance(request.done.exception(timeout=0), EventStoreUnavailable)
    try:
        for _ in range(2):  # through the committer thread, which survives each batch
            futures = [committer.submit([_Event()]) for _ in range(3)]
            for future in futures:
                error = future.exception(timeout=5)
                assert isinstance(error, EventStoreUnavailable | IntegrityError)
    finally:
        committer.stop()


def test_a_long_statement_on_a_reachable_store_is_checked_once_per_timeout_and_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    breaker = EventStoreBreaker(lambda: None, pool_wait_seconds=5)
    watchdog = Watchdog(breaker, {}, timeout_seconds=0.05)
    watchdog.stop()  # sweep by hand, no thread
    checks: list[float] = []

    def reachable() -> bool:
        checks.append(time.monotonic())
        return True

    monkeypatch.setattr(watchdog, "_reachable", reachable)
    connection: Any = object()
    with watchdog.watching(connection):
        watchdog.sweep()
        assert checks == []  # not held long enough yet
        time.sleep(0.06)
        for _ in range(10):
            watchdog.sweep()
        assert len(checks) == 1  # one fresh connection per timeout, not per sweep
        time.sleep(0.06)
        watchdog.sweep()
        assert len(checks) == 2
    assert not breaker.is_open
