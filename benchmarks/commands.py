"""Benchmark: `POST /customers` over real HTTP, 32 concurrent clients, on SQLite and PostgreSQL,
beside the raw append ceiling of each event store (one event per transaction).

    python -m benchmarks.commands [--requests 6000] [--clients 32] [--postgres URL]
        [--shared-phones N] [--bursts 4 --burst-seconds 15 --pause 2]

PostgreSQL comes from --postgres, else CUSTOMERS_TEST_POSTGRES_URL (scripts/services env).
Prints requests/s and p50/p99 latency per store; with --bursts, per burst and the ratio of the
last burst's rate to the first (write cost must not grow with the data already stored).
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

from benchmarks.loadgen import LoadResult, post_json, run_load
from benchmarks.service import KEYS
from shared.http.auth import mint_token
from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
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


def start_server(
    settings: Settings, port: int, workers: int, module: str = "entrypoints.cli"
) -> subprocess.Popen[bytes]:
    """`customers serve` in a subprocess (`module` runs it: another for a variant such as
    `benchmarks.serve_unchained`), waiting until /health answers."""
    env = dict(os.environ, CUSTOMERS_JWT_SECRET=SECRET, CUSTOMERS_LOG_LEVEL="WARNING") | KEYS
    env["CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE"] = "0"  # measure the service, not the limiter
    env["CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE"] = "0"
    if settings.event_store_url:
        env["CUSTOMERS_EVENT_STORE_URL"] = settings.event_store_url
    else:
        env.pop("CUSTOMERS_EVENT_STORE_URL", None)
    for name in ("CUSTOMERS_MONGO_URL", "CUSTOMERS_REDIS_URL", "CUSTOMERS_AMQP_URL"):
        env.pop(name, None)
    command = [sys.executable, "-m", module, "serve", "--port", str(port)]
    command += ["--data-dir", str(settings.data_dir), "--workers", str(workers)]
    log = open(settings.data_dir / "server.log", "wb")  # noqa: SIM115 - the server's stderr
    process = subprocess.Popen(command, env=env, stderr=log)
    deadline = time.time() + 120  # a busy shared machine can take a minute to start two workers
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    tail = (settings.data_dir / "server.log").read_bytes()[-2000:].decode(errors="replace")
    raise RuntimeError(f"the service did not start:\n{tail}")


class CreateBodies:
    """Numbered create bodies: unique emails; phones unique, or drawn from `shared_phones`
    numbers (10,000 reproduces an import where phones repeat; 1 is a front-desk number)."""

    def __init__(self, shared_phones: int | None) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.shared_phones = shared_phones
        self.next_number = 0
        token = mint_token(
            SECRET, tenant="bench", roles=["staff"], subject="bench", ttl_seconds=3600
        )
        self.headers = {"Authorization": f"Bearer {token}"}

    def phone(self, number: int) -> str:
        """A valid US number (+1 415 2000000 onwards)."""
        slot = number if self.shared_phones is None else number % self.shared_phones
        return f"+1415{2_000_000 + slot % 8_000_000:07d}"

    def request(self, index: int) -> bytes:
        """The index-th request of the current run (numbers continue across runs)."""
        number = self.next_number + index
        body = (
            f'{{"firstName":"Bench{number}","lastName":"Load",'
            f'"email":"b{number}.{self.run}@example.com","phone":"{self.phone(number)}"}}'
        ).encode()
        return post_json("/customers", body, self.headers)

    def load(
        self, port: int, clients: int, *, total: int | None = None, seconds: float | None = None
    ) -> LoadResult:
        """One run bounded by `total` or `seconds`; the next run continues the numbering."""
        result = asyncio.run(
            run_load("127.0.0.1", port, self.request, clients=clients, total=total, seconds=seconds)
        )
        self.next_number += len(result.latencies)
        return result


def figures(result: LoadResult) -> str:
    """Rate, p50/p99 and statuses of one run."""
    return (
        f"{result.rate:8.0f} creates/s   p50 {result.percentile(0.50):6.1f} ms   "
        f"p99 {result.percentile(0.99):6.1f} ms   statuses {result.statuses}"
    )


def http_load(port: int, args: argparse.Namespace, label: str, raw: float) -> None:
    """Warm up, then either one counted run or `--bursts` timed bursts; print the figures."""
    bodies = CreateBodies(args.shared_phones)
    bodies.load(port, args.clients, total=min(500, args.requests))
    if not args.bursts:
        result = bodies.load(port, args.clients, total=args.requests)
        print(f"{label:<11} HTTP {figures(result)}   {result.rate / raw:.2f}x raw ceiling")
        return
    rates = []
    for burst in range(1, args.bursts + 1):
        if burst > 1:
            time.sleep(args.pause)
        result = bodies.load(port, args.clients, seconds=args.burst_seconds)
        rates.append(result.rate)
        print(
            f"{label:<11} burst {burst} {figures(result)}   {result.rate / raw:.2f}x raw ceiling"
            f"   customers {bodies.next_number}",
            flush=True,
        )
    print(f"{label:<11} last/first burst {rates[-1] / rates[0]:.2f}")


def main() -> None:
    """Run the benchmark for each available event store."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--raw-events", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("CUSTOMERS_TEST_POSTGRES_URL"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--shared-phones", type=int, default=None, metavar="N",
        help="phones drawn from N numbers (default: every customer its own phone)",
    )  # fmt: skip
    parser.add_argument("--bursts", type=int, default=0, help="timed bursts instead of a count")
    parser.add_argument("--burst-seconds", type=float, default=15.0)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between bursts")
    parser.add_argument("--stores", default="sqlite,postgresql", help="which event stores")
    args = parser.parse_args()
    stores: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres and "postgresql" in args.stores:
        sep = "&" if "?" in args.postgres else "?"
        stores.append(("postgresql", f"{args.postgres}{sep}schema=bench_{uuid.uuid4().hex[:8]}"))
    if "sqlite" not in args.stores:
        stores.pop(0)
    shape = f"{args.bursts} x {args.burst_seconds:g} s bursts" if args.bursts else args.requests
    print(
        f"POST /customers, {args.clients} concurrent keep-alive clients, {shape} requests, "
        f"shared phones: {args.shared_phones or 'none'}"
    )
    for label, url in stores:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = Settings(data_dir=Path(data_dir), event_store_url=url, jwt_secret=SECRET)
            raw = raw_append_ceiling(settings, args.raw_events)
            server = start_server(settings, args.port, args.workers)
            print(f"{label:<11} raw append ceiling {raw:7.0f} events/s (1 event/transaction)")
            try:
                http_load(args.port, args, label, raw)
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
