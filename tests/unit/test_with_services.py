"""`make test` on a fresh machine: scripts/with-services starts the services when none are set."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE_SERVICES = """#!/usr/bin/env bash
echo "$1" >> "{log}"
case $1 in
status) exit {status} ;;
env) echo 'export CUSTOMERS_TEST_POSTGRES_URL=postgresql://fake:5/db' ;;
esac
"""


def run(tmp_path: Path, environ: dict[str, str], *, status: int = 3) -> tuple[str, list[str]]:
    """Run scripts/with-services around `env` with a fake scripts/services; (env, calls)."""
    log = tmp_path / "calls"
    fake = tmp_path / "services"
    fake.write_text(FAKE_SERVICES.format(log=log, status=status))
    base = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    base |= {"CUSTOMERS_SERVICES_SCRIPT": str(fake), "PYTHON_FOR_DOCKER_CHECK": "/bin/false"}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "with-services"), "env"],
        env=base | environ,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    calls = log.read_text().split() if log.exists() else []
    return done.stdout + done.stderr, calls


def test_no_url_and_no_docker_starts_the_services_and_requires_them(tmp_path: Path) -> None:
    output, calls = run(tmp_path, {})

    assert calls == ["status", "up", "env"]
    assert "CUSTOMERS_TEST_POSTGRES_URL=postgresql://fake:5/db" in output
    assert "CUSTOMERS_REQUIRE_SERVICES=1" in output
    assert "takes a few minutes" in output


def test_running_services_are_only_checked(tmp_path: Path) -> None:
    output, calls = run(tmp_path, {}, status=0)

    assert calls == ["status", "up", "env"]
    assert "takes a few minutes" not in output
    assert "using the running scripts/services" in output


def test_a_configured_url_is_used_as_it_is(tmp_path: Path) -> None:
    output, calls = run(tmp_path, {"CUSTOMERS_TEST_REDIS_URL": "redis://127.0.0.1:1/0"})

    assert calls == []
    assert "CUSTOMERS_REQUIRE_SERVICES" not in output
    assert "CUSTOMERS_TEST_REDIS_URL=redis://127.0.0.1:1/0" in output


def test_a_docker_engine_leaves_the_services_to_testcontainers(tmp_path: Path) -> None:
    output, calls = run(tmp_path, {"PYTHON_FOR_DOCKER_CHECK": "/bin/true"})

    assert calls == []
    assert "testcontainers" in output
