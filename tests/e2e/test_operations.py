"""Health, dead letters and the operator CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from litestar.testing import TestClient

from entrypoints.app import create_app
from projectors.dead_letters import DeadLetter, DeadLetterBook
from shared.settings import Settings
from tests.e2e.conftest import REBUILD_GRACE
from write_side.adapters.event_store import open_event_store
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

SECRET = "operations-test-secret-of-enough-length!!"


def cli(
    data_dir: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    env["CUSTOMERS_JWT_SECRET"] = SECRET
    env.update(extra or {})
    env["COLUMNS"] = "250"  # rich wraps tables to the terminal width
    env["CUSTOMERS_REBUILD_GRACE"] = str(REBUILD_GRACE)  # no server reads the old generation
    command = [sys.executable, "-m", "entrypoints.cli", *args, "--data-dir", str(data_dir)]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_parked_event_turns_health_503_naming_the_projection(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    store = open_event_store(settings)
    DeadLetterBook(store).park(
        DeadLetter(
            "search",
            7,
            "e-1",
            "customer.created",
            "c-1",
            "ValueError: boom",
            "2026-01-01T00:00:00Z",
        )
    )
    store.close()
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["stoppedProjections"] == ["search"]
        search = next(p for p in body["projections"] if p["name"] == "search")
        assert search["deadLetters"][0]["error"] == "ValueError: boom"
        metrics = client.get("/metrics").text
        assert 'customers_projection_dead_letters{projection="search"} 1' in metrics
    status = cli(tmp_path, "projections", "status")
    assert status.returncode == 0, status.stderr
    assert "ValueError: boom" in status.stdout
    retried = cli(tmp_path, "projections", "retry", "search")
    assert "cleared 1" in retried.stdout
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200


def test_cli_token_rebuild_history_and_retention(tmp_path: Path) -> None:
    token = cli(
        tmp_path, "token", "--tenant", "acme", "--role", "admin,auditor", "--subject", "ops"
    )
    assert token.returncode == 0, token.stderr
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    assert cli(tmp_path, "token", "--tenant", "acme", "--role", "root").returncode == 2
    settings = Settings.from_env({}, data_dir=tmp_path, jwt_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        ids = [
            client.post("/customers", json={"firstName": f"N{i}"}, headers=headers).json()["id"]
            for i in range(30)
        ]
        client.patch(f"/customers/{ids[0]}", json={"lastName": "Changed"}, headers=headers)
    rebuilt = cli(tmp_path, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "generation 1 → 2" in rebuilt.stdout
    with TestClient(create_app(settings)) as client:
        listed = client.get("/customers", params={"limit": 100}, headers=headers).json()
        assert listed["total"] == 30
        assert client.get(f"/customers/{ids[0]}", headers=headers).json()["lastName"] == "Changed"
    history = cli(tmp_path, "history", ids[0], "--tenant", "acme")
    assert history.returncode == 0, history.stderr
    assert "customer.profile_changed" in history.stdout
    assert "Changed" in history.stdout
    assert cli(tmp_path, "history", ids[0], "--tenant", "globex").returncode == 1
    dry = cli(tmp_path, "retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    ran = cli(tmp_path, "retention", "run")
    assert ran.returncode == 0, ran.stderr
    assert "loyalty points expired: 0" in ran.stdout  # the same job sweeps expired points


def test_status_shows_lag_in_events_and_seconds(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    store = open_event_store(settings)
    customer = Customer.register(
        tenant_id="acme", actor="alice", customer_type=CustomerType.NEW, profile={"firstName": "A"}
    )
    store.save(customer)
    store.close()
    time.sleep(1.1)  # nothing projects: the event ages
    status = cli(tmp_path, "projections", "status")
    assert status.returncode == 0, status.stderr
    rows = {line.split("│")[1].strip(): line for line in status.stdout.splitlines() if "│" in line}
    for name in ("customer_view", "search"):
        cells = [cell.strip() for cell in rows[name].split("│")[1:-1]]
        assert cells[3] == "1"  # lag events
        assert float(cells[4]) >= 1.0  # lag seconds: the unapplied event's age


def _status_rows(output: str) -> dict[str, list[str]]:
    """The cells of each row of `customers projections status`, by projection name."""
    rows = [line.split("│")[1:-1] for line in output.splitlines() if line.count("│") > 2]
    cells = [[cell.strip() for cell in row] for row in rows]
    return {row[0]: row for row in cells if row[0] != "projection"}


def test_status_lists_every_projection_health_lists(tmp_path: Path, amqp_url: str) -> None:
    """With a broker, `/health` names the broker relay: so must the operator's status (and
    both name the added projections, backfilled or not)."""
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, amqp_url=amqp_url)
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        names = {p["name"] for p in health["projections"]}
    assert "broker_relay" in names
    assert "customers.notifications" in health["consumer"]["queues"]  # the inbound consumer too
    assert health["consumer"]["connected"] is True
    status = cli(tmp_path, "projections", "status", extra={"CUSTOMERS_AMQP_URL": amqp_url})
    assert status.returncode == 0, status.stderr
    rows = _status_rows(status.stdout)
    assert set(rows) == names
    head = int(status.stdout.split("event store head ")[1].split(")")[0])
    for cells in rows.values():
        assert int(cells[2]) + int(cells[3]) == head  # position + lag in events
    embedded = cli(tmp_path, "projections", "status")
    added = {"analytics_overview", "analytics_cohorts", "timeline", "contactability",
             "segment_membership"}  # fmt: skip
    assert set(_status_rows(embedded.stdout)) == {"customer_view", "search", *added}


def test_rebuild_bar_and_summary_count_the_same_events(tmp_path: Path) -> None:
    """The bar counts log positions (claims and sequences included) and the customer events
    among them; the summary names both, with the same figures."""
    settings = Settings.from_env({}, data_dir=tmp_path, jwt_secret=SECRET)
    token = cli(tmp_path, "token", "--tenant", "acme", "--role", "admin").stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        for i in range(6):  # an email claim beside each customer: 12 positions, 6 customer events
            body = {"firstName": f"N{i}", "email": f"n{i}@example.com"}
            assert client.post("/customers", json=body, headers=headers).status_code == 201
    head = int(cli(tmp_path, "projections", "status").stdout.split("head ")[1].split(")")[0])
    rebuilt = cli(tmp_path, "projections", "rebuild", "search")
    assert rebuilt.returncode == 0, rebuilt.stderr
    bar = next(line for line in rebuilt.stdout.splitlines() if "/s" in line and "━" in line)
    summary = next(line for line in rebuilt.stdout.splitlines() if "generation 1 → 2" in line)
    assert f" {head}/{head} " in bar
    assert " 6 customer events" in bar
    assert f"position {head}" in summary and " 6 customer events " in summary, summary
