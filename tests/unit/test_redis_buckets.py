"""`redis_buckets.cover` holds every time of a range exactly once, with few buckets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from read_side.search.redis_buckets import DAY_MS, bucket_names, cover
from shared.clock import iso_utc

NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


def times(rng: random.Random) -> list[int]:
    """Epoch ms around bucket boundaries, far past and future included."""
    found = [rng.randrange(-(10**12), 10**14) for _ in range(300)]
    for _ in range(300):
        base = rng.choice([0, 10**12, 1_704_067_200_000, int(NOW.timestamp() * 1000)])
        found.append(base + rng.randrange(-3, 4) * DAY_MS + rng.choice([-1, 0, 1, 4321]))
    return found


def in_cover(moment: int, low: int | None, high: int | None) -> int:
    """How many parts of the cover hold `moment` (must be 1 inside the range, else 0)."""
    result = cover(low, high, NOW)
    names = (
        set(
            bucket_names(iso_utc(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=moment)))
        )
        if moment >= 0
        else set()
    )
    held = sum(1 for bucket in result.buckets if bucket in names)
    for lo, hi in result.edges:
        above = lo == "-inf" or moment >= int(lo)
        below = hi == "+inf" or moment <= int(hi)
        held += above and below
    return held


def test_every_moment_is_held_exactly_once_inside_and_never_outside() -> None:
    rng = random.Random(4)
    moments = times(rng)
    for _ in range(150):
        a, b = sorted(rng.sample(moments, 2))
        low = None if rng.random() < 0.15 else a
        high = None if rng.random() < 0.15 else b
        for moment in [*rng.sample(moments, 60), a, b, a - 1, b + 1]:
            inside = (low is None or moment >= low) and (high is None or moment <= high)
            assert in_cover(moment, low, high) == int(inside), (low, high, moment)


def test_a_year_range_uses_few_buckets_and_two_partial_days() -> None:
    low = int(datetime(2024, 3, 17, 15, tzinfo=UTC).timestamp() * 1000)
    high = int(datetime(2025, 3, 17, 9, tzinfo=UTC).timestamp() * 1000)
    result = cover(low, high, NOW)
    assert len(result.buckets) <= 14 + 31 + 31
    assert "2024-04" in result.buckets and "2025-02" in result.buckets
    assert len(result.edges) == 2
    assert cover(None, None, NOW).buckets[0] == "1970"
