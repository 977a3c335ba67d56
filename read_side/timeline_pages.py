"""A timeline page read from the timeline projection (`read_side.timeline_projection`): the
customer's index, then the fewest buckets that can hold the page, newest first.

The index says, per bucket, its position range and how many items of each kind it holds, so a
filter for a kind found only at the start of a 10,000-event stream reads that one bucket, not
the stream. Buckets of the customer's stream and of its ledger overlap in position, so buckets
are read by their top position, newest first, until the page's items are certain: the
`limit + 1` newest items found lie above the top of every bucket not read yet. A target's
page also reads, the same way, the customers merged into it (the items a merge moves).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Collection

from read_side.projections.store import ProjectionStore
from read_side.timeline import TimelineItem, TimelinePage
from read_side.timeline_projection import bucket_key
from shared.errors import FieldError, MalformedRequest
from shared.json_types import JSONObject

#: The kinds of a merged source's items its target's timeline shows: what a merge moves.
MOVED_KINDS = frozenset({"order", "payment", "invoice", "consent", "communication", "note"})


async def projected_page(
    store: ProjectionStore, tenant_id: str, customer_id: str, kinds: Collection[str] | None,
    limit: int, cursor: str | None, sources: Collection[str] = (),
) -> TimelinePage | None:  # fmt: skip
    """The page, or None when the projection holds nothing of this customer (none in the
    tenant, or not projected yet: the caller decides). `sources`: customers merged into it,
    whose items of the kinds a merge moves are shown too (positions order them all)."""
    below = decode_position(cursor)
    wanted = None if not kinds else set(kinds)
    found = await _items(store, tenant_id, customer_id, wanted, limit, below)
    if found is None:
        return None
    moved = MOVED_KINDS if wanted is None else MOVED_KINDS & wanted
    for source in sources if moved else ():
        found += await _items(store, tenant_id, source, set(moved), limit, below) or []
    found.sort(key=lambda item: item["p"], reverse=True)
    page = found[:limit]
    following = encode_position(page[-1]["p"]) if len(found) > limit else None
    items = [
        TimelineItem(item["at"], item["kind"], item["type"], item["summary"], item.get("actor"),
                     item.get("ref"))
        for item in page
    ]  # fmt: skip
    return TimelinePage(items, following)


async def _items(
    store: ProjectionStore, tenant_id: str, customer_id: str, wanted: set[str] | None,
    limit: int, below: int | None,
) -> list[JSONObject] | None:  # fmt: skip
    """At least the `limit + 1` newest items of one customer below `below` (all there are
    when fewer), or None when the projection holds nothing of it."""
    index = await store.get(tenant_id, customer_id)
    if index is None:
        return None
    candidates = sorted(
        (
            (name, entry)
            for name, entry in (index.doc.get("buckets") or {}).items()
            if (below is None or entry["low"] < below) and _count(entry, wanted)
        ),
        key=lambda pair: pair[1]["top"],
        reverse=True,
    )
    found: list[JSONObject] = []
    taken = 0
    while taken < len(candidates):
        need, chosen = limit + 1 - len(found), list[str]()
        while taken < len(candidates) and (need > 0 or not chosen):
            chosen.append(candidates[taken][0])
            need -= _count(candidates[taken][1], wanted)
            taken += 1
        buckets = await asyncio.gather(
            *(store.get(tenant_id, bucket_key(customer_id, name)) for name in chosen)
        )
        found += [
            item
            for bucket in buckets
            if bucket is not None
            for item in bucket.doc.get("items", ())
            if (below is None or item["p"] < below) and (wanted is None or item["kind"] in wanted)
        ]
        found.sort(key=lambda item: item["p"], reverse=True)
        if len(found) > limit and (
            taken == len(candidates) or candidates[taken][1]["top"] < found[limit]["p"]
        ):
            break
    return found


def _count(entry: JSONObject, wanted: set[str] | None) -> int:
    kinds: dict[str, int] = entry.get("kinds") or {}
    if wanted is None:
        return sum(kinds.values())
    return sum(count for kind, count in kinds.items() if kind in wanted)


def encode_position(position: int) -> str:
    """An opaque cursor: the log position the next page starts below."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_position(cursor: str | None) -> int | None:
    """The position a cursor names; 400 for anything this service did not hand out."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("p") and text[1:].isdigit() and 0 < len(text) < 20:
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise MalformedRequest(
        "The cursor is not valid.", errors=[FieldError("cursor", "use nextCursor as given")]
    )
