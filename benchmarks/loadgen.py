"""A small keep-alive HTTP/1.1 load generator on asyncio streams (low client overhead)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """Latencies (seconds) and status counts of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def run_load(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    clients: int,
    total: int | None = None,
    seconds: float | None = None,
) -> LoadResult:
    """Send requests over `clients` keep-alive connections: `total` of them, or as many as
    fit in `seconds` (requests started before the deadline still complete)."""
    result = LoadResult()
    counter = iter(range(total)) if total is not None else itertools.count()
    deadline = time.perf_counter() + seconds if seconds is not None else None

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for number in counter:
                if deadline is not None and time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                writer.write(make_request(number))
                status = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.perf_counter() - started
    return result


def post_json(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """Encode one HTTP/1.1 POST with a JSON body."""
    lines = [f"POST {path} HTTP/1.1", "Host: bench", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
