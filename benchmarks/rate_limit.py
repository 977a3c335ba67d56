"""What the embedded rate limiter costs: one `hit` (in-process counters, the SQLite table, two
processes sharing it) and requests/s of `serve --workers 2` with limits on and off.

    python -m benchmarks.rate_limit [--hits 20000] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.attendees_infra import free_port
from benchmarks.attendees_report import cpu_seconds
from benchmarks.loadgen import run_load
from benchmarks.service import bearer, start_service, stop_service
from shared.adapters.rate_limit_sqlite import SqliteRateLimiter
from shared.http.rate_limit import InMemoryRateLimiter, Quota, RateLimiter

HIGH = 1_000_000_000  # never reached: every hit is admitted and counted


async def _hits(limiter: RateLimiter, count: int, subject: str) -> float:
    """Seconds per hit, one after another, on a tenant and a subject quota."""
    quotas = [Quota("bench:{t}:t", HIGH), Quota(f"bench:{{t}}:s:{subject}", HIGH)]
    started = time.perf_counter()
    for _ in range(count):
        await limiter.hit(quotas)
    elapsed = time.perf_counter() - started
    await limiter.aclose()
    return elapsed / count


def _sqlite_hits(path: str, count: int, subject: str) -> float:
    return asyncio.run(_hits(SqliteRateLimiter(Path(path)), count, subject))


def limiter_costs(count: int, folder: Path) -> dict[str, float]:
    """Microseconds per hit: in-process, SQLite alone, SQLite with two processes at once."""
    costs = {
        "in-process": asyncio.run(_hits(InMemoryRateLimiter(), count, "a")),
        "SQLite, one process": _sqlite_hits(str(folder / "one.db"), count, "a"),
    }
    shared = str(folder / "shared.db")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        both = pool.starmap(_sqlite_hits, [(shared, count, "a"), (shared, count, "b")])
    costs["SQLite, two processes at once (each)"] = max(both)
    return {name: seconds * 1e6 for name, seconds in costs.items()}


def _get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: bench", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_rate(limits_on: bool, seconds: float) -> tuple[float, float]:
    """Requests/s and service CPU milliseconds per request of `GET /customers/{unknown id}`
    (404 after auth, the limiter and a view lookup) on `serve --workers 2`, embedded, 32
    keep-alive clients. CPU per request stays meaningful on a busy host; requests/s does not."""
    value = str(HIGH) if limits_on else "0"
    variables = {f"CUSTOMERS_RATE_LIMIT_{who}_PER_MINUTE": value for who in ("TENANT", "SUBJECT")}
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        process = start_service(Path(data), port, variables, workers=2)
        try:
            request = _get(f"/customers/{uuid.uuid4()}", bearer("bench", ("viewer",)))
            asyncio.run(run_load("127.0.0.1", port, lambda _: request, clients=32, seconds=2))
            cpu_before = cpu_seconds(process.pid)
            result = asyncio.run(
                run_load("127.0.0.1", port, lambda _: request, clients=32, seconds=seconds)
            )
            cpu = cpu_seconds(process.pid) - cpu_before
        finally:
            stop_service(process)
    assert set(result.statuses) == {404}, result.statuses
    return result.rate, 1000 * cpu / len(result.latencies)


def main() -> None:
    """Print both tables (markdown rows)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hits", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, micros in limiter_costs(args.hits, Path(folder)).items():
            print(f"| {name} | {micros:.0f} µs per hit |")
    for round_number in range(1, args.rounds + 1):  # alternated: the host's load drifts
        (off, off_cpu), (on, on_cpu) = http_rate(False, args.seconds), http_rate(True, args.seconds)
        print(
            f"| round {round_number} | limits off {off:,.0f} req/s, {off_cpu:.3f} ms CPU/request "
            f"| on {on:,.0f} req/s, {on_cpu:.3f} ms CPU/request |"
        )


if __name__ == "__main__":
    main()
