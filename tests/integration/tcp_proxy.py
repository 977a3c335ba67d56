"""A loopback TCP proxy for outage tests: cut every connection and refuse new ones, or
swallow traffic without ever answering."""

from __future__ import annotations

import asyncio
import contextlib
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
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
