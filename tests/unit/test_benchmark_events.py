"""The benchmarks' synthetic events are events the service would store: each decodes to its
declared payload. The analytics benchmark's had drifted from the catalogue (a created event
without its profile, visits without order ids) and died at its first batch, so its figures
could not be re-measured."""

from __future__ import annotations

import random
from collections.abc import Iterable

from benchmarks import analytics, evolve, searchdata, segments
from read_side.events import EventEnvelope
from shared.events.catalog import EVENTS

CUSTOMER_EVENTS = {event.name for event in EVENTS}


def assert_all_decode(envelopes: Iterable[EventEnvelope]) -> set[str]:
    seen: set[str] = set()
    for envelope in envelopes:
        assert envelope.type in CUSTOMER_EVENTS, envelope.type
        assert envelope.payload is not None, envelope  # raises on a wrong shape
        seen.add(envelope.type)
    return seen


def test_the_analytics_benchmark_events_decode() -> None:
    seen = assert_all_decode(analytics.synthetic(200, 2_000))
    assert {"customer.created", "customer.visit_recorded", "customer.payment_recorded"} <= seen


def test_the_segment_benchmark_events_decode() -> None:
    log = segments.Log()
    events = [event for index in range(200) for event in log.customer(index)]
    events += [log.change(200) for _ in range(200)]
    events.append(log.segment({"tags": ["vip"]}))
    assert len(assert_all_decode(events)) >= 4


def test_the_fold_and_search_benchmark_events_decode() -> None:
    assert_all_decode(evolve.envelopes(50))
    tenant = searchdata.Tenant("acme")
    batches = searchdata.batches(tenant, 300, random.Random(3), batch=100)
    assert_all_decode(event for batch in batches for event in batch)
