"""`write_fresh` (a rebuild's insert-once path) leaves every adapter exactly as `apply` does:
the same documents for the view stores, the same pages for the search indexes."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from read_side.events import EventEnvelope
from read_side.ports import ListQuery
from read_side.views import CustomerDoc, evolve_in_place
from tests.contract.search_contract_base import Log, cid

QUERIES: tuple[dict[str, Any], ...] = (
    {},
    {"text": "an"},
    {"text": "lee 555"},
    {"tags": ("vip",)},
    {"state": "deleted"},
    {"state": "erased"},
    {"sort": "lastName", "limit": 7},
    {"sort": "-updatedAt", "type": "regular"},
    {"created_from": datetime(2024, 5, 1, 12, 5, tzinfo=UTC)},
)


def history(seed: int = 3) -> list[EventEnvelope]:
    """Creates, renames, retags, deletes, restores and erasures over two tenants."""
    rng = random.Random(seed)
    log, events = Log(), []
    people = [(f"t{n % 2 + 1}", cid(n)) for n in range(40)]
    for n, (tenant, customer) in enumerate(people):
        events.append(
            log.created(
                customer,
                tenant,
                customer_type="regular" if n % 3 else "new",
                firstName=rng.choice(["Ann", "Anders", "Bo", "Chloé"]),
                lastName=f"Lee{n}",
                email=f"p{n}@example.com",
                phone=f"+1415555{n:04d}",
                tags=["vip"] if n % 4 == 0 else [],
            )
        )
    for _ in range(120):
        tenant, customer = rng.choice(people)
        pick = rng.random()
        if pick < 0.6:
            events.append(log.changed(customer, tenant, lastName=f"Lee{rng.randrange(99)}"))
        elif pick < 0.75:
            events.append(log.changed(customer, tenant, tags=rng.choice([["vip"], [], ["x"]])))
        elif pick < 0.85:
            events.append(log.event("deleted", tenant, customer, reason="test"))
        elif pick < 0.95:
            events.append(log.event("restored", tenant, customer))
        else:
            events.append(log.event("erased", tenant, customer))
    return events


async def observed(adapter: Any, events: list[EventEnvelope]) -> list[Any]:
    """What readers see: documents (view stores) or every query's pages (search indexes)."""
    keys = list(dict.fromkeys((e.tenant_id, e.customer_id) for e in events))
    if hasattr(adapter, "get_many"):
        return [
            await adapter.get_many(tenant, [c for t, c in keys if t == tenant])
            for tenant in ("t1", "t2")
        ]
    pages = []
    for tenant in ("t1", "t2"):
        for query in QUERIES:
            cursor = None
            while True:
                page = await adapter.search(ListQuery(tenant, cursor=cursor, **query))
                pages.append((page.ids, page.total))
                cursor = page.next_cursor
                if cursor is None:
                    break
    return pages


async def test_write_fresh_matches_apply(adapter_at: Any) -> None:
    events = history()
    applied, fresh = adapter_at(1), adapter_at(2)
    for start in range(0, len(events), 25):
        batch = events[start : start + 25]
        await applied.apply(batch, batch[-1].position)
    staged: dict[tuple[str, str], CustomerDoc] = {}
    for event in events:
        doc = evolve_in_place(staged.get((event.tenant_id, event.customer_id)), event)
        if doc is not None:
            staged[(event.tenant_id, event.customer_id)] = doc
    docs = list(staged.values())
    await fresh.write_fresh(docs[:15])
    await fresh.write_fresh(docs[15:])
    await fresh.apply([], events[-1].position)
    assert await fresh.checkpoint() == await applied.checkpoint() == events[-1].position
    seen = await observed(fresh, events)
    assert seen == await observed(applied, events)
    assert all(part[0] if isinstance(part, tuple) else part for part in seen[:2])  # not vacuous


async def test_write_fresh_then_apply_continues_from_the_stored_documents(adapter_at: Any) -> None:
    events = history(seed=5)
    cut = len(events) // 2
    applied, fresh = adapter_at(1), adapter_at(2)
    await applied.apply(events, events[-1].position)
    staged: dict[tuple[str, str], CustomerDoc] = {}
    for event in events[:cut]:
        doc = evolve_in_place(staged.get((event.tenant_id, event.customer_id)), event)
        if doc is not None:
            staged[(event.tenant_id, event.customer_id)] = doc
    await fresh.write_fresh(list(staged.values()))
    await fresh.apply(events[cut:], events[-1].position)
    assert await observed(fresh, events) == await observed(applied, events)
