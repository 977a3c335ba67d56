"""The membership property test (`tests/unit/test_segment_membership_property.py`) on the
PostgreSQL adapter of the store: random command sequences, definitions, clock jumps and
sweeps; members, counts and the outbox's announcements equal the filter over the view."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from read_side.segments.pg_store import PgMembershipStore
from read_side.segments.projection import SegmentMembershipProjection
from tests.unit.test_segment_membership_property import (
    Opener,
    _scenario,
    steps,
)
from tests.unit.test_segment_membership_property import (
    test_a_reapplied_batch_changes_nothing as reapplied,
)

_generations = itertools.count(1)


@pytest.fixture
def open_store(postgres_schema_url: str) -> Opener:
    """A fresh store per call: a new generation in the test's schema (dropped at the end)."""
    projection = SegmentMembershipProjection()
    return lambda clock: PgMembershipStore(
        postgres_schema_url, projection, generation=next(_generations), clock=clock
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(steps, max_size=14))
def test_projected_membership_is_the_filter_over_the_view(
    open_store: Opener, sequence: list[tuple[Any, ...]]
) -> None:
    asyncio.run(_scenario(open_store, sequence))


def test_a_reapplied_batch_changes_nothing(open_store: Opener) -> None:
    """The checkpoint lags a crash: the same batch again moves no member and announces none."""
    reapplied(open_store)
