"""Access-audit write rates: records per second a read path can store, one reader at a time and
16 at once, on SQLite and (with `CUSTOMERS_TEST_MONGO_URL`) MongoDB, and the security monitor's
cost per request in-process and in Redis (`CUSTOMERS_TEST_REDIS_URL`).

`python -m benchmarks.access_audit`
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from read_side.access_audit import SQLiteAccessAudit, open_mongo_audit
from shared.adapters.alert_counters_redis import RedisAlertCounters
from shared.adapters.alert_counters_sqlite import SqliteAlertCounters
from shared.principal import Principal, Role
from shared.security.counters import AlertCounters, InMemoryAlertCounters
from shared.security.monitor import AlertRules, Outcome, SecurityMonitor


def entry() -> dict[str, Any]:
    return {"tenantId": "acme", "customerId": str(uuid.uuid4()), "actor": "v",
            "roles": ["viewer"], "at": "2026-12-01T10:00:00.000Z", "action": "read",
            "purpose": "service"}  # fmt: skip


async def records_per_second(audit: Any, count: int, readers: int) -> float:
    async def reader() -> None:
        for _ in range(count // readers):
            await audit.record(entry())

    started = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(readers)))
    return count / (time.perf_counter() - started)


async def monitor_microseconds(counters: AlertCounters, requests: int = 3000) -> float:
    """One request's work: the lock lookup before, the outcome after (a steady success)."""
    monitor = SecurityMonitor(AlertRules(), counters)
    principal = Principal("s", "acme", frozenset({Role.VIEWER}))
    started = time.perf_counter()
    for _ in range(requests):
        await monitor.refusal(["a:10.0.0.1", "t:fp", "s:4:acme/s"])
        await monitor.observe(Outcome(200, principal, "10.0.0.1", "fp"))
    await counters.aclose()
    return (time.perf_counter() - started) / requests * 1e6


async def main() -> None:
    folder = Path(tempfile.mkdtemp())
    mongo_url = os.environ.get("CUSTOMERS_TEST_MONGO_URL")
    client: Any = None
    created: list[str] = []
    if mongo_url:
        from pymongo import AsyncMongoClient

        client = AsyncMongoClient(mongo_url)
    for readers in (1, 16):
        audits: dict[str, Any] = {
            "SQLite": SQLiteAccessAudit(folder / f"r{readers}.db", b"bench-key")
        }
        if client is not None:
            created.append(f"bench_audit_{uuid.uuid4().hex[:8]}")
            audits["MongoDB"] = open_mongo_audit(client, created[-1], b"bench-key")
        for name, audit in audits.items():
            rate = await records_per_second(audit, 1000, readers)
            print(f"access audit {name}, {readers} concurrent readers: {rate:,.0f} records/s")
            await audit.close()
    if client is not None:
        for name in created:
            await client.drop_database(name)
        await client.aclose()
    cost = await monitor_microseconds(InMemoryAlertCounters())
    print(f"security monitor in-process: {cost:.0f} µs per request")
    cost = await monitor_microseconds(SqliteAlertCounters(folder / "security_counters.db"))
    print(f"security monitor with the embedded SQLite counters: {cost:.0f} µs per request")
    redis_url = os.environ.get("CUSTOMERS_TEST_REDIS_URL")
    if redis_url:
        cost = await monitor_microseconds(RedisAlertCounters.from_url(redis_url))
        print(f"security monitor with Redis: {cost:.0f} µs per request")


if __name__ == "__main__":
    asyncio.run(main())
