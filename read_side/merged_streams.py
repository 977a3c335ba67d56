"""Pages read across several customers' streams: a target's own and those of the customers
merged into it (docs/decisions.md "Merge and unmerge"). A merge moves the source's
communications to the target, but they are events of the source's stream; the target's
`GET .../communications` reads both, newest first by when they were recorded.

The cursor holds, per stream, the version the next page starts below (none: from its newest
event, `0`: read to its start), so a page reads at most `limit` events of each stream and a
merged customer's stream is read only while it is merged. Streams are the customer's, then
its sources' by id; the cursor names them by a digest, so a merge or unmerge between two
pages is a 400 (start again), never a page that skips or repeats.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Collection, Mapping

from read_side.events import EventEnvelope
from read_side.timeline import NewestEvents, StreamPage, encode_cursor, newest_matching
from shared.errors import FieldError, MalformedRequest
from shared.json_types import JSONObject

MAX_CHAIN = 20  # merges of merges followed; more would be a read model gone wrong
Below = dict[str, int | None]


def merged_sources(doc: JSONObject | None) -> list[str]:
    """The customers merged into this one, per its document's merge memory (`merges`)."""
    return list((doc or {}).get("merges") or {})


async def newest_across(
    newest: NewestEvents, tenant_id: str, customer_ids: list[str],
    types: Collection[str] | None, limit: int, cursor: str | None,
) -> StreamPage:  # fmt: skip
    """The `limit` newest events of `types` across the streams (the first one's missing
    stream is the 404), and the cursor of the rest."""
    below = decode(cursor, customer_ids) if cursor else dict.fromkeys(customer_ids)
    pages: dict[str, StreamPage] = {}
    for customer_id, start in below.items():
        if start != 0:
            after = None if start is None else encode_cursor(start)
            pages[customer_id] = await newest_matching(
                newest, tenant_id, customer_id, types, limit, after
            )
    ranked = sorted(
        ((event, customer_id) for customer_id, page in pages.items() for event in page.events),
        key=lambda pair: (pair[0].occurred_at, pair[0].position),
        reverse=True,
    )
    taken = ranked[:limit]
    following = {
        customer_id: _next(start, pages.get(customer_id), [e for e, c in taken if c == customer_id])
        for customer_id, start in below.items()
    }
    done = all(start == 0 for start in following.values())
    return StreamPage([event for event, _ in taken], None if done else encode(following))


def _next(start: int | None, page: StreamPage | None, taken: list[EventEnvelope]) -> int | None:
    """Where one stream's next page starts below."""
    if page is None:
        return 0  # read to its start before
    if len(taken) < len(page.events):  # some of this page were not taken: they come next
        return taken[-1].version if taken else start
    if page.next_cursor is None:
        return 0
    return page.events[-1].version


def encode(below: Mapping[str, int | None]) -> str:
    """An opaque cursor of several streams: which streams (a digest of their ids, in order)
    and where each goes on (empty: from its newest event)."""
    starts = ".".join("" if v is None else str(v) for v in below.values())
    text = f"m{_digest(list(below))}:{starts}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, customer_ids: list[str]) -> Below:
    """The per-stream starts of a cursor; 400 for anything this service did not hand out
    for these streams (a merge or unmerge since the first page changes them: start again)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        digest, _, starts = text.removeprefix("m").partition(":")
        values = [None if v == "" else int(v) for v in starts.split(".")]
        valid = (
            text.startswith("m") and digest == _digest(customer_ids)
            and len(values) == len(customer_ids) and all(v is None or v >= 0 for v in values)
        )  # fmt: skip
    except (binascii.Error, UnicodeDecodeError, ValueError):
        valid = False
    if not valid:
        raise MalformedRequest(
            "The cursor is not valid (or the customer was merged or unmerged since: start again).",
            errors=[FieldError("cursor", "use nextCursor as given")],
        )
    return dict(zip(customer_ids, values, strict=True))


def _digest(customer_ids: list[str]) -> str:
    return hashlib.sha256(",".join(customer_ids).encode()).hexdigest()[:8]
