"""Benchmark: how fast `customers keys rotate` re-wraps customer keys (issue 16 A.2).

    python -m benchmarks.key_rotation [--keys 20000] [--postgres URL] [--stores sqlite,postgresql]

Fills a fresh store with N customer keys under an old master key (key rows only: rotation
reads and writes nothing else), then times the rotation under a new key, as the command runs
it (batches of 500, each its own transaction); prints keys/s wall and per CPU second.
PostgreSQL comes from --postgres, else CUSTOMERS_TEST_POSTGRES_URL (scripts/services env).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.application.crypto.key_rotation import plan, rotate
from write_side.application.crypto.pii_cipher import new_data_key, wrap_key

OLD, NEW = "bench-old-master-key", "new:bench-new-master-key"


def fill(settings: Settings, count: int) -> None:
    """N key rows wrapped by the old key, inserted in chunks of 1,000 rows."""
    store = open_event_store(settings)
    try:
        keys = store.keys
        for start in range(0, count, 1000):
            rows = [
                (cid := uuid.uuid4(), wrap_key(keys.ring.current.aead, cid, new_data_key()))
                for _ in range(min(1000, count - start))
            ]
            for customer_id, wrapped in rows:
                keys._insert_if_absent(customer_id, wrapped)
    finally:
        store.close()


def measure(settings: Settings, count: int) -> tuple[float, float]:
    """(seconds wall, seconds of this process's CPU) of rotating `count` keys."""
    fill(settings, count)
    store = open_event_store(replace(settings, master_key=f"{NEW},old:{OLD}"))
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        rotated = rotate(store.keys)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert rotated == count
        assert plan(store.keys).to_rewrap == 0
        return wall, cpu
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("CUSTOMERS_TEST_POSTGRES_URL"))
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory() as folder:
            url = None
            if kind == "postgresql":
                url = f"{args.postgres}?schema=rot{uuid.uuid4().hex[:10]}"
            settings = Settings(data_dir=Path(folder), event_store_url=url, master_key=OLD)
            wall, cpu = measure(settings, args.keys)
            print(
                f"{kind:<10} {args.keys} keys: {wall:.2f}s wall ({args.keys / wall:,.0f} keys/s), "
                f"{cpu:.2f}s CPU ({args.keys / max(cpu, 1e-6):,.0f} keys per CPU second)"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
