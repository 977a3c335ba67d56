"""Signals between the processes of one deployment through PostgreSQL LISTEN/NOTIFY.

A `PgChannel` is one named channel of the event store's database and schema (deployments
sharing a PostgreSQL server do not hear each other). `send` never blocks its caller: payloads
are queued, de-duplicated, and sent by a thread on a connection of its own. `listen` calls
`on_message(payload)` on a listener thread. Both reconnect after errors; what is lost meanwhile
must be covered by the user (the projection runner polls; key caches expire).
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


def channel_for(url: str, name: str) -> str:
    """The channel `name` of one event store (database and schema)."""
    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("schema", ["public"])[-1]
    digest = hashlib.sha256(f"{parts.path}|{schema}".encode()).hexdigest()[:16]
    return f"customers_{name}_{digest}"


def conninfo_for(url: str) -> str:
    """The libpq URL of the event store (`?schema=` is this service's, not libpq's)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class PgChannel:
    """`send(payload)` from any thread; `listen(on_message)` in the processes that react."""

    def __init__(self, url: str, name: str) -> None:
        self._conninfo = conninfo_for(url)
        self._channel = channel_for(url, name)
        self._pending: dict[str, None] = {}
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._sender: threading.Thread | None = None
        self._listener: threading.Thread | None = None

    def send(self, payload: str = "") -> None:
        """Queue a notification (payloads already queued are sent once)."""
        with self._wake:
            if self._sender is None and not self._stopping.is_set():
                self._sender = _daemon(self._send, f"pg-notify-{self._channel}")
            self._pending[payload] = None
            self._wake.notify()

    def listen(self, on_message: Callable[[str], None]) -> None:
        """Call `on_message(payload)` for every notification, on a thread, until `close()`."""
        with self._wake:
            if self._listener is None:
                target = lambda: self._receive(on_message)  # noqa: E731
                self._listener = _daemon(target, f"pg-listen-{self._channel}")

    def close(self) -> None:
        """Stop: the sender at once (after what is queued), the listener within its wait."""
        self._stopping.set()
        with self._wake:
            self._wake.notify()
        if self._sender is not None:
            self._sender.join(timeout=3)

    def _take(self) -> list[str]:
        with self._wake:
            while not self._pending and not self._stopping.is_set():
                self._wake.wait()
            taken = list(self._pending)
            self._pending.clear()
            return taken

    def _send(self) -> None:
        while not self._stopping.is_set() or self._pending:
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    while payloads := self._take():
                        for payload in payloads:
                            conn.execute("SELECT pg_notify(%s, %s)", (self._channel, payload))
                    return
            except psycopg.Error as error:
                logger.warning("cannot send on %s: %s", self._channel, error)
                self._stopping.wait(_RETRY_SECONDS)

    def _receive(self, on_message: Callable[[str], None]) -> None:
        statement = sql.SQL("LISTEN {}").format(sql.Identifier(self._channel))
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(statement)
                    while not self._stopping.is_set():
                        for notification in conn.notifies(timeout=_WAIT_SECONDS):
                            _deliver(on_message, notification.payload, self._channel)
            except psycopg.Error as error:
                logger.warning("cannot listen on %s: %s", self._channel, error)
                self._stopping.wait(_RETRY_SECONDS)


def _deliver(on_message: Callable[[str], None], payload: str, channel: str) -> None:
    try:
        on_message(payload)
    except Exception:  # a bad message must not stop the listener
        logger.exception("a notification on %s could not be handled", channel)


def _daemon(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
