"""The example package (`examples/projection-package/`) is installed like any other package
(pip, into a directory on the path), found through its entry point, backfilled from the start
of the log by a serving process, listed, queried, and rebuilt from the CLI."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "projection-package"
NAME = "customers_by_country"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """pip-install the example (no dependencies, no network) into a directory, and put that
    directory on this process's path as site-packages would."""
    target, source = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("src") / "pkg"
    shutil.copytree(PACKAGE, source)  # pip builds in the source tree: not in the repository's
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("customers_by_country", None)


def cli(settings: Settings, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    env |= {"CUSTOMERS_JWT_SECRET": settings.resolved_jwt_secret(), "COLUMNS": "250"}
    env["CUSTOMERS_REBUILD_GRACE"] = str(settings.rebuild_grace_seconds)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    urls = {
        "CUSTOMERS_EVENT_STORE_URL": settings.event_store_url,
        "CUSTOMERS_MONGO_URL": settings.mongo_url,
        "CUSTOMERS_REDIS_URL": settings.redis_url,
    }
    env |= {key: value for key, value in urls.items() if value}
    command = [sys.executable, "-m", "entrypoints.cli", *args, "--data-dir", str(settings.data_dir)]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def seed(settings: Settings) -> None:
    """Customers with billing addresses, stored before the package is installed."""
    token = mint_token(settings.resolved_jwt_secret(), tenant="acme", roles=["admin"],
                       subject="seed", ttl_seconds=600)  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        for index, country in enumerate(["FR", "FR", "US", "DE", "US", "US"]):
            created = client.post("/customers", json={"firstName": f"C{index}"}, headers=headers)
            address = {"line1": "1 Main St", "country": country}
            body: dict[str, object] = {"name": f"C{index}", "address": address}
            billing = client.put(f"/customers/{created.json()['id']}/billing", json=body,
                                 headers=headers)  # fmt: skip
            assert billing.status_code == 200, billing.text
            if index == 0:  # moves from FR to DE
                address["country"] = "DE"
                client.put(f"/customers/{created.json()['id']}/billing", json=body, headers=headers)


def test_the_example_package_backfills_lists_queries_and_rebuilds(
    settings: Settings, installed: Path
) -> None:
    sys.path.remove(str(installed))  # not installed yet while the customers are stored
    try:
        seed(settings)
    finally:
        sys.path.insert(0, str(installed))
    listed = cli(settings, installed, "projections", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if NAME in line)
    assert "customers-country-projection 0.1.0" in row
    token = mint_token(settings.resolved_jwt_secret(), tenant="acme", roles=["analyst"],
                       subject="ana", ttl_seconds=600)  # fmt: skip
    admin = mint_token(settings.resolved_jwt_secret(), tenant="acme", roles=["admin"],
                       subject="ops", ttl_seconds=600)  # fmt: skip
    with TestClient(create_app(settings)) as client:  # serving: the backfill runs by itself
        deadline = time.monotonic() + 30
        while True:
            rows = client.get("/admin/projections", headers={"Authorization": f"Bearer {admin}"})
            mine = next(item for item in rows.json()["items"] if item["name"] == NAME)
            if mine["state"] == "running" and mine["lagEvents"] == 0:
                break
            assert time.monotonic() < deadline, mine
            time.sleep(0.2)
        assert mine["origin"] == "customers-country-projection 0.1.0"
        assert mine["version"] == 1 and mine["generation"] == 2
        found = client.get(f"/projections/{NAME}/documents", params={"prefix": "countries"},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert found.status_code == 200, found.text
        assert found.json()["items"] == [{"key": "countries", "value": {"DE": 2, "FR": 1, "US": 3}}]
    rebuilt = cli(settings, installed, "projections", "rebuild", NAME)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "━" in rebuilt.stdout and f"{NAME}: generation 2 → 3" in rebuilt.stdout
    queried = cli(settings, installed, "projections", "query", NAME, "--tenant", "acme",
                  "--prefix", "countries")  # fmt: skip
    assert queried.returncode == 0, queried.stderr
    assert queried.stdout.strip() == '{"key": "countries", "value": {"DE": 2, "FR": 1, "US": 3}}'
