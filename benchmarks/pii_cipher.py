"""Benchmark: cost per event of sealing and opening personal values (µs), beside the plain
library mapper, with keys cached (the hot path) and for a new customer's first event.

    python -m benchmarks.pii_cipher [--events 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from shared.settings import Settings
from write_side.adapters.event_store import open_event_store
from write_side.domain.claims import EmailClaim
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

PROFILE = {
    "firstName": "Zebediah",
    "lastName": "Quillfeather",
    "email": "zeb.unique@example.com",
    "phone": "+14155550123",
    "notes": "allergic to kiwi",
    "tags": ["vip"],
}


def per_event_us(function: Callable[[Any], Any], items: Sequence[Any]) -> float:
    """Median of 5 runs, in CPU microseconds per item (steady under a busy machine)."""
    runs = []
    for _ in range(5):
        started = time.thread_time()
        for item in items:
            function(item)
        runs.append((time.thread_time() - started) / len(items) * 1e6)
    return sorted(runs)[2]


def customers(count: int) -> list[Customer]:
    """New customers with a full profile and one profile change each."""
    result = []
    for i in range(count):
        customer = Customer.register(
            tenant_id="bench", actor="bench", customer_type=CustomerType.NEW, profile=PROFILE
        )
        customer.update(actor="bench", changes={"notes": f"note {i}"}, customer_type=None)
        result.append(customer)
    return result


def main() -> None:
    """Print µs per event for each kind of event, with and without encryption."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        app = open_event_store(Settings(data_dir=Path(data_dir)))
        plain: Mapper[UUID] = Mapper(app.mapper.transcoder)
        batch = customers(args.events // 2)
        events = [e for c in batch for e in c.collect_events()]
        app.save(*events)  # stages, writes and caches the keys
        created = [e for e in events if e.originator_version == 1]
        changed = [e for e in events if e.originator_version == 2]
        claims = [EmailClaim(claim_id=c.id, owner_id=c.id).collect_events()[0] for c in batch]
        kinds = {"Created": created, "ProfileChanged": changed, "EmailClaim": claims}
        rows = {name: [app.mapper.to_stored_event(e) for e in es] for name, es in kinds.items()}
        print(f"{'event':<15}{'store plain':>12}{'sealed':>9}{'read plain':>12}{'opened':>9}  µs")
        for name, items in kinds.items():
            figures = [
                per_event_us(plain.to_stored_event, items),
                per_event_us(app.mapper.to_stored_event, items),
                per_event_us(plain.to_domain_event, rows[name]),
                per_event_us(app.mapper.to_domain_event, rows[name]),
            ]
            print(
                f"{name:<15}"
                + "".join(f"{f:>{w}.1f}" for f, w in zip(figures, (12, 9, 12, 9), strict=True))
            )
        fresh = [c.collect_events() for c in customers(2000)]
        firsts = [es[0] for es in fresh]
        started = time.thread_time()
        for event in firsts:
            app.mapper.to_stored_event(event)
        new_key = (time.thread_time() - started) / len(firsts) * 1e6
        app.keys.discard_staged()
        print(f"Created of a new customer (key generated, wrapped, staged): {new_key:.1f} µs")
        app.close()


if __name__ == "__main__":
    main()
