"""A loopback TCP proxy for outage tests: cut every connection and refuse new ones, swallow
traffic without ever answering, or freeze (established connections go silent too: a network
partition, where nothing resets the client's sockets)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

from yarl import URL


class TcpProxy:
    """A loopback TCP proxy that can cut every connection and refuse new ones (`cut`, then
    `start` again on the same port), or swallow traffic without answering (`silent`)."""

    def __init__(self, upstream: URL, *, silent: bool = False) -> None:
        self.upstream, self.silent, self.port = upstream, silent, 0
        self._server: asyncio.Server | None = None
        self._transports: list[asyncio.WriteTransport] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def url(self) -> str:
        """The upstream URL, pointed at the proxy."""
        return str(self.upstream.with_host("127.0.0.1").with_port(self.port))

    async def start(self) -> None:
        """Listen (again) on the proxy's port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and abort every open connection."""
        if self._server is not None:
            self._server.close()
        for transport in self._transports:
            transport.abort()
        self._transports.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._transports.append(writer.transport)
        if self.silent:
            while await reader.read(65536):
                pass
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream.host, self.upstream.port
            )
        except OSError:
            writer.transport.abort()
            return
        self._transports.append(up_writer.transport)
        await asyncio.gather(_pipe(reader, up_writer, self), _pipe(up_reader, writer, self))


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, proxy: TcpProxy
) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            if proxy.silent:  # frozen: swallow, answer nothing, reset nothing
                continue
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


class ThreadedProxy:
    """A `TcpProxy` on an event loop of its own thread, driven from synchronous code (a
    `TestClient` blocks the test's loop while the app runs on another one)."""

    def __init__(self, upstream: URL) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = TcpProxy(upstream)
        self._call(self.proxy.start())

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def url(self) -> str:
        """The upstream URL, pointed at the proxy."""
        return self.proxy.url()

    def down(self, *, silent: bool = False) -> None:
        """Cut every connection; refuse new ones, or (`silent`) accept and never answer."""
        self._call(self.proxy.cut())
        if silent:
            self.proxy.silent = True
            self._call(self.proxy.start())

    def freeze(self) -> None:
        """Stop answering on every connection, open or new, without resetting any."""
        self.proxy.silent = True

    def up(self) -> None:
        """Forward again."""
        self._call(self.proxy.cut())
        self.proxy.silent = False
        self._call(self.proxy.start())

    def close(self) -> None:
        """Cut everything and stop the thread."""
        self._call(self.proxy.cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
