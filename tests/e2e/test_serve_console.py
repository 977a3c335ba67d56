"""`customers serve` as a person and as a machine see it: the real process, on a terminal and
on a pipe. On a terminal: the first screen says where it listens, its profile, its data dir,
a token command and a first request, then one readable coloured line per request. On a pipe:
JSON lines only."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CUSTOMERS = str(Path(sys.executable).parent / "customers")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUSTOMERS_", "NO_COLOR"))}
    return env | {"TERM": "xterm-256color", "CUSTOMERS_JWT_SECRET": "s" * 40} | extra


def read_until(fd: int, marker: str, deadline: float) -> str:
    """What the process wrote to `fd` up to the end of the line holding `marker`."""
    seen, wanted = b"", marker.encode()
    while wanted not in seen or b"\n" not in seen[seen.index(wanted) :]:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in time; got:\n{seen.decode(errors='replace')}"
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            seen += chunk
    return seen.decode(errors="replace")


@pytest.fixture
def on_terminal(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`customers serve` with stdout and stderr on a pseudo-terminal; (terminal fd, port)."""
    port = free_port()
    leader, follower = pty.openpty()
    command = [CUSTOMERS, "serve", "--port", str(port), "--data-dir", str(tmp_path)]
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=child_env()
    )
    os.close(follower)
    try:
        yield leader, port
    finally:
        process.terminate()
        process.wait(timeout=30)
        os.close(leader)


def test_on_a_terminal_the_first_screen_and_request_lines_are_for_a_person(
    on_terminal: tuple[int, int], tmp_path: Path
) -> None:
    terminal, port = on_terminal
    deadline = time.monotonic() + 60

    screen = read_until(terminal, "Application startup complete", deadline)
    response = httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "look-1"})
    line = read_until(terminal, "look-1", deadline).splitlines()[-1]

    assert f"listening   http://127.0.0.1:{port}" in screen
    assert "embedded profile" in screen
    assert str(tmp_path.resolve()) in screen
    assert f"{CUSTOMERS} token --tenant acme --role admin --data-dir {tmp_path}" in screen
    assert f"curl -s -X POST http://127.0.0.1:{port}/customers" in screen
    assert '{"ts"' not in screen
    link = screen.split("console     ")[1].split()[0]
    assert link.startswith(f"http://127.0.0.1:{port}/console#token=")
    token = link.split("#token=")[1]
    page = httpx.get(link.split("#")[0])
    signed_in = httpx.get(
        f"http://127.0.0.1:{port}/customers", headers={"Authorization": f"Bearer {token}"}
    )
    assert page.status_code == 200 and signed_in.status_code == 200
    assert response.status_code == 200
    assert "GET /health" in line and "\x1b[32m200\x1b[0m" in line and " ms" in line
    assert "req=look-1" in line


def test_on_a_pipe_every_line_is_json(tmp_path: Path) -> None:
    port = free_port()
    command = [CUSTOMERS, "serve", "--port", str(port), "--data-dir", str(tmp_path)]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=child_env(),
    )
    assert process.stdout is not None
    try:
        fd = process.stdout.fileno()
        deadline = time.monotonic() + 60
        output = read_until(fd, "Application startup complete", deadline)
        httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "pipe-1"})
        output += read_until(fd, "pipe-1", deadline)
    finally:
        process.terminate()
        process.wait(timeout=30)

    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    listening = next(e for e in entries if e["msg"] == "listening")
    access = next(e for e in entries if e.get("requestId") == "pipe-1")
    assert listening["url"] == f"http://127.0.0.1:{port}"
    assert listening["profile"] == "embedded"
    assert access["status"] == 200 and access["path"] == "/health"
