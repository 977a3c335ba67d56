"""The real `customers serve` refuses a huge request head as soon as it passes the limit: a
64 MB header is a 431 within a second or two and costs the server no memory to speak of."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_serve_console import CUSTOMERS, child_env, free_port

HUGE = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(port, pid) of `customers serve`, embedded, logging JSON to a file. One server for the
    module (starting one cost 3 to 9 s a test): each test resets the peak it measures, and the
    server must still be healthy after each huge request anyway."""
    tmp_path = tmp_path_factory.mktemp("serve")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    command = [CUSTOMERS, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    process = subprocess.Popen(command, stdout=log, stderr=log, env=child_env())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail((tmp_path / "serve.log").read_text())
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def reset_peak_memory(pid: int) -> None:
    """Start the process's peak resident set (VmHWM) afresh from its current size (Linux
    `clear_refs` 5), so a test sharing the server measures its own request only."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_memory_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def send_huge(port: int, head: bytes, filler: bytes, size: int) -> tuple[bytes, float]:
    """Send `head` then `size` bytes of `filler` from a thread; return the response head and
    body the server sent back and how long it took to arrive."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(15)

    def pump() -> None:
        try:
            sock.sendall(head)
            chunk = filler * (65536 // len(filler))
            for _ in range(size // len(chunk)):
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed the connection after answering: expected

    started = time.monotonic()
    threading.Thread(target=pump, daemon=True).start()
    received = b""
    try:
        while b"}" not in received.partition(b"\r\n\r\n")[2]:
            part = sock.recv(65536)
            if not part:
                break
            received += part
    finally:
        took = time.monotonic() - started
        sock.close()
    return received, took


@pytest.mark.parametrize(
    ("head", "filler", "status"),
    [
        (b"GET /customers HTTP/1.1\r\nHost: x\r\nX-Huge: ", b"a", b"431"),
        (b"GET /customers HTTP/1.1\r\nHost: x\r\n", b"X-H: 1\r\n", b"431"),
        (b"GET /customers?q=", b"a", b"431"),
        (b"POST /customers HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % HUGE, b"{", b"413"),
    ],
    ids=["one-header", "many-headers", "url", "body"],
)
def test_a_64_mb_request_is_refused_fast_with_little_memory(
    server: tuple[int, int], head: bytes, filler: bytes, status: bytes
) -> None:
    port, pid = server
    reset_peak_memory(pid)
    before = peak_memory_kib(pid)
    response, took = send_huge(port, head, filler, HUGE)
    assert response.startswith(b"HTTP/1.1 " + status), response[:200]
    assert b"application/problem+json" in response
    assert took < 2.0, took
    assert peak_memory_kib(pid) - before < 32 * 1024  # KiB: far below the 64 MB sent
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
