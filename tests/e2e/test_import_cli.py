"""`customers import FILE --tenant T [--dry-run]`: progress, summary, exit codes, and the
customers it made readable by the service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings

SECRET = "cli-import-secret-with-32-bytes-or-more!"


def customers(
    data_dir: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    env |= {"CUSTOMERS_JWT_SECRET": SECRET, "COLUMNS": "200"} | (extra or {})
    command = [sys.executable, "-m", "entrypoints.cli", *args, "--data-dir", str(data_dir)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("profile", ["sqlite", "postgres"])
def test_import_dry_run_then_for_real(
    tmp_path: Path, profile: str, request: pytest.FixtureRequest
) -> None:
    extra = {}
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    if profile == "postgres":
        url = request.getfixturevalue("postgres_schema_url")
        extra["CUSTOMERS_EVENT_STORE_URL"] = url
        settings = Settings(data_dir=tmp_path, event_store_url=url, jwt_secret=SECRET)
    source = tmp_path / "people.csv"
    source.write_text("externalId,firstName,email\nk-1,Ann,ann@example.com\nk-2,Bob,bad@\n")

    dry = customers(tmp_path, "import", str(source), "--tenant", "acme", "--dry-run", extra=extra)
    assert dry.returncode == 1, dry.stderr  # a row failed
    assert "dry run" in dry.stdout and "1 would be created" in dry.stdout
    assert "line 3: email:" in dry.stdout and "rows/s" in dry.stderr

    done = customers(tmp_path, "import", str(source), "--tenant", "acme", extra=extra)
    assert done.returncode == 1 and "1 were created" in done.stdout, done.stdout + done.stderr
    source.write_text("externalId,firstName,email\nk-1,Ann,ann@example.com\n")
    again = customers(tmp_path, "import", str(source), "--tenant", "acme", extra=extra)
    assert again.returncode == 0 and "1 unchanged" in again.stdout, again.stdout

    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="t", ttl_seconds=60)
    with TestClient(create_app(settings)) as client:
        position = str(client.app.state.runtime.commands.executor.repository.position())
        found = client.get(
            "/customers", params={"externalId": "k-1"},
            headers={"Authorization": f"Bearer {token}", "X-Consistency-Token": position},
        )  # fmt: skip
        assert [item["email"] for item in found.json()["items"]] == ["ann@example.com"]


def test_bad_files_exit_2(tmp_path: Path) -> None:
    headerless = tmp_path / "x.csv"
    headerless.write_text("Ann,ann@example.com\n")
    refused = customers(tmp_path, "import", str(headerless), "--tenant", "acme")
    assert refused.returncode == 2 and "header" in refused.stderr
    other = tmp_path / "x.xlsx"
    other.write_text("x")
    assert customers(tmp_path, "import", str(other), "--tenant", "acme").returncode == 2
    missing = customers(tmp_path, "import", str(tmp_path / "none.csv"), "--tenant", "acme")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
