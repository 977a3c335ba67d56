"""Wake the projection runner of another process through PostgreSQL LISTEN/NOTIFY.

Commits wake the runner of their own process directly; a runner in another process (the
docker-compose worker, or the one `serve --workers N` process holding the projector lock)
would otherwise wait for its poll. Every committing process signals after each commit; a
sender thread coalesces bursts into one `NOTIFY` on a connection of its own (commits never
wait for it). The projecting process listens on another connection and calls `on_wake`.
Both reconnect after errors; the runner's short poll covers any notification lost meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)
_RETRY_SECONDS = 1.0
_WAIT_SECONDS = 0.25  # how often the listener checks whether it should stop


def channel_for(url: str) -> str:
    """The channel of one event store (database and schema), so deployments sharing a
    PostgreSQL server do not wake each other."""
    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("schema", ["public"])[-1]
    digest = hashlib.sha256(f"{parts.path}|{schema}".encode()).hexdigest()[:16]
    return f"customers_events_{digest}"


def conninfo_for(url: str) -> str:
    """The libpq URL of the event store (`?schema=` is this service's, not libpq's)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class PostgresWakeup:
    """`signal()` after commits (any thread); `listen(on_wake)` in the projecting process."""

    def __init__(self, url: str) -> None:
        self._conninfo = conninfo_for(url)
        self._channel = sql.Identifier(channel_for(url))
        self._pending = threading.Event()
        self._stopping = threading.Event()
        self._sender: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._lock = threading.Lock()

    def signal(self) -> None:
        """Ask for a NOTIFY (coalesced; never blocks the caller)."""
        with self._lock:
            if self._sender is None and not self._stopping.is_set():
                self._sender = _daemon(self._send, "pg-notify")
        self._pending.set()

    def listen(self, on_wake: Callable[[], None]) -> None:
        """Call `on_wake` for every notification, on a listener thread, until `close()`."""
        with self._lock:
            if self._listener is None:
                self._listener = _daemon(lambda: self._receive(on_wake), "pg-listen")

    def close(self) -> None:
        """Stop both threads: the sender at once, the listener within its next wait."""
        self._stopping.set()
        self._pending.set()
        if self._sender is not None:
            self._sender.join(timeout=3)

    def _send(self) -> None:
        statement = sql.SQL("NOTIFY {}").format(self._channel)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    while not self._stopping.is_set():
                        self._pending.wait()
                        self._pending.clear()
                        if not self._stopping.is_set():
                            conn.execute(statement)
            except psycopg.Error as error:
                logger.warning("cannot send projection wake-ups: %s", error)
                self._stopping.wait(_RETRY_SECONDS)

    def _receive(self, on_wake: Callable[[], None]) -> None:
        statement = sql.SQL("LISTEN {}").format(self._channel)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(statement)
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=_WAIT_SECONDS):
                            on_wake()
            except psycopg.Error as error:
                logger.warning("cannot listen for projection wake-ups: %s", error)
                self._stopping.wait(_RETRY_SECONDS)


def _daemon(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
