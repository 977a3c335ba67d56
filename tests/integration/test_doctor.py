"""`customers doctor` against the real services, against cut and silent ones, and on a bad
configuration: every finding names what to fix, and the report comes back within seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from entrypoints.app import create_app
from entrypoints.doctor_report import diagnose
from shared.settings import Settings

CUSTOMERS = str(Path(sys.executable).parent / "customers")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung service)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def everything_at(port: int) -> dict[str, str]:
    return {
        "CUSTOMERS_EVENT_STORE_URL": f"postgresql://customers:pw@127.0.0.1:{port}/customers",
        "CUSTOMERS_MONGO_URL": f"mongodb://127.0.0.1:{port}/customers",
        "CUSTOMERS_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CUSTOMERS_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{port}/",
    }


async def test_real_services_are_reachable_writable_and_their_versions_shown(
    tmp_path: Path,
    postgres_schema_url: str,
    mongo_url: str,
    redis_url: str,
    amqp_url: str,
    unique_name: str,
) -> None:
    environ = {
        "CUSTOMERS_EVENT_STORE_URL": postgres_schema_url,
        "CUSTOMERS_MONGO_URL": f"{mongo_url.rstrip('/')}/{unique_name}",
        "CUSTOMERS_REDIS_URL": redis_url,
        "CUSTOMERS_AMQP_URL": amqp_url,
    }

    findings = {f.subject: f for f in await diagnose(environ, data_dir=tmp_path)}

    assert [f for f in findings.values() if f.status == "FAIL"] == []
    assert findings["configuration"].detail == "valid; services profile"
    assert findings["event store"].detail.startswith("PostgreSQL 1")
    assert "writable" in findings["event store"].detail
    assert findings["read models"].detail.startswith("MongoDB ")
    assert findings["search/cache"].detail.startswith("Redis ")
    assert findings["broker"].detail.startswith("RabbitMQ ")
    assert ":customers@" not in " ".join(f.detail for f in findings.values())


async def test_cut_services_fail_fast_and_each_says_what_to_fix(tmp_path: Path) -> None:
    started = time.monotonic()

    findings = {f.subject: f for f in await diagnose(everything_at(closed_port()), tmp_path)}

    assert time.monotonic() - started < 15
    for subject, variable in [
        ("event store", "CUSTOMERS_EVENT_STORE_URL"),
        ("read models", "CUSTOMERS_MONGO_URL"),
        ("search/cache", "CUSTOMERS_REDIS_URL"),
        ("broker", "CUSTOMERS_AMQP_URL"),
    ]:
        assert findings[subject].status == "FAIL", findings[subject]
        assert variable in findings[subject].fix
    assert findings["data dir"].status == "ok"


async def test_a_silent_service_is_reported_without_hanging(
    tmp_path: Path, silent_port: int
) -> None:
    started = time.monotonic()

    findings = await diagnose(everything_at(silent_port), tmp_path)

    assert time.monotonic() - started < 15
    failed = {f.subject for f in findings if f.status == "FAIL"}
    assert failed == {"event store", "read models", "search/cache", "broker"}


async def test_tables_made_by_a_first_start_are_reported_present(tmp_path: Path) -> None:
    before = {f.subject: f for f in await diagnose({}, data_dir=tmp_path)}
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert client.get("/health").status_code == 200
    after = {f.subject: f for f in await diagnose({}, data_dir=tmp_path)}

    assert before["event store"].status == "note"
    assert "not created yet" in before["event store"].detail
    assert after["event store"].status == "ok"
    assert after["event store"].detail.endswith("tables present")
    assert after["read models"].status == "ok"


def test_the_command_exits_1_on_a_bad_configuration_and_0_when_all_is_well(
    tmp_path: Path,
) -> None:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    bad = base | {"CUSTOMERS_EVENT_STORE_URL": "mysql://somewhere/db"}

    failed = subprocess.run(
        [CUSTOMERS, "doctor", "--data-dir", str(tmp_path)],
        env=bad,
        capture_output=True,
        text=True,
        timeout=60,
    )
    good = subprocess.run(
        [CUSTOMERS, "doctor", "--data-dir", str(tmp_path)],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL  configuration" in failed.stdout and "CUSTOMERS_EVENT_STORE_URL" in failed.stdout
    assert "fix:" in failed.stdout
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.rstrip().endswith("all good")
