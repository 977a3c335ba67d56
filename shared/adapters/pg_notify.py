"""Signals between the processes of one deployment through PostgreSQL LISTEN/NOTIFY.

A `PgChannel` is one named channel of the event store's database and schema (deployments
sharing a PostgreSQL server do not hear each other). `send` never blocks its caller: payloads
are queued, de-duplicated, and sent by a thread on a connection of its own. `listen` calls
`on_message(payload)` on a listener thread. Both reconnect by themselves after a lost
connection: the sender sends again what it had not sent (nothing queued is dropped), and the
listener, once listening again, calls `on_reconnect()`, since whatever was notified while it
was away is lost: the caller catches up (the runner reads the log, key caches drop their keys).
TCP keepalives find a connection that died without a reset (a cable, a NAT, a frozen server)
within about `KEEPALIVE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)
_RETRY_SECONDS = 1.0
_WAIT_SECONDS = 0.25  # how often the listener checks whether it should stop
KEEPALIVE_SECONDS = 20  # idle 5 s, then 5 probes 3 s apart (see `_connect`)


def channel_for(url: str, name: str) -> str:
    """The channel `name` of one event store (database and schema)."""
    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("schema", ["public"])[-1]
    digest = hashlib.sha256(f"{parts.path}|{schema}".encode()).hexdigest()[:16]
    return f"customers_{name}_{digest}"


#: libpq's TLS parameters, passed through from the event store URL (`?sslmode=verify-full&…`)
LIBPQ_TLS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl")


def conninfo_for(url: str) -> str:
    """The libpq URL of the event store: `?schema=` is this service's and is left out, the TLS
    parameters (`LIBPQ_TLS`) are libpq's and are kept."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k in LIBPQ_TLS]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))


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

    def listen(
        self, on_message: Callable[[str], None], on_reconnect: Callable[[], None] | None = None
    ) -> None:
        """Call `on_message(payload)` for every notification, on a thread, until `close()`;
        `on_reconnect()` each time it listens again after a lost connection."""
        with self._wake:
            if self._listener is None:
                target = lambda: self._receive(on_message, on_reconnect)  # noqa: E731
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
        unsent: list[str] = []
        while not self._stopping.is_set() or self._pending or unsent:
            try:
                with _connect(self._conninfo) as conn:
                    while unsent or (unsent := self._take()):
                        conn.execute("SELECT pg_notify(%s, %s)", (self._channel, unsent[0]))
                        unsent.pop(0)
                    return
            except psycopg.Error as error:  # `unsent` is sent again on the next connection
                logger.warning("cannot send on %s: %s", self._channel, error)
                if self._stopping.wait(_RETRY_SECONDS):
                    return  # closing: no more attempts

    def _receive(
        self, on_message: Callable[[str], None], on_reconnect: Callable[[], None] | None
    ) -> None:
        statement = sql.SQL("LISTEN {}").format(sql.Identifier(self._channel))
        lost = False
        while not self._stopping.is_set():
            try:
                with _connect(self._conninfo) as conn:
                    conn.execute(statement)
                    if lost and on_reconnect is not None:
                        logger.info("listening on %s again", self._channel)
                        _deliver(lambda _: on_reconnect(), "", self._channel)
                    lost = False
                    while not self._stopping.is_set():
                        for notification in conn.notifies(timeout=_WAIT_SECONDS):
                            _deliver(on_message, notification.payload, self._channel)
            except psycopg.Error as error:
                lost = True
                logger.warning("cannot listen on %s: %s", self._channel, error)
                self._stopping.wait(_RETRY_SECONDS)


def _connect(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection with TCP keepalives (libpq's parameters)."""
    return psycopg.connect(
        conninfo,
        autocommit=True,
        connect_timeout=5,
        keepalives=1,
        keepalives_idle=5,
        keepalives_interval=3,
        keepalives_count=5,
    )


def _deliver(on_message: Callable[[str], None], payload: str, channel: str) -> None:
    try:
        on_message(payload)
    except Exception:  # a bad message must not stop the listener
        logger.exception("a notification on %s could not be handled", channel)


def _daemon(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
