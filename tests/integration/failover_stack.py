"""Helpers of the PostgreSQL failover test (not tests): a private PostgreSQL cluster that the
test may restart (the shared one serves other sessions), a `customers serve` process, and a
load of creates that retries each command with its Idempotency-Key until acknowledged."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    assert found, "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin"
    return found[0].parent


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else list(command)


@dataclass
class PrivateCluster:
    """A throw-away cluster (initdb in /tmp, trust auth on loopback) on a free port."""

    home: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        data = str(self.home / "data")
        log = str(self.home / "server.log")
        command = _as_postgres(str(_pg_bin() / "pg_ctl"), "-D", data, "-l", log, "-w", *args)
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def restart(self) -> float:
        """`pg_ctl restart -m fast` (sessions terminated, then a clean start); its seconds."""
        started = time.monotonic()
        self.pg_ctl("-m", "fast", "restart")
        return time.monotonic() - started


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """Start a cluster of our own; stop it and delete it afterwards."""
    home = Path(tempfile.mkdtemp(prefix="pg-failover-"))
    cluster = PrivateCluster(home, free_port())
    if os.getuid() == 0:
        shutil.chown(home, "postgres")
    initdb = _as_postgres(str(_pg_bin() / "initdb"), "-D", str(home / "data"), "-U", "postgres",
                          "-E", "UTF8", "--auth=trust", "--no-sync")  # fmt: skip
    subprocess.run(initdb, check=True, capture_output=True, timeout=120)
    with open(home / "data" / "postgresql.conf", "a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {cluster.port}\n"
            f"unix_socket_directories = '{home}'\nfsync = off\nshared_buffers = 16MB\n"
            "max_connections = 60\n"
        )
    try:
        cluster.pg_ctl("start")
        yield cluster
    finally:
        subprocess.run(
            _as_postgres(str(_pg_bin() / "pg_ctl"), "-D", str(home / "data"), "-m",
                         "immediate", "stop"),
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def serve(env: dict[str, str], data_dir: Path) -> Iterator[str]:
    """`customers serve` on a free port; its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    log = data_dir.parent / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Answer:
    key: str
    status: int
    seconds: float
    problem: bool
    customer: str | None
    replayed: bool
    at: float


@dataclass
class Load:
    """Writers creating customers, each command retried with its key until acknowledged."""

    base: str
    headers: dict[str, str]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    token: str = "0"

    def writer(self, name: str) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                self._until_acknowledged(client, f"{name}-{n}")
                n += 1

    def _until_acknowledged(self, client: httpx.Client, key: str) -> None:
        body = {"firstName": key, "lastName": "Failover", "email": f"{key}@example.com"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            started = time.monotonic()
            answer = client.post("/customers", json=body, headers={"Idempotency-Key": key})
            done = time.monotonic()
            created = answer.status_code in (200, 201)
            self.answers.append(Answer(
                key, answer.status_code, done - started,
                answer.headers.get("content-type", "").startswith("application/problem+json"),
                answer.json()["id"] if created else None,
                answer.headers.get("Idempotent-Replayed") == "true", done,
            ))  # fmt: skip
            if created:
                self.token = max(self.token, answer.headers["x-consistency-token"], key=int)
                return
            if answer.status_code != 503:
                return  # anything else is a finding; the test names it
            time.sleep(0.2)
