"""Benchmark: `POST /customers` over real HTTP, 32 concurrent clients, on SQLite and PostgreSQL,
beside the raw append ceiling of each event store (one event per transaction).

    python -m benchmarks.commands [--requests 6000] [--clients 32] [--postgres URL]

PostgreSQL comes from --postgres, else CUSTOMERS_TEST_POSTGRES_URL (scripts/services env).
Prints requests/s and p50/p99 latency per store.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from benchmarks.loadgen import post_json, run_load
from shared.http.auth import mint_token
from shared.settings import Settings
from write_side.application.event_store import open_event_store
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

SECRET = "benchmark-secret-with-32-bytes-or-more!!"


def raw_append_ceiling(settings: Settings, events: int) -> float:
    """Events/s when each event is saved in its own transaction (no group commit)."""
    app = open_event_store(settings)
    try:
        started = time.perf_counter()
        for i in range(events):
            customer = Customer.register(
                tenant_id="bench",
                actor="bench",
                customer_type=CustomerType.NEW,
                profile={"firstName": f"Raw{i}"},
            )
            app.save(customer)
        return events / (time.perf_counter() - started)
    finally:
        app.close()


def start_server(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`customers serve` in a subprocess, waiting until /health answers."""
    env = dict(os.environ, CUSTOMERS_JWT_SECRET=SECRET, CUSTOMERS_LOG_LEVEL="WARNING")
    env["CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE"] = "0"  # measure the service, not the limiter
    env["CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE"] = "0"
    if settings.event_store_url:
        env["CUSTOMERS_EVENT_STORE_URL"] = settings.event_store_url
    else:
        env.pop("CUSTOMERS_EVENT_STORE_URL", None)
    for name in ("CUSTOMERS_MONGO_URL", "CUSTOMERS_REDIS_URL", "CUSTOMERS_AMQP_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(settings.data_dir), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the service did not start")


def http_load(port: int, requests: int, clients: int) -> str:
    """Drive creates and format the figures."""
    token = mint_token(SECRET, tenant="bench", roles=["staff"], subject="bench", ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}"}
    run = uuid.uuid4().hex[:8]
    offset = {"value": 0}

    def request(index: int) -> bytes:
        number = index + offset["value"]
        body = (
            f'{{"firstName":"Bench{number}","lastName":"Load","email":"b{number}.{run}@example.com",'
            f'"phone":"+1415555{number % 10000:04d}"}}'
        ).encode()
        return post_json("/customers", body, headers)

    asyncio.run(run_load("127.0.0.1", port, request, clients=clients, total=min(500, requests)))
    offset["value"] = 1_000_000
    result = asyncio.run(run_load("127.0.0.1", port, request, clients=clients, total=requests))
    return (
        f"{result.rate:8.0f} creates/s   p50 {result.percentile(0.50):6.1f} ms   "
        f"p99 {result.percentile(0.99):6.1f} ms   statuses {result.statuses}"
    )


def main() -> None:
    """Run the benchmark for each available event store."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--raw-events", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("CUSTOMERS_TEST_POSTGRES_URL"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()
    stores: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres:
        sep = "&" if "?" in args.postgres else "?"
        stores.append(("postgresql", f"{args.postgres}{sep}schema=bench_{uuid.uuid4().hex[:8]}"))
    print(
        f"POST /customers, {args.clients} concurrent keep-alive clients, {args.requests} requests"
    )
    for label, url in stores:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = Settings(data_dir=Path(data_dir), event_store_url=url, jwt_secret=SECRET)
            raw = raw_append_ceiling(settings, args.raw_events)
            server = start_server(settings, args.port, args.workers)
            try:
                figures = http_load(args.port, args.requests, args.clients)
            finally:
                server.terminate()
                server.wait(timeout=30)
        print(f"{label:<11} raw append ceiling {raw:7.0f} events/s (1 event/transaction)")
        print(f"{label:<11} HTTP {figures}")


if __name__ == "__main__":
    main()
