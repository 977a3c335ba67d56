"""Start `customers serve` in a subprocess for a benchmark, and a minimal keep-alive HTTP/1.1
client that keeps response bodies (for cursors and ids) and times each request."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from shared.http.auth import mint_token

SECRET = "benchmark-secret-with-32-bytes-or-more!!"
#: the keys `serve` requires with a PostgreSQL store (the embedded profile uses them too)
KEYS = {
    "CUSTOMERS_MASTER_KEY": "benchmark-master-key",
    "CUSTOMERS_AUDIT_KEY": "benchmark-audit-key",
}
SERVICE_VARIABLES = (
    "CUSTOMERS_EVENT_STORE_URL",
    "CUSTOMERS_MONGO_URL",
    "CUSTOMERS_REDIS_URL",
    "CUSTOMERS_AMQP_URL",
)


def start_service(
    data_dir: Path,
    port: int,
    services: Mapping[str, str] | None = None,
    *,
    timeout: float = 60.0,
    workers: int = 1,
) -> subprocess.Popen[bytes]:
    """`customers serve` on 127.0.0.1:`port` with `data_dir`, rate limits off, and exactly the
    `CUSTOMERS_*_URL` variables in `services`; returns once `/health` answers."""
    env = dict(os.environ, CUSTOMERS_JWT_SECRET=SECRET, CUSTOMERS_LOG_LEVEL="WARNING") | KEYS
    env["CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE"] = "0"
    env["CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE"] = "0"
    for name in SERVICE_VARIABLES:
        env.pop(name, None)
    env.update(services or {})
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    if wait_for_health(process, port, timeout):
        return process
    stop_service(process)
    raise RuntimeError(f"the service did not start (exit code {process.poll()})")


def wait_for_health(process: subprocess.Popen[bytes], port: int, seconds: float) -> bool:
    """True once `/health` answers; False if the process exits or `seconds` pass first."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            # 5 s: while it projects a large log, /health can take over a second to answer
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_service(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bearer(tenant: str, roles: tuple[str, ...] = ("staff",)) -> dict[str, str]:
    """An Authorization header for `tenant`."""
    token = mint_token(SECRET, tenant=tenant, roles=roles, subject="bench", ttl_seconds=7200)
    return {"Authorization": f"Bearer {token}"}


class HttpClient:
    """One keep-alive connection; `request` returns (status, body, seconds).

    A connection idle for `IDLE_SECONDS` is replaced before use: uvicorn closes keep-alive
    connections idle for 5 s, and a request sent on a closed one would fail."""

    IDLE_SECONDS = 4.0

    def __init__(self, port: int, headers: Mapping[str, str]) -> None:
        self.port = port
        self.headers = dict(headers)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes, float]:
        """Send one request and read the whole response."""
        if self._writer is not None and time.monotonic() - self._used > self.IDLE_SECONDS:
            await self.close()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        started = time.perf_counter()
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        payload = await self._reader.readexactly(length) if length else b""
        self._used = time.monotonic()
        return status, payload, time.perf_counter() - started

    async def close(self) -> None:
        """Close the connection."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
