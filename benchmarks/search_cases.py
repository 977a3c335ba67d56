"""The query kinds of the search benchmark, how one kind is timed, and the fed tenant."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from benchmarks import searchdata
from benchmarks.figures import percentile
from read_side.ports import SORT_KEYS, ListQuery, Page
from read_side.views import CustomerDoc, evolve

TENANT = "bench-search"
FERRET_KINDS = ("q=ann (prefix)", "type=regular&tag=vip", "sort=lastName")
Search = Callable[[ListQuery], Awaitable[Page]]


@dataclass(frozen=True)
class Case:
    """A kind of query: `make(i)` is the i-th query; `pages` times pages 2..5 of it."""

    name: str
    make: Callable[[int], ListQuery]
    pages: bool = False


def cases(tenant: searchdata.Tenant) -> list[Case]:
    """The query kinds of the benchmark."""
    tid, phones = tenant.tenant_id, tenant.phones

    def phone(i: int) -> str:
        return phones[i % len(phones)]

    found = [
        Case("q=ann (prefix)", lambda _: ListQuery(tid, text="ann")),
        Case("q=jo sm (two prefixes)", lambda _: ListQuery(tid, text="jo sm")),
        Case("q=<last 4 phone digits>", lambda i: ListQuery(tid, text=phone(i)[-4:])),
        Case("q=<all phone digits>", lambda i: ListQuery(tid, text=phone(i)[1:])),
        Case("type=regular&tag=vip", lambda _: ListQuery(tid, type="regular", tags=("vip",))),
    ]

    def window(query: ListQuery, days: int) -> Callable[[int], ListQuery]:
        """The query over a createdAt range of `days` days, starting somewhere in the span."""

        def make(i: int) -> ListQuery:
            start = tenant.started + timedelta(days=(i * 37) % max(1, 730 - days))
            return replace(query, created_from=start, created_to=start + timedelta(days=days))

        return make

    found += [
        Case("created 90 days", window(ListQuery(tid), 90)),
        Case("created 90 days & type=regular", window(ListQuery(tid, type="regular"), 90)),
        Case("created 1 year & tag=vip", window(ListQuery(tid, tags=("vip",)), 365)),
        Case("created 1 year & q=ann", window(ListQuery(tid, text="ann"), 365)),
        Case(
            "created 90 days & tag=vip, sort=lastName",
            window(ListQuery(tid, tags=("vip",), sort="lastName"), 90),
        ),
    ]
    for key in SORT_KEYS:
        for sort in (key, f"-{key}"):
            found.append(Case(f"sort={sort}", _always(ListQuery(tid, sort=sort))))
    found.append(Case("pages 2-5, sort=-createdAt", lambda _: ListQuery(tid), pages=True))
    found.append(
        Case(
            "pages 2-5, q=ann sort=lastName",
            lambda _: ListQuery(tid, text="ann", sort="lastName"),
            pages=True,
        )
    )
    return found


def _always(query: ListQuery) -> Callable[[int], ListQuery]:
    return lambda _: query


async def measure(case: Case, search: Search, count: int, warmup: int = 5) -> list[float]:
    """Latencies (ms) of `count` queries of one kind (pages 2..5 when `case.pages`)."""
    samples: list[float] = []
    index = 0
    while len(samples) < count + warmup:
        query = case.make(index)
        index += 1
        if not case.pages:
            started = time.perf_counter()
            await search(query)
            samples.append((time.perf_counter() - started) * 1000)
            continue
        page = await search(query)
        for _ in range(4):
            if page.next_cursor is None:
                break
            query = replace(query, cursor=page.next_cursor)
            started = time.perf_counter()
            page = await search(query)
            samples.append((time.perf_counter() - started) * 1000)
    return samples[warmup:]


async def feed(adapter: Any, seed: int, customers: int) -> tuple[searchdata.Tenant, float]:
    """Apply the generated batches; returns the tenant and events/s."""
    tenant = searchdata.Tenant(TENANT)
    started = time.perf_counter()
    for batch in searchdata.batches(tenant, customers, random.Random(seed)):
        await adapter.apply(batch, batch[-1].position)
    return tenant, tenant.events / (time.perf_counter() - started)


def final_docs(seed: int, customers: int) -> dict[str, CustomerDoc]:
    """The documents the view store holds after the generated events (evolved in memory)."""
    docs: dict[str, CustomerDoc] = {}
    for batch in searchdata.batches(searchdata.Tenant(TENANT), customers, random.Random(seed)):
        for event in batch:
            doc = evolve(docs.get(event.customer_id), event)
            if doc is not None:
                docs[event.customer_id] = doc
    return docs


Results = dict[str, dict[str, tuple[float, float, int, int]]]  # case -> column -> figures


async def run_cases(
    label: str, search: Search, kinds: list[Case], count: int, out: Results, warmup: int = 5
) -> None:
    """Measure every kind; record (p50, p99, queries, total matches)."""
    print(f"# querying {label} ...", flush=True)
    for case in kinds:
        samples = await measure(case, search, count, warmup)
        total = (await search(case.make(0))).total
        out.setdefault(case.name, {})[label] = (
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            len(samples),
            total,
        )
