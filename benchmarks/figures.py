"""Small helpers shared by the benchmarks: percentiles, plain-text tables, machine load,
and cleaning up what a benchmark left in Redis."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `samples` (0.0 when empty)."""
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A left-aligned first column and right-aligned others, as plain text."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [value.rjust(width) for value, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    """CPU count and load averages (other work on the machine skews every figure)."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} {five:.2f} {fifteen:.2f}"


async def unlink_prefix(client: Any, prefix: str) -> int:
    """Delete every key starting with `prefix` (SCAN + UNLINK); returns how many."""
    removed = 0
    batch: list[Any] = []
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            removed += int(await client.unlink(*batch))
            batch = []
    if batch:
        removed += int(await client.unlink(*batch))
    return removed


def redis_db_url(url: str, db: int) -> str:
    """`url` pointing at Redis database number `db` (any path in `url` is replaced)."""
    base = url.split("://", 1)
    scheme, rest = (base[0], base[1]) if len(base) == 2 else ("redis", base[0])
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db}"
