"""createdAt ranges combined with other filters, on every search index: exact totals and
pages against a brute-force answer, across day, month and year boundaries, state changes
and unbounded ends."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from read_side.ports import ListQuery
from tests.contract.search_contract_base import Log, cid

START = datetime(2023, 12, 30, 22, 0, tzinfo=UTC)


async def every_page(index: Any, query: ListQuery) -> list[str]:
    """Ids of every page of the query; each page's total must be the same."""
    found: list[str] = []
    totals: set[int] = set()
    cursor = None
    while True:
        page = await index.search(replace(query, cursor=cursor, limit=4))
        found += page.ids
        totals.add(page.total)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert totals == {len(found)}, (query, totals, len(found))
    return found


async def test_ranges_with_filters_match_brute_force(index_at: Any) -> None:
    rng = random.Random(9)
    log, events = Log(), []
    created: dict[str, datetime] = {}
    tagged: set[str] = set()
    deleted: set[str] = set()
    moment = START
    for n in range(80):
        moment += timedelta(hours=rng.choice([1, 7, 23, 24, 60, 400]))
        customer = cid(n)
        created[customer] = moment
        tags = ["vip"] if rng.random() < 0.5 else []
        tagged.update([customer] if tags else [])
        events.append(log.created(customer, at=moment, firstName=f"N{n}", tags=tags))
    for customer in rng.sample(sorted(created), 15):
        events.append(log.event("deleted", "t1", customer, at=moment, reason="test"))
        deleted.add(customer)
    index = index_at(1)
    await index.apply(events, events[-1].position)
    times = sorted(created.values())
    for _ in range(40):
        first, last = sorted(rng.sample(times, 2))
        nudge = timedelta(milliseconds=rng.choice([0, 1]))
        low = None if rng.random() < 0.15 else first - nudge
        high = None if rng.random() < 0.15 else last + nudge
        state = rng.choice(["active", "active", "deleted"])
        for sort in ("-createdAt", "createdAt", "firstName"):
            query = ListQuery(
                "t1", tags=("vip",), state=state, sort=sort, created_from=low, created_to=high
            )
            expected = [
                c
                for c, at in created.items()
                if c in tagged
                and (c in deleted) == (state == "deleted")
                and (low is None or at >= low)
                and (high is None or at <= high)
            ]
            found = await every_page(index, query)
            assert sorted(found) == sorted(expected), (low, high, state, sort)
            if sort != "firstName":
                order = sorted(expected, key=lambda c: (created[c], c))
                assert found == (order[::-1] if sort.startswith("-") else order)
