"""A circuit breaker around the PostgreSQL event store, so an outage is a quick 503.

Without it a request that needs the event store while PostgreSQL is down or silent waits
for the eventsourcing library's retries (ten attempts of each recorder method, each one
waiting up to the pool's 5 s for a connection): about 37 s before its 503. The breaker opens
on the first connection-level failure; while it is open every use of the datastore fails at
once with `EventStoreUnavailable` (a `ConnectionError`: the HTTP layer answers 503 with
Retry-After, the projection runner retries instead of parking, and the library does not
retry it). One background thread probes with a fresh connection bounded by the service
timeout, checks the pool's idle connections once PostgreSQL answers, and closes the breaker.

Load must not open it: a lock or serialization timeout is the server answering, and a pool
timeout counts only when no connection was used successfully during the pool's wait (a busy
pool keeps returning connections). Nothing is half-applied: a write fails before or inside
its transaction, and a commit whose acknowledgement was lost is found by the retry of the
same Idempotency-Key (the idempotency record is saved in the same transaction).
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import PoolTimeout

from shared.json_types import JSONObject

logger = logging.getLogger(__name__)

#: Seconds between two probes while the breaker is open.
PROBE_INTERVAL_SECONDS = 0.5
#: SQLSTATEs of a server that is going away or refusing connections (the server answered,
#: but the connection is no use): admin shutdown, crash shutdown, cannot connect now.
_GOING_AWAY = {"57P01", "57P02", "57P03"}


class EventStoreUnavailable(ConnectionError):
    """The event store cannot be reached now (the breaker is open); retry later."""


class EventStoreBreaker:
    """Closed (requests pass) or open (they fail fast); see the module doc.

    `probe` raises unless the store answers; it runs on one thread at a time.
    """

    def __init__(
        self,
        probe: Callable[[], None],
        *,
        pool_wait_seconds: float,
        probe_interval: float = PROBE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._pool_wait = pool_wait_seconds
        self._interval = probe_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._open = False
        self._prober: threading.Thread | None = None
        self._stopped = threading.Event()
        self._last_success = clock()
        self.trips = 0

    @property
    def is_open(self) -> bool:
        """True while requests fail fast."""
        return self._open

    def check(self) -> None:
        """Raise `EventStoreUnavailable` while the breaker is open."""
        if self._open:
            raise EventStoreUnavailable("the event store is unreachable (circuit open)")

    def succeeded(self) -> None:
        """A connection was used and the server answered."""
        self._last_success = self._clock()

    def is_outage(self, error: BaseException) -> bool:
        """True when `error` says the store cannot be reached, not that it is busy."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(current, PoolTimeout):
                return self._clock() - self._last_success >= self._pool_wait * 0.9
            if isinstance(current, psycopg.errors.PipelineAborted):
                return False  # an earlier statement of the pipeline failed on the server
            if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError):
                state = current.sqlstate
                return state is None or state.startswith("08") or state in _GOING_AWAY
            if isinstance(current, OSError):
                return True
            current = current.__cause__
        return False

    def trip(self) -> None:
        """Open the breaker and start the (single) prober."""
        with self._lock:
            if not self._open:
                self.trips += 1
                logger.warning("event store unreachable: failing fast until it answers")
            self._open = True
            if self._prober is None and not self._stopped.is_set():
                self._prober = threading.Thread(
                    target=self._probe_until_closed, name="event-store-probe", daemon=True
                )
                self._prober.start()

    def stop(self) -> None:
        """Stop probing (the datastore is closing)."""
        self._stopped.set()

    def _probe_until_closed(self) -> None:
        try:
            while not self._stopped.is_set():
                try:
                    self._probe()
                except Exception as error:  # any failure: still away
                    logger.debug("event store probe failed: %s", type(error).__name__)
                    self._stopped.wait(self._interval)
                    continue
                with self._lock:
                    self._open = False
                    self._last_success = self._clock()
                logger.warning("event store answers again: circuit closed")
                return
        finally:
            with self._lock:
                self._prober = None


def install_breaker(datastore: PostgresDatastore, *, timeout_seconds: float) -> EventStoreBreaker:
    """Guard every use of `datastore` (recorders, key store, phone book, audit chain all go
    through `get_connection`) with a breaker whose probe waits at most `timeout_seconds`."""
    pool = datastore.pool
    kwargs: JSONObject = pool.kwargs if isinstance(pool.kwargs, dict) else {}
    # Background reconnects must not hang on a silent server; keepalives find a peer that
    # vanished without a reset.
    kwargs.setdefault("connect_timeout", max(2, math.ceil(pool.timeout)))
    kwargs.update(keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)

    def probe() -> None:
        connect = {**kwargs, "connect_timeout": max(2, math.ceil(timeout_seconds))}
        with psycopg.connect(**connect, autocommit=True) as connection:
            connection.execute("SELECT 1")
        pool.check()  # drop the idle connections the outage killed before reopening

    breaker = EventStoreBreaker(probe, pool_wait_seconds=pool.timeout)
    watchdog = Watchdog(breaker, kwargs, timeout_seconds)
    original = datastore.get_connection
    close = datastore.close

    @contextmanager
    def get_connection() -> Iterator[psycopg.Connection[Any]]:
        breaker.check()
        try:
            with original() as connection, watchdog.watching(connection):
                yield connection
        except Exception as error:
            if breaker.is_outage(error):
                breaker.trip()
                raise EventStoreUnavailable("the event store is unreachable") from error
            breaker.succeeded()
            raise
        breaker.succeeded()

    def close_all() -> None:
        breaker.stop()
        watchdog.stop()
        close()

    datastore.get_connection = get_connection  # type: ignore[method-assign]
    datastore.close = close_all  # type: ignore[method-assign]
    return breaker


class Watchdog:
    """Unblocks statements stuck on a connection that went silent (a network partition
    resets nothing, and the server's acknowledgements never come): a connection in use for
    longer than the timeout makes it try a fresh connection; only when that cannot reach the
    server either does it open the breaker and shut the stuck sockets down, so their threads
    fail (503) instead of waiting forever. A long statement on a reachable server is left
    alone. At most one reachability check per timeout."""

    def __init__(
        self, breaker: EventStoreBreaker, kwargs: dict[str, Any], timeout_seconds: float
    ) -> None:
        self._breaker, self._kwargs, self._timeout = breaker, kwargs, timeout_seconds
        self._in_use: dict[int, tuple[psycopg.Connection[Any], float]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.checked_at = -math.inf

    @contextmanager
    def watching(self, connection: psycopg.Connection[Any]) -> Iterator[None]:
        """Watch `connection` while the caller uses it."""
        with self._lock:
            self._in_use[id(connection)] = (connection, time.monotonic())
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="event-store-watchdog", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._in_use.pop(id(connection), None)

    def stop(self) -> None:
        """Stop watching (the datastore is closing)."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(min(0.25, self._timeout / 4)):
            self.sweep()

    def sweep(self) -> None:
        """One look at the connections in use (the watchdog thread calls it periodically)."""
        now = time.monotonic()
        with self._lock:
            stuck = [c for c, since in self._in_use.values() if now - since > self._timeout]
        if stuck and now - self.checked_at >= self._timeout:
            self.checked_at = now
            if not self._reachable():
                self._breaker.trip()
                for connection in stuck:
                    _shut_down(connection)

    def _reachable(self) -> bool:
        connect = {**self._kwargs, "connect_timeout": max(2, math.ceil(self._timeout))}
        try:
            with psycopg.connect(**connect, autocommit=True) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error as error:
            state = error.sqlstate  # the server answered (too many clients...): reachable
            return not (state is None or state.startswith("08"))
        except OSError:
            return False
        return True


def _shut_down(connection: psycopg.Connection[Any]) -> None:
    """Shut the connection's socket down under the thread blocked on it (a duplicate of the
    descriptor: closing it leaves the original to psycopg)."""
    try:
        with socket.fromfd(connection.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as dup:
            dup.shutdown(socket.SHUT_RDWR)
    except (OSError, psycopg.Error):
        pass  # already closed
