"""Worker processes and the lease table, for the scale-out test (helpers, not tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from pymongo import MongoClient

from shared.adapters.pg_notify import conninfo_for
from shared.settings import Settings
from tests.e2e.conftest import SECRET, fresh_redis_database

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    """One `customers projections run` with a data dir of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stopped: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def lines(self) -> str:
        return self.log.read_text(errors="replace")

    def end(self) -> None:
        if self.process.poll() is None:
            self.signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(name: str, base: Path, env: dict[str, str]) -> Worker:
    data_dir, log = base / name, base / f"{name}.log"
    command = [sys.executable, "-m", "entrypoints.cli", "projections", "run"]
    command += ["--data-dir", str(data_dir)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    return Worker(name, process, log)


class LeaseTable:
    """Reads `customers_leases` of the test's schema."""

    def __init__(self, url: str) -> None:
        self.conninfo = conninfo_for(url)
        self.schema = parse_qs(urlsplit(url).query).get("schema", ["public"])[-1]

    def live(self) -> dict[str, tuple[int, int]]:
        """projection → (holder's pid, epoch) of every live projection lease."""
        query = (
            f'SELECT name, holder, epoch FROM "{self.schema}".customers_leases '  # noqa: S608
            "WHERE expires_at > clock_timestamp() AND name NOT LIKE 'member:%'"
        )
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as connection:
                rows = connection.execute(query).fetchall()
        except psycopg.errors.UndefinedTable:
            return {}
        return {
            str(name): (int(str(holder).split(":")[-2]), int(epoch)) for name, holder, epoch in rows
        }

    def held_by(self, worker: Worker) -> set[str]:
        return {name for name, (pid, _) in self.live().items() if pid == worker.pid}


def wait_until(what: str, condition: Callable[[], bool], seconds: float) -> float:
    """Seconds it took `condition` to hold; fails the test after `seconds`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - started


@dataclass(frozen=True)
class SharedServices:
    """The services every host of a multi-host test shares (PostgreSQL schema, a MongoDB
    database, Redis) and the secrets a real deployment sets on each host alike."""

    postgres_schema_url: str
    mongo_url: str
    database: str
    redis_url: str
    keys: dict[str, str]


@contextmanager
def host_on(
    services: SharedServices, data_dir: Path, redis_number: int
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """One host's settings (its own data dir) and the environment for the other hosts'
    processes; the MongoDB database is dropped afterwards."""
    settings = Settings(
        data_dir=data_dir,
        event_store_url=services.postgres_schema_url,
        mongo_url=f"{services.mongo_url.rstrip('/')}/{services.database}",
        redis_url=fresh_redis_database(services.redis_url, number=redis_number),
        jwt_secret=SECRET,
        consistency_timeout_seconds=20.0,
        master_key=services.keys["CUSTOMERS_MASTER_KEY"],
        audit_key=services.keys["CUSTOMERS_AUDIT_KEY"],
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERS_")}
    env |= services.keys | {
        "CUSTOMERS_EVENT_STORE_URL": services.postgres_schema_url,
        "CUSTOMERS_MONGO_URL": str(settings.mongo_url),
        "CUSTOMERS_REDIS_URL": str(settings.redis_url),
        "CUSTOMERS_JWT_SECRET": SECRET,
        "CUSTOMERS_LOG_FORMAT": "json",
    }
    try:
        yield settings, env
    finally:
        client: Any = MongoClient(services.mongo_url)
        client.drop_database(services.database)
        client.close()
