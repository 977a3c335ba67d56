"""Benchmark: what decoding typed payloads (`shared.events`) costs the read side's fold.

    python -m benchmarks.evolve [--customers 2000] [--rounds 3]

Every customer goes through every kind of event (as the aggregate emits them); the envelopes
are folded with `evolve_in_place`, as a rebuild stages documents. The baseline, in the same
run, folds the same envelopes with their payloads already decoded (each envelope caches its
payload), so the ratio is the share of the fold that decoding the stored attributes takes.
"""

from __future__ import annotations

import argparse
import gc
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from read_side.events import EventEnvelope
from read_side.views import CustomerDoc, evolve_in_place
from shared.events.catalog import CUSTOMER_TOPIC_PREFIX, event_name
from tests.unit.test_personal_fields import customer_events

_SKIP = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def envelopes(customers: int) -> list[EventEnvelope]:
    """Every event of one sample customer's life, repeated for `customers` customers."""
    sample = customer_events()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    result: list[EventEnvelope] = []
    for n in range(customers):
        for version, event in enumerate(sample, start=1):
            topic = CUSTOMER_TOPIC_PREFIX + type(event).__qualname__.split(".", 1)[1]
            data = {k: v for k, v in vars(event).items() if k not in _SKIP}
            data.pop("tenant_id"), data.pop("actor")
            at = start + timedelta(seconds=version)
            result.append(
                EventEnvelope(
                    len(result), "e", event_name(topic), f"c{n}", version, at, "t", "a", data
                )
            )
    return result


def fold(batch: list[EventEnvelope]) -> float:
    """Seconds to fold the batch into fresh documents."""
    docs: dict[str, CustomerDoc | None] = {}
    gc.collect()
    began = time.perf_counter()
    for envelope in batch:
        docs[envelope.customer_id] = evolve_in_place(docs.get(envelope.customer_id), envelope)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    decoding: list[float] = []
    decoded: list[float] = []
    for round_ in range(args.rounds):
        batch = envelopes(args.customers)
        ready = [replace(e) for e in batch]
        for envelope in ready:
            _ = envelope.payload  # decoded before the clock starts
        runs = [(decoding, batch), (decoded, ready)]
        for times, envelopes_ in runs if round_ % 2 else reversed(runs):  # alternate the order
            times.append(fold(envelopes_))
    count = len(batch)
    best, base = min(decoding), min(decoded)
    print(f"events folded: {count} ({args.customers} customers, best of {args.rounds})")
    print(f"fold, payloads decoded in the fold : {count / best:>10,.0f} events/s")
    print(f"fold, payloads decoded beforehand  : {count / base:>10,.0f} events/s (baseline)")
    print(f"ratio: {best / base:.2f}x the baseline's time (decoding is {1 - base / best:.0%})")


if __name__ == "__main__":
    main()
