"""createdAt buckets of the Redis search index (pure).

Each customer is also in one set per state and UTC year, month and day of its `createdAt`
(`P:b:<state>:2024`, `P:b:<state>:2024-05`, `P:b:<state>:2024-05-01`). A createdAt range
combined with other filters is then counted with one SINTERCARD per bucket inside the range
(C speed, no id crosses into Lua) plus a check of each customer of the partial days at its
ends, instead of materialising every id of the range in the script.

`cover` splits an inclusive range of epoch milliseconds into whole buckets, as few as
possible (whole years in the middle, months and days towards the ends), and at most a few
"edge" score ranges (partial days, and anything outside 1970 .. now + 400 days, which no
bucket enumerates) that the script reads from the createdAt zset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class Cover:
    """Whole buckets (`2024`, `2024-05`, `2024-05-01`) and edge score ranges (inclusive
    `ZRANGE ... BYSCORE` bounds as text, `-inf`/`+inf` allowed) that together hold exactly the
    range."""

    buckets: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]


def bucket_names(created_at: str) -> tuple[str, ...]:
    """The year, month and day buckets of an ISO-8601 UTC time (none when it is empty)."""
    if len(created_at) < 10:
        return ()
    return (created_at[:4], created_at[:7], created_at[:10])


def _ms(day: date) -> int:
    return (day - _EPOCH).days * DAY_MS


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def cover(low: int | None, high: int | None, now: datetime | None = None) -> Cover:
    """The buckets and edges of the inclusive range [`low`, `high`] (None: unbounded)."""
    now = now or datetime.now(UTC)
    floor, ceiling = 0, _ms((now + HORIZON).date()) - 1
    start = floor if low is None else max(low, floor)
    end = ceiling if high is None else min(high, ceiling)
    edges: list[tuple[str, str]] = []
    if low is None or low < floor:
        top = floor - 1 if high is None else min(high, floor - 1)
        if low is None or low <= top:
            edges.append(("-inf" if low is None else str(low), str(top)))
    if high is None or high > ceiling:
        bottom = ceiling + 1 if low is None else max(low, ceiling + 1)
        if high is None or bottom <= high:
            edges.append((str(bottom), "+inf" if high is None else str(high)))
    buckets: list[str] = []
    position = start
    while position <= end:
        day = _EPOCH + timedelta(days=position // DAY_MS)
        if position == _ms(day):
            year_end = _ms(date(day.year + 1, 1, 1)) - 1
            month_end = _ms(_next_month(day)) - 1
            if day.month == 1 and day.day == 1 and year_end <= end:
                buckets.append(f"{day.year:04d}")
                position = year_end + 1
                continue
            if day.day == 1 and month_end <= end:
                buckets.append(f"{day.year:04d}-{day.month:02d}")
                position = month_end + 1
                continue
            if position + DAY_MS - 1 <= end:
                buckets.append(day.isoformat())
                position += DAY_MS
                continue
        stop = min(end, _ms(day) + DAY_MS - 1)
        edges.append((str(position), str(stop)))
        position = stop + 1
    return Cover(tuple(buckets), tuple(edges))
