"""PostgreSQL restarted (or failed over) under a running `customers serve` with writes in
flight (issue 16 A.3). Two ways: a TCP proxy in front of the shared server cuts every
connection and refuses new ones for two seconds (what clients see of a restart or of a
failover while the virtual IP moves: the shared server itself must not be restarted), and a
private cluster of the test's own really restarted with `pg_ctl restart -m fast`.

Writers create customers throughout, each command retried with its Idempotency-Key until
acknowledged. A command caught by the outage answers 503 problem+json quickly; the service
reconnects by itself; afterwards every command is acknowledged exactly once: one customer
per key (a retry of a command that committed before its answer was lost is a replay of the
same customer), none lost, no other status than 201, a replay or 503.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from yarl import URL

from shared.http.auth import mint_token
from tests.integration.failover_stack import Load, private_cluster, serve
from tests.integration.tcp_proxy import ThreadedProxy

pytestmark = pytest.mark.services
SECRET = "failover-test-secret-with-at-least-32-bytes"
QUICK_SECONDS = 5.0  # the service timeout is 1 s; room for a loaded machine
WRITERS = 4


@pytest.fixture(params=["proxy-cut", "pg-restart"])
def outage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Callable[[], None]]]:
    """(event-store URL for the service, a function that takes the database away and back)."""
    if request.param == "proxy-cut":
        proxy = ThreadedProxy(URL(request.getfixturevalue("postgres_schema_url")))

        def cut_and_restore() -> None:
            proxy.down()
            time.sleep(2.0)
            proxy.up()

        try:
            yield proxy.url(), cut_and_restore
        finally:
            proxy.close()
    else:
        with private_cluster() as cluster:
            yield cluster.url, lambda: print(f"restart took {cluster.restart():.2f}s")


def test_a_restarted_postgres_loses_and_repeats_no_acknowledged_command(
    outage: tuple[str, Callable[[], None]], tmp_path: Path
) -> None:
    url, take_away = outage
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")} | {
        "CUSTOMERS_EVENT_STORE_URL": url,
        "CUSTOMERS_JWT_SECRET": SECRET,
        "CUSTOMERS_MASTER_KEY": "failover-master-key",
        "CUSTOMERS_AUDIT_KEY": "failover-audit-key",
        "CUSTOMERS_SERVICE_TIMEOUT": "1",
        "CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE": "0",
        "CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE": "0",
        "CUSTOMERS_LOG_FORMAT": "json",
    }
    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="s", ttl_seconds=900)
    headers = {"Authorization": f"Bearer {token}"}
    with serve(env, tmp_path / "data") as base:
        load = Load(base, headers)
        writers = [threading.Thread(target=load.writer, args=(f"w{n}",)) for n in range(WRITERS)]
        for writer in writers:
            writer.start()
        time.sleep(2.0)
        cut_at = time.monotonic()
        take_away()
        back_at = time.monotonic()
        time.sleep(3.0)  # load goes on after the database came back
        load.stop.set()
        for writer in writers:
            writer.join(60)
        _check(load, base, headers, cut_at, back_at)


def _check(load: Load, base: str, headers: dict[str, str], cut_at: float, back_at: float) -> None:
    answers = load.answers
    odd = [(a.key, a.status) for a in answers if a.status not in (200, 201, 503)]
    assert not odd, f"answers other than 201, a replay or 503: {odd[:10]}"
    refused = [a for a in answers if a.status == 503]
    assert refused, "no command met the outage"
    assert all(a.problem for a in refused), "a 503 without problem+json"
    slowest = max(a.seconds for a in refused)
    assert slowest < QUICK_SECONDS, f"a 503 took {slowest:.2f}s"
    during = [a for a in refused if cut_at <= a.at <= back_at + QUICK_SECONDS]
    assert during, "the 503s were not answered during the outage"

    by_key: dict[str, set[str]] = {}
    for answer in answers:
        if answer.customer is not None:
            by_key.setdefault(answer.key, set()).add(answer.customer)
    keys = {a.key for a in answers}
    assert keys == set(by_key), f"never acknowledged: {sorted(keys - set(by_key))}"
    assert all(len(ids) == 1 for ids in by_key.values()), "a key acknowledged two customers"
    customers = {next(iter(ids)) for ids in by_key.values()}
    assert len(customers) == len(keys)
    after = [a for a in answers if a.at > back_at and a.customer is not None]
    assert after, "no write succeeded after the database came back"

    consistent = headers | {"X-Consistency-Token": load.token}
    listed = httpx.get(f"{base}/customers", params={"limit": 1}, headers=consistent, timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == len(keys), "stored customers != acknowledged commands"
    replays = sum(a.replayed for a in answers)
    print(
        f"{len(keys)} commands, {len(refused)} answers 503 (slowest {slowest:.2f}s), "
        f"{replays} replays, outage {back_at - cut_at:.2f}s"
    )
